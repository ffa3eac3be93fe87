// Tessera replicas as real child processes (`node bin/tessera.js serve`) on ephemeral
// ports, and the CLI run the way an operator runs it. Needs the compiled dist/ (npm test
// builds it first).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const BIN = fileURLToPath(new URL('../../bin/tessera.js', import.meta.url));
const run = promisify(execFile);

export interface Replica {
  url: string;
  proc: ChildProcess;
  /** Everything the process wrote to stdout so far (JSON log lines and bootstrap text). */
  output(): string;
  /** Everything the process wrote to stderr so far. */
  errors(): string;
  /** True while the process is running. */
  alive(): boolean;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  stop(): Promise<void>;
}

export async function startReplica(database: string, env: Record<string, string> = {}): Promise<Replica> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--database', database, '--log-level', 'info'], {
    env: { ...process.env, TESSERA_RATE_LIMIT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = once(proc, 'exit');

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica did not start within 20 s:\n${out}\n${err}`)), 20_000);
    const check = () => {
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === 'tessera listening' && entry.url) {
            clearTimeout(timer);
            proc.stdout!.off('data', check);
            resolve(entry.url);
            return;
          }
        } catch {
          // a partial line; wait for the rest
        }
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`replica exited with ${code} before listening:\n${out}\n${err}`));
    });
  });

  return {
    url,
    proc,
    output: () => out,
    errors: () => err,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs `tessera <args…>` and returns its stdout; rejects on a non-zero exit. */
export async function cli(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [BIN, ...args], { env: { ...process.env }, timeout: 30_000 });
  return stdout;
}

export async function createInstance(database: string, name: string): Promise<{ instanceId: string; token: string }> {
  const parsed = JSON.parse(await cli(['instances', 'create', '--name', name, '--json', '--database', database])) as {
    instance: { id: string };
    token: string;
  };
  return { instanceId: parsed.instance.id, token: parsed.token };
}
