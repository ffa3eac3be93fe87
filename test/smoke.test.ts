import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';

describe('server smoke', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t?.close());

  it('creates, lists, gets, patches and deletes a token over real HTTP', async () => {
    const admin = t.api(t.adminToken);
    const base = `/instances/${t.instanceId}/tokens`;
    const created = await admin('POST', base, { name: 'smoke', scope: ['instanceApiTokens.get'] });
    expect(created.status).toBe(201);
    expect(typeof created.body.token).toBe('string');
    const id = created.body.id;

    const list = await admin('GET', `${base}?filter=smo*`);
    expect(list.status).toBe(200);
    expect(list.body.items.map((i: any) => i.id)).toEqual([id]);
    expect(list.body.items[0].token).toBeUndefined();

    const got = await admin('GET', `${base}/${id}`);
    expect(got.body.name).toBe('smoke');

    const patched = await admin('PATCH', `${base}/${id}`, { status: 'inactive' });
    expect(patched.body.status).toBe('inactive');
    expect((await t.api(created.body.token)('GET', base)).status).toBe(401);

    expect((await admin('DELETE', `${base}/${id}`, {})).body).toEqual({ success: true });
    expect((await admin('GET', `${base}/${id}`)).status).toBe(404);
  });
});
