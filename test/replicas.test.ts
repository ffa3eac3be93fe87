// Several stateless replicas on one PostgreSQL database (SPEC 6): two real server
// processes on their own ports share a fresh database. A token revoked through one is
// refused by the other, and many writers through both keep the data exact.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeApi, type Api, type ApiResponse } from './helpers/server.js';
import { createTestDatabase, postgresAvailable, query, type TestDatabase } from './helpers/postgres.js';
import { cli, createInstance, startReplica, type Replica } from './helpers/replica.js';

const enabled = await postgresAvailable('multi-replica');

const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { kid: string }).kid;

/** Runs `tasks` with at most `limit` in flight. */
async function pool<T>(limit: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]();
      }
    }),
  );
  return results;
}

/** Polls `probe` until it returns true; returns the milliseconds waited and the attempts made. */
async function until(probe: () => Promise<boolean>, limitMs: number): Promise<{ ms: number; attempts: number; ok: boolean }> {
  const started = performance.now();
  let attempts = 0;
  for (;;) {
    attempts++;
    if (await probe()) return { ms: performance.now() - started, attempts, ok: true };
    if (performance.now() - started > limitMs) return { ms: performance.now() - started, attempts, ok: false };
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.skipIf(!enabled)('two replicas on one PostgreSQL database', () => {
  let db: TestDatabase;
  let a: Replica;
  let b: Replica;
  let instanceId: string;
  let adminToken: string;
  let adminA: Api;
  let adminB: Api;
  const base = () => `/instances/${instanceId}/tokens`;

  beforeAll(async () => {
    db = await createTestDatabase();
    // Both replicas start at the same moment on an empty database: migrations must
    // run once, under the lock, and both must come up.
    [a, b] = await Promise.all([startReplica(db.url), startReplica(db.url)]);
    ({ instanceId, token: adminToken } = await createInstance(db.url, 'replicas'));
    adminA = makeApi(a.url, adminToken);
    adminB = makeApi(b.url, adminToken);
  });
  afterAll(async () => {
    for (const r of [a, b]) if (r && !r.alive()) console.error(`replica died:\n${r.output().slice(-3000)}\n${r.errors()}`);
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
  });

  it('came up together: one migration, both replicas healthy', async () => {
    const applied = await query(db.url, 'SELECT name FROM kysely_migration');
    expect(applied.rows.map((r) => r.name)).toEqual(['0001_initial']);
    const defaults = await query(db.url, "SELECT id FROM instances WHERE name = 'default'");
    expect(defaults.rows, 'exactly one replica bootstraps the default instance').toHaveLength(1);
    expect((a.output() + b.output()).match(/Created instance "default"/g)).toHaveLength(1);
    expect((await query(db.url, 'SELECT kid FROM signing_keys')).rows, 'one first signing key').toHaveLength(1);
    for (const r of [a, b]) {
      const health = await makeApi(r.url, undefined)('GET', '/health');
      expect(health.status).toBe(200);
      expect(health.body.database).toMatchObject({ dialect: 'postgres', reachable: true });
    }
  });

  it('refuses on B a token deactivated or deleted through A, on the very next request', async () => {
    const made = await adminA('POST', base(), { name: 'revoke me', scope: ['instanceApiTokens.get'] });
    expect(made.status).toBe(201);
    const onB = makeApi(b.url, made.body.token);
    expect((await onB('GET', base())).status).toBe(200); // B has verified (and cached) the signature

    const patched = await adminA('PATCH', `${base()}/${made.body.id}`, { status: 'inactive' });
    expect(patched.status).toBe(200);
    const deactivation = await until(async () => (await onB('GET', base())).status === 401, 1000);
    console.log(`revocation A→B (deactivate): refused after ${deactivation.ms.toFixed(1)} ms, ${deactivation.attempts} request(s)`);
    // The record is read on every request, so the first request after the write is refused.
    expect(deactivation).toMatchObject({ ok: true, attempts: 1 });

    expect((await adminB('PATCH', `${base()}/${made.body.id}`, { status: 'active' })).status).toBe(200);
    const onA = makeApi(a.url, made.body.token);
    expect((await onA('GET', base())).status).toBe(200);

    expect((await adminB('DELETE', `${base()}/${made.body.id}`, {})).status).toBe(200);
    const deletion = await until(async () => (await onA('GET', base())).status === 401, 1000);
    console.log(`revocation B→A (delete): refused after ${deletion.ms.toFixed(1)} ms, ${deletion.attempts} request(s)`);
    expect(deletion).toMatchObject({ ok: true, attempts: 1 });
    expect((await onA('GET', base())).body.message).toMatch(/unknown or has been deleted/);
  });

  it('serves many concurrent writers through both replicas: no lost update, no duplicate id, no 500, exact counts', async () => {
    const statuses: number[] = [];
    const call = async (api: Api, method: string, path: string, body?: unknown): Promise<ApiResponse> => {
      const res = await api(method, path, body);
      statuses.push(res.status);
      return res;
    };
    const replicaApi = (i: number) => (i % 2 === 0 ? adminA : adminB);

    // 1. Creates, alternating replicas, 16 in flight.
    const created = await pool(
      16,
      Array.from({ length: 60 }, (_, i) => () => call(replicaApi(i), 'POST', base(), { name: `writer-${String(i).padStart(2, '0')}`, scope: ['all.Instance.read'] })),
    );
    expect(created.map((r) => r.status)).toEqual(new Array(60).fill(201));
    const ids = created.map((r) => r.body.id as string);
    expect(new Set(ids).size).toBe(60);

    // 2. At once: each token renamed through A while its description changes through B
    //    (both must survive), status flipped through both, the tokens themselves used on
    //    both replicas (lastUsed writes), and ten tokens deleted through both replicas.
    const doomed = ids.slice(50);
    const ops: Array<() => Promise<ApiResponse>> = [];
    ids.slice(0, 50).forEach((id, i) => {
      ops.push(() => call(adminA, 'PATCH', `${base()}/${id}`, { name: `renamed-${i}` }));
      ops.push(() => call(adminB, 'PATCH', `${base()}/${id}`, { description: `described-${i}` }));
      ops.push(() => call(replicaApi(i), 'PATCH', `${base()}/${id}`, { status: 'inactive' }));
      ops.push(() => call(replicaApi(i + 1), 'PATCH', `${base()}/${id}`, { status: i % 3 === 0 ? 'inactive' : 'active' }));
      ops.push(() => call(makeApi((i % 2 === 0 ? a : b).url, created[i].body.token), 'GET', `${base()}?perPage=1`));
    });
    const deletes: Array<Promise<ApiResponse>> = [];
    const shuffled = ops.sort(() => Math.random() - 0.5);
    const running = pool(16, shuffled);
    for (const id of doomed) deletes.push(call(adminA, 'DELETE', `${base()}/${id}`, {}), call(adminB, 'DELETE', `${base()}/${id}`, {}));
    await running;
    const deleteStatuses = (await Promise.all(deletes)).map((r) => r.status);

    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    // Reads authenticated by an all.Instance.read token that is inactive at that moment are 401; nothing else fails.
    expect(statuses.filter((s) => ![200, 201, 401, 404].includes(s))).toEqual([]);
    // Each doomed token deleted exactly once: one replica says success, the other 404.
    for (let i = 0; i < doomed.length; i++) expect([deleteStatuses[2 * i], deleteStatuses[2 * i + 1]].sort()).toEqual([200, 404]);

    // 3. Final state, seen identically through both replicas.
    for (const api of [adminA, adminB]) {
      const all = await api('GET', `${base()}?filter=renamed-*&perPage=1000`);
      expect(all.body.totalCount).toBe(50);
      expect(all.body.items).toHaveLength(50);
      for (const t of all.body.items) {
        const i = Number(t.name.slice('renamed-'.length));
        expect(t.description).toBe(`described-${i}`); // neither field change was lost
        if (i % 3 === 0) expect(t.status).toBe('inactive'); // both status writes said inactive
      }
      const everything = await api('GET', `${base()}?perPage=1000`);
      const active = everything.body.items.filter((t: { status: string }) => t.status === 'active').length;
      expect(everything.body.totalCount).toBe(everything.body.items.length);
      expect(everything.body.totalCount).toBe(51); // 50 writers + the admin token
      expect((await api('GET', `${base()}?filterField=status&filter=active&perPage=1`)).body.totalCount).toBe(active);
      expect((await api('GET', `${base()}?filterField=status&filter=inactive&perPage=1`)).body.totalCount).toBe(51 - active);
      for (const id of doomed) expect((await api('GET', `${base()}/${id}`)).status).toBe(404);
    }
  });

  it('never lets a pending lastUsed write block a request', async () => {
    const made = await adminA('POST', base(), { name: 'locked row', scope: ['instanceApiTokens.get'] });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      // Another session holds the token's row lock: any lastUsed write for it waits.
      await client.query('BEGIN');
      await client.query('SELECT id FROM tokens WHERE id = $1 FOR UPDATE', [made.body.id]);
      for (const r of [a, b]) {
        const api = makeApi(r.url, made.body.token);
        for (let i = 0; i < 3; i++) {
          const res = await Promise.race([
            api('GET', base()),
            new Promise<never>((_, reject) => setTimeout(() => reject(new Error('request blocked behind the lastUsed write')), 8000)),
          ]);
          expect(res.status).toBe(200);
          await new Promise((resolve) => setTimeout(resolve, 600)); // let a flush start and block
        }
      }
    } finally {
      await client.query('ROLLBACK').catch(() => {});
      await client.end();
    }
    const seen = await until(async () => (await adminB('GET', `${base()}/${made.body.id}`)).body.lastUsed !== undefined, 5000);
    expect(seen.ok).toBe(true);
  });

  it('stops tokens of a removed signing key on both replicas', async () => {
    const oldKid = kidOf(adminToken);
    const victim = await adminA('POST', base(), { name: 'old key', scope: ['instanceApiTokens.get'] });
    expect(kidOf(victim.body.token)).toBe(oldKid);
    const victimOnA = makeApi(a.url, victim.body.token);
    const victimOnB = makeApi(b.url, victim.body.token);
    expect((await victimOnB('GET', base())).status).toBe(200);

    await cli(['keys', 'rotate', '--database', db.url]);
    // A new admin, signed with the new key once A has seen the rotation.
    let fresh: ApiResponse | undefined;
    const rotated = await until(async () => {
      fresh = await adminA('POST', base(), { name: 'new key admin', scope: ['all.Instance'] });
      return kidOf(fresh.body.token) !== oldKid;
    }, 5000);
    expect(rotated.ok).toBe(true);
    expect((await victimOnB('GET', base())).status).toBe(200); // retired, not removed: still valid

    await cli(['keys', 'remove', oldKid, '--database', db.url]);
    const [onB, onA] = await Promise.all([
      until(async () => (await victimOnB('GET', base())).status === 401, 5000),
      until(async () => (await victimOnA('GET', base())).status === 401, 5000),
    ]);
    console.log(`signing-key removal: refused on A after ${onA.ms.toFixed(0)} ms, on B after ${onB.ms.toFixed(0)} ms`);
    expect(onA.ok && onB.ok).toBe(true);
    const newAdmin = makeApi(b.url, fresh!.body.token);
    expect((await newAdmin('GET', base())).status).toBe(200);
  });

  it('kept both processes running throughout', () => {
    expect(a.alive() && b.alive()).toBe(true);
    expect(a.output() + b.output()).not.toContain(adminToken);
  });
});
