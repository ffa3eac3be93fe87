// SPEC 6: a create that returned 201 is durable. The real `tessera serve` process is
// killed with SIGKILL right after the 201s and restarted on the same SQLite file; every
// created token exists and authenticates, and lifecycle changes that returned 200 hold.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { jwtsIn, spawnServe, type ServeProcess } from './helpers/cli.js';
import { makeApi, tempDir } from './helpers/server.js';

const dir = tempDir('tessera-durability-');
const database = join(dir, 'tessera.db');
const children: ServeProcess[] = [];

afterAll(async () => {
  for (const c of children) await c.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

it('tokens created (201) survive SIGKILL and authenticate after restart', async () => {
  const first = await spawnServe(['--database', database]);
  children.push(first);
  const [adminToken] = jwtsIn(first.stdout());
  expect(adminToken).toBeDefined();
  const instanceId = /with id ([0-9a-f]{24})/.exec(first.stdout())![1];
  const admin = makeApi(first.url, adminToken);
  const base = `/instances/${instanceId}/tokens`;

  const created: Array<{ id: string; token: string }> = [];
  for (let i = 0; i < 20; i++) {
    const res = await admin('POST', base, { name: `durable ${i}`, scope: ['instanceApiToken.get'] });
    expect(res.status).toBe(201);
    created.push({ id: res.body.id, token: res.body.token });
  }
  const revoked = await admin('POST', base, { name: 'revoked before the crash', scope: ['instanceApiToken.get'] });
  expect((await admin('PATCH', `${base}/${revoked.body.id}`, { status: 'inactive' })).status).toBe(200);
  const deleted = await admin('POST', base, { name: 'deleted before the crash', scope: ['instanceApiToken.get'] });
  expect((await admin('DELETE', `${base}/${deleted.body.id}`, {})).status).toBe(200);
  // Concurrent creates, then the kill straight after the last response.
  const burst = await Promise.all(
    Array.from({ length: 10 }, (_, i) => admin('POST', base, { name: `burst ${i}`, scope: ['instanceApiToken.get'] })),
  );
  for (const res of burst) {
    expect(res.status).toBe(201);
    created.push({ id: res.body.id, token: res.body.token });
  }

  const killed = await first.stop('SIGKILL');
  expect(killed.signal).toBe('SIGKILL');

  const second = await spawnServe(['--database', database]);
  children.push(second);
  expect(jwtsIn(second.stdout())).toEqual([]);
  const admin2 = makeApi(second.url, adminToken);
  const list = await admin2('GET', `${base}?perPage=1000`);
  expect(list.status).toBe(200);
  const ids = new Set(list.body.items.map((i: { id: string }) => i.id));
  for (const c of created) {
    expect(ids.has(c.id), c.id).toBe(true);
    const res = await makeApi(second.url, c.token)('GET', `${base}/${c.id}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  expect(list.body.totalCount).toBe(created.length + 2);
  expect((await makeApi(second.url, revoked.body.token)('GET', `${base}/${revoked.body.id}`)).status).toBe(401);
  expect((await makeApi(second.url, deleted.body.token)('GET', `${base}/${deleted.body.id}`)).status).toBe(401);
  expect((await admin2('GET', `${base}/${deleted.body.id}`)).status).toBe(404);
  const stopped = await second.stop('SIGTERM');
  expect(stopped.code).toBe(0);
});
