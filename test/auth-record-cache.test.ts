// On SQLite the server keeps authenticated token records in memory (it is the only
// writer of its database file). These tests prove the copy never outlives a change:
// a revoked token is refused on the very next request, even with requests in flight.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';

describe('in-memory token records (SQLite, sole writer)', () => {
  let t: TestServer;
  let base: string;
  beforeAll(async () => {
    t = await startTestServer();
    base = `/instances/${t.instanceId}/tokens`;
    expect(t.server.store.soleWriter).toBe(true);
  });
  afterAll(async () => t?.close());

  async function newToken(name: string) {
    const res = await t.api(t.adminToken)('POST', base, { name, scope: ['instanceApiTokens.get'] });
    expect(res.status).toBe(201);
    return { id: res.body.id as string, use: t.api(res.body.token as string) };
  }

  it('refuses a deactivated, then deleted, token on the next request after warm use', async () => {
    const admin = t.api(t.adminToken);
    const tok = await newToken('cached');
    for (let i = 0; i < 3; i++) expect((await tok.use('GET', base)).status).toBe(200);

    expect((await admin('PATCH', `${base}/${tok.id}`, { status: 'inactive' })).status).toBe(200);
    const refused = await tok.use('GET', base);
    expect(refused.status).toBe(401);
    expect(refused.body.message).toMatch(/inactive/);

    expect((await admin('PATCH', `${base}/${tok.id}`, { status: 'active' })).status).toBe(200);
    expect((await tok.use('GET', base)).status).toBe(200);

    expect((await admin('DELETE', `${base}/${tok.id}`, {})).status).toBe(200);
    const gone = await tok.use('GET', base);
    expect(gone.status).toBe(401);
    expect(gone.body.message).toMatch(/unknown or has been deleted/);
  });

  it('never serves a stale record to a request that starts after the revocation returned', async () => {
    const admin = t.api(t.adminToken);
    for (let round = 0; round < 10; round++) {
      const tok = await newToken(`race-${round}`);
      // Keep requests with the token in flight while it is deactivated.
      let stop = false;
      const background = (async () => {
        while (!stop) await tok.use('GET', `${base}?perPage=1`);
      })();
      await new Promise((r) => setTimeout(r, 5));
      const revoke = admin('PATCH', `${base}/${tok.id}`, { status: 'inactive' });
      const inflight = Array.from({ length: 8 }, () => tok.use('GET', `${base}?perPage=1`));
      expect((await revoke).status).toBe(200);
      const after = await Promise.all(Array.from({ length: 8 }, () => tok.use('GET', `${base}?perPage=1`)));
      stop = true;
      await background;
      await Promise.all(inflight);
      expect(after.map((r) => r.status)).toEqual(Array(8).fill(401));
    }
  });

  it('a renamed token authenticates with its new name recorded as creator of what it creates', async () => {
    const admin = t.api(t.adminToken);
    const res = await admin('POST', base, { name: 'maker', scope: ['instanceApiTokens.post', 'instanceApiTokens.get'] });
    const maker = t.api(res.body.token);
    expect((await maker('GET', base)).status).toBe(200);
    expect((await admin('PATCH', `${base}/${res.body.id}`, { name: 'maker renamed' })).status).toBe(200);
    const child = await maker('POST', base, { name: 'child', scope: ['instanceApiTokens.get'] });
    expect(child.status).toBe(201);
    expect(child.body.creatorName).toBe('maker renamed');
  });
});
