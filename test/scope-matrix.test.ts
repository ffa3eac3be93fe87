// SPEC 3: for each of the five actions, every way of failing authentication is 401,
// another instance is 403, every granting scope is allowed and every other scope of
// the vocabulary is refused with 403 naming the granting scopes. Then the coverage
// (no-escalation) rules on create and the re-activation rule on patch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTANCE_SCOPES } from '../src/domain/scopes.js';
import {
  ACTION_CASES,
  AUTH_FAILURES,
  callAction,
  expectError,
  expectNoEcho,
  grantingScopesOf,
  mintToken,
  nonGrantingScopesOf,
  pathFor,
} from './helpers/security-checks.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
let otherInstanceId: string;
let otherAdminToken: string;
/** One token per scope, minted once and shared by the matrix. */
const tokenByScope = new Map<string, string>();

beforeAll(async () => {
  t = await startTestServer();
  const other = await t.server.service.createInstance('other');
  otherInstanceId = other.instance.id;
  otherAdminToken = other.admin.token;
  for (const s of [...INSTANCE_SCOPES, 'all.User', 'all.User.read']) {
    tokenByScope.set(s, (await mintToken(t, [s], { name: `holds ${s}` })).token);
  }
});
afterAll(async () => t?.close());

for (const c of ACTION_CASES) {
  describe(`${c.action} (${c.method})`, () => {
    for (const f of AUTH_FAILURES) {
      it(`401 Unauthorized: ${f.label}`, async () => {
        const res = await callAction(t, c, undefined, { headers: f.headers(t.adminToken), callerScope: ['all.Instance'] });
        expectError(res, 401, 'Unauthorized');
        expectNoEcho(res, t.adminToken);
      });
    }

    it('403 Forbidden: a valid token of another instance on this instance', async () => {
      const res = await callAction(t, c, otherAdminToken, { callerScope: ['all.Instance'] });
      expectError(res, 403, 'Forbidden');
    });

    it('403 Forbidden (not 404): this instance token on another instance, existing or not', async () => {
      for (const instanceId of [otherInstanceId, 'ffffffffffffffffffffffff', otherInstanceId.toUpperCase()]) {
        const res = await callAction(t, c, t.adminToken, { instanceId, callerScope: ['all.Instance'] });
        expectError(res, 403, 'Forbidden');
      }
    });

    it('accepts an upper-case spelling of its own instance id', async () => {
      const res = await callAction(t, c, t.adminToken, { instanceId: t.instanceId.toUpperCase(), callerScope: ['all.Instance'] });
      expect(res.status, JSON.stringify(res.body)).toBe(c.successStatus);
    });

    it('401 comes before the instance-id and scope checks', async () => {
      const target = c.needsTarget ? 'not-an-id' : undefined;
      const res = await t.api('garbage')(c.method, pathFor(c, 'not-an-id', target), c.body?.([]));
      expectError(res, 401, 'Unauthorized');
    });

    it('400 for a malformed instance id comes before 403', async () => {
      const weak = tokenByScope.get('instance.get')!;
      const res = await t.api(weak)(c.method, pathFor(c, 'not-an-id', 'ffffffffffffffffffffffff'), c.body?.([]));
      expectError(res, 400, 'Validation');
      expect(res.body.message).toContain('instanceId');
    });

    it('403 for another instance or a missing scope comes before validating the rest of the request', async () => {
      const junk = c.needsTarget ? 'not-an-id' : undefined;
      const query = '?perPage=0&_links=maybe';
      const body = c.method === 'GET' ? undefined : { bogus: true };
      const other = await t.api(t.adminToken)(c.method, pathFor(c, otherInstanceId, junk) + query, body);
      expectError(other, 403, 'Forbidden');
      const weak = await t.api(tokenByScope.get('instance.get'))(c.method, pathFor(c, t.instanceId, junk) + query, body);
      expectError(weak, 403, 'Forbidden');
    });

    for (const scope of grantingScopesOf(c.action)) {
      it(`allowed with granting scope ${scope}`, async () => {
        const res = await callAction(t, c, tokenByScope.get(scope), { callerScope: [scope] });
        expect(res.status, JSON.stringify(res.body)).toBe(c.successStatus);
      });
    }

    it('refused with 403 for every non-granting scope, naming the granting scopes', async () => {
      const refused = nonGrantingScopesOf(c.action);
      expect(refused.length).toBeGreaterThan(70);
      // One target serves all calls: none of them may touch it.
      const target = c.needsTarget ? (await mintToken(t, ['instanceApiTokens.get'])).id : undefined;
      for (const scope of refused) {
        const res = await callAction(t, c, tokenByScope.get(scope), { callerScope: [scope], targetId: target });
        expect(res.status, `${scope}: ${JSON.stringify(res.body)}`).toBe(403);
        expect(res.body.type).toBe('Forbidden');
        for (const g of grantingScopesOf(c.action)) expect(res.body.message).toContain(g);
      }
      if (target) expect((await t.api(t.adminToken)('GET', pathFor(c, t.instanceId, target))).body.description).toBeUndefined();
    });
  });
}

