// Crash safety (SPEC 6): `tessera serve` is killed with SIGKILL in the middle of a
// create-heavy load, then started again on the same SQLite file. Every token whose
// create returned 201 must exist and authenticate; no row may be half-written; the
// per-instance counters must agree with the rows; integrity_check must be ok.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createInstance, startServerProcess, stopServerProcess, type ServerProcess } from '../scripts/soak.mjs';
import { shapeProblem } from './helpers/spec-shapes.js';
import { tempDir } from './helpers/server.js';

const WORKERS = 24;
const ROUNDS = 2;

interface Acked {
  id: string;
  token: string;
}

/** Creates tokens from WORKERS concurrent loops until `stop` is set or the server dies. */
function createLoad(url: string, instanceId: string, admin: string, acked: Acked[]) {
  let stop = false;
  let failures = 0;
  let n = 0;
  const loops = Array.from({ length: WORKERS }, async (_, w) => {
    while (!stop) {
      try {
        const res = await fetch(`${url}/instances/${instanceId}/tokens`, {
          method: 'POST',
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: `crash-${w}-${n++}`, description: 'd'.repeat(200), scope: ['instanceApiTokens.get'] }),
        });
        const body = await res.json();
        if (res.status === 201) acked.push({ id: body.id, token: body.token });
        else failures++;
      } catch {
        // The connection died with the server: this create was never acknowledged.
        failures++;
        if (stop) return;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  });
  return {
    stop: async () => {
      stop = true;
      await Promise.all(loops);
      return failures;
    },
  };
}

describe('crash safety under SIGKILL', () => {
  const dir = tempDir('tessera-crash-');
  const database = join(dir, 'tessera.db');
  let server: ServerProcess | undefined;
  afterAll(async () => {
    if (server) await stopServerProcess(server.child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('every acknowledged create survives kill -9 and authenticates after restart', async () => {
    const { instanceId, token: admin } = createInstance(database, 'crash');
    const acked: Acked[] = [];
    let cutOff = 0;
    for (let round = 0; round < ROUNDS; round++) {
      server = await startServerProcess(database);
      const before = acked.length;
      const load = createLoad(server.url, instanceId, admin, acked);
      // Kill once a good number of creates have been acknowledged, with more in flight.
      while (acked.length < before + 150) await new Promise((r) => setTimeout(r, 10));
      const dead = new Promise((r) => server!.child.once('exit', r));
      server.child.kill('SIGKILL');
      await dead;
      cutOff += await load.stop();
      server = undefined;
    }
    expect(acked.length).toBeGreaterThanOrEqual(ROUNDS * 150);

    server = await startServerProcess(database);
    const url = server.url;
    // Every acknowledged token exists (seen by the admin) and authenticates itself.
    for (let i = 0; i < acked.length; i += 16) {
      await Promise.all(
        acked.slice(i, i + 16).map(async ({ id, token }) => {
          const got = await fetch(`${url}/instances/${instanceId}/tokens/${id}`, { headers: { authorization: `Bearer ${admin}` } });
          expect(got.status, `acknowledged token ${id} is missing`).toBe(200);
          const own = await fetch(`${url}/instances/${instanceId}/tokens?perPage=1`, { headers: { authorization: `Bearer ${token}` } });
          expect(own.status, `acknowledged token ${id} does not authenticate`).toBe(200);
        }),
      );
    }
    // Everything stored is whole: the list (every row) is SPEC-shaped.
    const list = await fetch(`${url}/instances/${instanceId}/tokens?perPage=1000`, { headers: { authorization: `Bearer ${admin}` } });
    const body = await list.json();
    expect(shapeProblem('list', list.status, body)).toBeUndefined();
    expect(body.totalCount).toBeGreaterThanOrEqual(acked.length + 1);
    expect(await stopServerProcess(server.child)).toBe(0);
    server = undefined;

    const db = new BetterSqlite3(database, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const rows = db.prepare('SELECT * FROM tokens').all() as Array<Record<string, unknown>>;
      expect(rows.length).toBe(body.totalCount);
      for (const row of rows) {
        // No half-written token: every column a token needs is present and well-formed.
        expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
        expect(row.id).toMatch(/^[0-9a-f]{24}$/);
        expect(row.instance_id).toBe(instanceId);
        expect(Array.isArray(JSON.parse(String(row.scope)))).toBe(true);
        expect(['active', 'inactive']).toContain(row.status);
        expect(typeof row.name).toBe('string');
      }
      const counted = db.prepare('SELECT COALESCE(SUM(n), 0) AS n FROM instance_counts WHERE instance_id = ?').get(instanceId) as { n: number };
      expect(Number(counted.n)).toBe(rows.length);
    } finally {
      db.close();
    }
    console.log(`crash safety: ${ROUNDS} SIGKILLs during creates, ${acked.length} acknowledged creates (all present and authenticating after restart), ${cutOff} creates cut off unacknowledged`);
  }, 120_000);
});
