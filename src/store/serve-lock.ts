// One `tessera serve` per SQLite file. The server keeps authenticated token records in
// memory because it is the only writer of its file (TokenStore.soleWriter); a second
// server on the same file would not see the first one's revocations. A lock file next
// to the database, holding the owner's pid, refuses that second server. A lock left by
// a process that no longer runs (killed with SIGKILL) is taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process whose parent has not reaped it yet still answers signal 0.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

function owner(lockPath: string): number | undefined {
  try {
    const pid = Number(readFileSync(lockPath, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export class ServeLockError extends Error {}

/** Takes the lock for `dbPath`; returns the function that releases it. */
export function acquireServeLock(dbPath: string): () => void {
  const lockPath = `${dbPath}.serve-lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        if (owner(lockPath) === process.pid) {
          try {
            unlinkSync(lockPath);
          } catch {
            // already gone
          }
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = owner(lockPath);
      if (pid !== undefined && running(pid)) {
        throw new ServeLockError(
          `another tessera server (pid ${pid}) is serving ${dbPath}: run one server per SQLite file, or PostgreSQL for several replicas`,
        );
      }
      try {
        unlinkSync(lockPath); // left by a process that is gone
      } catch {
        // someone else removed it first; try again
      }
    }
  }
  throw new ServeLockError(`could not take the server lock ${lockPath}`);
}
