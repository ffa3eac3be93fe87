// One server per SQLite file: the server keeps token records in memory as the file's
// only writer, so a second server on the same file is refused, and a lock left by a
// killed server is taken over.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, tempDir, type TestServer } from './helpers/server.js';

describe('one server per SQLite file', () => {
  const open: TestServer[] = [];
  const dirs: string[] = [];
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };
  afterEach(async () => {
    while (open.length) await open.pop()!.close();
    while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
  });

  it('refuses a second server on the same file, and allows one once the first has stopped', async () => {
    const database = join(dir(), 'shared.db');
    const first = await startTestServer({ database });
    await expect(startTestServer({ database })).rejects.toThrow(/another tessera server \(pid \d+\) is serving .*shared\.db/);
    // The refused start changed nothing: the first server still answers.
    const res = await first.api(first.adminToken)('GET', `/instances/${first.instanceId}/tokens`);
    expect(res.status).toBe(200);
    await first.close();
    expect(existsSync(`${database}.serve-lock`)).toBe(false);
    open.push(await startTestServer({ database }));
  });

  it('takes over a lock left by a process that no longer runs', async () => {
    const database = join(dir(), 'stale.db');
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(`${database}.serve-lock`, String(gone));
    const server = await startTestServer({ database });
    open.push(server);
    expect((await server.api(server.adminToken)('GET', `/instances/${server.instanceId}/tokens`)).status).toBe(200);
  });
});