describe('no escalation on create (SPEC 3.2 coverage)', () => {
  const post = (token: string, scope: string[]) =>
    t.api(token)('POST', `/instances/${t.instanceId}/tokens`, { name: 'escalation check', scope });

  it('all.Instance may grant any instance scope, including all.Instance itself', async () => {
    const res = await post(t.adminToken, [...INSTANCE_SCOPES]);
    expect(res.status).toBe(201);
    expect(res.body.scope).toEqual([...INSTANCE_SCOPES]);
  });

  it('the default scope (all.Instance) needs all.Instance', async () => {
    const caller = (await mintToken(t, ['instanceApiTokens.*', 'instanceApiToken.*'])).token;
    const res = await t.api(caller)('POST', `/instances/${t.instanceId}/tokens`, { name: 'default scope' });
    expectError(res, 403, 'Forbidden');
    expect(res.body.message).toContain('all.Instance');
  });

  it('all.User covers every instance scope', async () => {
    const res = await post(tokenByScope.get('all.User')!, ['all.Instance', 'instance.patch']);
    expect(res.status).toBe(201);
  });

  it('R.* covers R.v and R.* but not another resource', async () => {
    const caller = tokenByScope.get('instanceApiTokens.*')!;
    expect((await post(caller, ['instanceApiTokens.get', 'instanceApiTokens.post'])).status).toBe(201);
    expect((await post(caller, ['instanceApiTokens.*'])).status).toBe(201);
    const other = await post(caller, ['instanceApiTokens.get', 'instanceApiToken.get']);
    expectError(other, 403, 'Forbidden');
    expect(other.body.message).toContain('instanceApiToken.get');
  });

  it('a specific scope covers only itself', async () => {
    const caller = tokenByScope.get('instanceApiTokens.post')!;
    expect((await post(caller, ['instanceApiTokens.post'])).status).toBe(201);
    const wider = await post(caller, ['instanceApiTokens.*']);
    expectError(wider, 403, 'Forbidden');
    expect(wider.body.message).toContain('instanceApiTokens.*');
  });

  it('all.Instance.read covers read actions and itself, not writes, not all.Instance', async () => {
    const caller = (await mintToken(t, ['all.Instance.read', 'instanceApiTokens.post'])).token;
    expect((await post(caller, ['all.Instance.read'])).status).toBe(201);
    expect((await post(caller, ['instance.get', 'instanceApiTokens.get', 'instanceApiToken.get', 'instanceMembers.get'])).status).toBe(201);
    for (const s of ['instance.patch', 'instanceApiToken.delete', 'instanceApiTokens.*', 'all.Instance']) {
      const res = await post(caller, ['instanceApiTokens.get', s]);
      expectError(res, 403, 'Forbidden');
      expect(res.body.message, s).toContain(s);
    }
  });

  it('names the first uncovered scope', async () => {
    const caller = tokenByScope.get('instanceApiTokens.post')!;
    const res = await post(caller, ['instanceApiTokens.post', 'instance.get', 'instance.patch']);
    expectError(res, 403, 'Forbidden');
    expect(res.body.message).toContain('instance.get');
    expect(res.body.message).not.toContain('instance.patch');
  });

  it('records the creator', async () => {
    const res = await post(t.adminToken, ['instance.get']);
    expect(res.body).toMatchObject({ creatorType: 'apiToken', creatorId: t.adminTokenId });
    expect(typeof res.body.creatorName).toBe('string');
  });
});

describe('re-activation rule on patch', () => {
  const patch = (token: string, id: string, body: unknown) =>
    t.api(token)('PATCH', `/instances/${t.instanceId}/tokens/${id}`, body);

  it('a narrow token cannot revive a broad one, but may deactivate it and rename it', async () => {
    const narrow = (await mintToken(t, ['instanceApiToken.patch', 'instanceApiToken.get'])).token;
    const broad = await mintToken(t, ['all.Instance']);
    const off = await patch(narrow, broad.id, { status: 'inactive' });
    expect(off.status).toBe(200);
    expect(off.body.status).toBe('inactive');
    expect((await patch(narrow, broad.id, { name: 'renamed while inactive' })).status).toBe(200);
    const on = await patch(narrow, broad.id, { status: 'active' });
    expectError(on, 403, 'Forbidden');
    expect(on.body.message).toContain('all.Instance');
    const still = await t.api(t.adminToken)('GET', `/instances/${t.instanceId}/tokens/${broad.id}`);
    expect(still.body.status).toBe('inactive');
    expect(still.body.name).toBe('renamed while inactive');
    expectError(await t.api(broad.token)('GET', `/instances/${t.instanceId}/tokens`), 401, 'Unauthorized');
  });

  it('a caller that covers the scopes may re-activate', async () => {
    const caller = (await mintToken(t, ['instanceApiToken.*', 'instance.get'])).token;
    const target = await mintToken(t, ['instance.get', 'instanceApiToken.get'], { status: 'inactive' });
    const on = await patch(caller, target.id, { status: 'active' });
    expect(on.status).toBe(200);
    expect(on.body.status).toBe('active');
    expect((await t.api(target.token)('GET', `/instances/${t.instanceId}/tokens/${target.id}`)).status).toBe(200);
  });

  it('setting active on an already active token needs no coverage', async () => {
    const narrow = tokenByScope.get('instanceApiToken.patch')!;
    const broad = await mintToken(t, ['all.Instance']);
    expect((await patch(narrow, broad.id, { status: 'active' })).status).toBe(200);
  });
});
