// SPEC 2.2–2.4 and 5: every validation rule is a 400 Validation whose message names
// the field and the rule; valid edge values are accepted. Real server, real HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, mintToken } from './helpers/security-checks.js';
import { startTestServer, type Api, type TestServer } from './helpers/server.js';

let t: TestServer;
let admin: Api;
let base: string;
let targetId: string;

beforeAll(async () => {
  t = await startTestServer();
  admin = t.api(t.adminToken);
  base = `/instances/${t.instanceId}/tokens`;
  targetId = (await mintToken(t, ['instanceApiTokens.get'], { name: 'target' })).id;
});
afterAll(async () => t?.close());

/** A 400 Validation whose message mentions every given fragment (field and rule). */
function expectValidation(res: { status: number; body: any }, ...fragments: string[]) {
  expectError(res as any, 400, 'Validation');
  for (const f of fragments) expect(res.body.message, res.body.message).toContain(f);
}

const future = () => new Date(Date.now() + 86_400_000).toISOString();

describe('GET collection query (SPEC 2.2)', () => {
  const bad: Array<[string, string[]]> = [
    ['sortField=description', ['query.sortField', 'one of']],
    ['sortField=NAME', ['query.sortField']],
    ['sortField=', ['query.sortField']],
    ['sortDirection=up', ['query.sortDirection', 'asc or desc']],
    ['sortDirection=ascending', ['query.sortDirection']],
    ['page=-1', ['query.page', 'non-negative integer']],
    ['page=1.5', ['query.page']],
    ['page=abc', ['query.page']],
    ['page=', ['query.page']],
    ['page=1e3', ['query.page']],
    ['page=99999999999999999999', ['query.page', 'non-negative integer', 'at most 15 digits']],
    ['perPage=0', ['query.perPage', '1 to 1000']],
    ['perPage=1001', ['query.perPage', '1 to 1000']],
    ['perPage=-5', ['query.perPage']],
    ['perPage=ten', ['query.perPage']],
    ['perPage=', ['query.perPage']],
    ['filterField=description&filter=x', ['query.filterField', 'name', 'status']],
    ['filterField=NAME&filter=x', ['query.filterField']],
    [`filter=${'a'.repeat(1025)}`, ['query.filter', '1024']],
    ['sortField=name&sortField=id', ['query.sortField', 'at most once']],
    ['perPage=5&perPage=6', ['query.perPage', 'at most once']],
    ['_links=yes', ['query._links', 'true, false, 1 or 0']],
    ['_actions=2', ['query._actions']],
    ['_embedded=TRUE', ['query._embedded']],
  ];
  for (const [query, fragments] of bad) {
    it(`rejects ${query.slice(0, 60)}`, async () => {
      expectValidation(await admin('GET', `${base}?${query}`), ...fragments);
    });
  }

  const good = [
    'sortDirection=ASC',
    'sortDirection=Desc',
    'sortDirection=',
    'page=0',
    'page=000',
    'perPage=1',
    'perPage=1000',
    'filterField=',
    'filterField=status',
    'filter=',
    'filterField=status&filter=',
    '_links=false&_actions=1&_embedded=0',
    'page=999999999&perPage=1000',
  ];
  for (const query of good) {
    it(`accepts ${query}`, async () => {
      const res = await admin('GET', `${base}?${query}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    });
  }

  it('applies the defaults', async () => {
    const res = await admin('GET', base);
    expect(res.body).toMatchObject({ page: 0, perPage: 100, sortField: 'name', sortDirection: 'asc', _type: 'apiTokens', instanceId: t.instanceId });
    expect(res.body.filter).toBeUndefined();
    expect(res.body.filterField).toBeUndefined();
  });

  it('normalises sortDirection and defaults filterField to name when filter is given', async () => {
    const res = await admin('GET', `${base}?sortDirection=DESC&filter=tar*`);
    expect(res.body).toMatchObject({ sortDirection: 'desc', filterField: 'name', filter: 'tar*' });
    expect(res.body.items.map((i: any) => i.id)).toEqual([targetId]);
  });

  it('a page past the end is empty with the right totalCount', async () => {
    const all = await admin('GET', base);
    const res = await admin('GET', `${base}?page=50&perPage=10`);
    expect(res.body).toMatchObject({ items: [], count: 0, totalCount: all.body.totalCount, page: 50, perPage: 10 });
  });
});

describe('losantdomain header (every endpoint)', () => {
  for (const value of ['not a host', 'a'.repeat(254), 'under_score.com', '-leading.com', 'x..y']) {
    it(`rejects ${JSON.stringify(value.slice(0, 30))}`, async () => {
      expectValidation(await admin('GET', base, undefined, { losantdomain: value }), 'header.losantdomain');
      expectValidation(await admin('GET', `${base}/${targetId}`, undefined, { losantdomain: value }), 'header.losantdomain');
      expectValidation(await admin('POST', base, { name: 'x' }, { losantdomain: value }), 'header.losantdomain');
      expectValidation(await admin('PATCH', `${base}/${targetId}`, {}, { losantdomain: value }), 'header.losantdomain');
      expectValidation(await admin('DELETE', `${base}/${targetId}`, {}, { losantdomain: value }), 'header.losantdomain');
    });
  }
  for (const value of ['example.com', 'api.losant.com', 'localhost', 'EXAMPLE.COM.']) {
    it(`accepts ${value}`, async () => {
      expect((await admin('GET', base, undefined, { losantdomain: value })).status).toBe(200);
    });
  }
});

describe('POST body (SPEC 2.3)', () => {
  const bad: Array<[string, unknown, string[]]> = [
    ['missing name', { description: 'x' }, ['body.name', 'required']],
    ['empty name', { name: '' }, ['body.name', 'empty']],
    ['name of 256 characters', { name: 'n'.repeat(256) }, ['body.name', '255']],
    ['numeric name', { name: 42 }, ['body.name', 'string']],
    ['null name', { name: null }, ['body.name', 'string']],
    ['description of 32768 characters', { name: 'x', description: 'd'.repeat(32768) }, ['body.description', '32767']],
    ['numeric description', { name: 'x', description: 5 }, ['body.description', 'string']],
    ['expirationDate in the past (ISO)', { name: 'x', expirationDate: '2001-01-01T00:00:00.000Z' }, ['body.expirationDate', 'future']],
    ['expirationDate in the past (ms)', { name: 'x', expirationDate: 1000 }, ['body.expirationDate', 'future']],
    ['expirationDate now-ish (ms)', { name: 'x', expirationDate: Date.now() - 1 }, ['body.expirationDate', 'future']],
    ['expirationDate not a date', { name: 'x', expirationDate: 'tomorrow' }, ['body.expirationDate', 'ISO 8601']],
    ['expirationDate impossible date', { name: 'x', expirationDate: '2030-13-45T00:00:00Z' }, ['body.expirationDate']],
    ['expirationDate fractional ms', { name: 'x', expirationDate: Date.now() + 1e6 + 0.5 }, ['body.expirationDate']],
    ['expirationDate boolean', { name: 'x', expirationDate: true }, ['body.expirationDate']],
    ['expirationDate beyond the date range', { name: 'x', expirationDate: 9e15 }, ['body.expirationDate']],
    ['empty scope', { name: 'x', scope: [] }, ['body.scope', 'empty']],
    ['duplicate scopes', { name: 'x', scope: ['instance.get', 'instance.get'] }, ['body.scope', 'duplicates']],
    ['unknown scope', { name: 'x', scope: ['devices.get'] }, ['body.scope[0]', 'instance scope', 'devices.get']],
    ['user scope', { name: 'x', scope: ['instance.get', 'all.User'] }, ['body.scope[1]', 'all.User']],
    ['scope as a string', { name: 'x', scope: 'all.Instance' }, ['body.scope', 'array']],
    ['non-string scope item', { name: 'x', scope: [1] }, ['body.scope[0]']],
    ['bad status', { name: 'x', status: 'paused' }, ['body.status', 'active', 'inactive']],
    ['unknown property', { name: 'x', token: 'abc' }, ['body.token', 'not an allowed property']],
    ['server-owned property', { name: 'x', creatorId: '575ec7417ae143cd83dc4a95' }, ['body.creatorId', 'not an allowed property']],
    ['an array', [{ name: 'x' }], ['body', 'JSON object']],
    ['a string', '"just text"', ['body', 'JSON object']],
    ['null', 'null', ['body']],
    ['invalid JSON', '{"name": ', ['body', 'not valid JSON']],
    ['__proto__ key', '{"name":"x","__proto__":{"admin":true}}', ['body']],
    ['a name with an unpaired surrogate', '{"name":"\\ud800 lone"}', ['body.name', 'unpaired surrogate']],
    ['a description with an unpaired surrogate', '{"name":"ok","description":"x\\udfff"}', ['body.description', 'unpaired surrogate']],
  ];
  for (const [label, body, fragments] of bad) {
    it(`rejects ${label}`, async () => {
      expectValidation(await admin('POST', base, body), ...fragments);
    });
  }

  it('rejects a missing body', async () => {
    expectValidation(await admin('POST', base, undefined, { 'content-type': 'application/json' }), 'body');
  });

  it('refuses a non-JSON content type with 415 and an oversized body with 413', async () => {
    expectError(await admin('POST', base, 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UnsupportedMediaType');
    expectError(await admin('POST', base, { name: 'x', description: 'd'.repeat(300 * 1024) }), 413, 'PayloadTooLarge');
  });

  it('accepts the edge values and applies the defaults', async () => {
    const res = await admin('POST', base, { name: 'n'.repeat(255), description: 'd'.repeat(32767) });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ scope: ['all.Instance'], status: 'active', _type: 'apiToken' });
    expect(res.body.expirationDate).toBeUndefined();
    expect(res.body.lastUsed).toBeUndefined();
    expect(typeof res.body.token).toBe('string');
  });

  it('accepts expirationDate as ISO text and as epoch milliseconds', async () => {
    const iso = future();
    const a = await admin('POST', base, { name: 'iso', expirationDate: iso });
    expect(a.status).toBe(201);
    expect(a.body.expirationDate).toBe(iso);
    const ms = Date.now() + 3_600_000;
    const b = await admin('POST', base, { name: 'ms', expirationDate: ms, status: 'inactive' });
    expect(b.status).toBe(201);
    expect(b.body.expirationDate).toBe(new Date(ms).toISOString());
    expect(b.body.status).toBe('inactive');
  });
});

describe('single token: path ids, PATCH body, 404 (SPEC 2.4)', () => {
  for (const method of ['GET', 'PATCH', 'DELETE']) {
    it(`${method} rejects a malformed apiTokenId`, async () => {
      for (const id of ['123', 'zzzzzzzzzzzzzzzzzzzzzzzz', `${'a'.repeat(25)}`, 'aaaaaaaaaaaaaaaaaaaaaaa%20']) {
        expectValidation(await admin(method, `${base}/${id}`, method === 'GET' ? undefined : {}), 'path.apiTokenId', '24-character hexadecimal');
      }
    });
    it(`${method} is 404 for an unknown id and for another instance's token`, async () => {
      const other = await t.server.service.createInstance(`other-${method}`);
      for (const id of ['ffffffffffffffffffffffff', other.admin.record.id]) {
        expectError(await admin(method, `${base}/${id}`, method === 'GET' ? undefined : {}), 404, 'NotFound');
      }
      // The other instance's token is untouched.
      expect((await t.api(other.admin.token)('GET', `/instances/${other.instance.id}/tokens/${other.admin.record.id}`)).status).toBe(200);
    });
  }

  it('GET accepts an upper-case apiTokenId', async () => {
    const res = await admin('GET', `${base}/${targetId.toUpperCase()}`);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(targetId);
  });

  const badPatch: Array<[string, unknown, string[]]> = [
    ['scope', { scope: ['all.Instance'] }, ['body.scope', 'cannot be changed']],
    ['expirationDate', { expirationDate: future() }, ['body.expirationDate', 'cannot be changed']],
    ['scope beside a valid field', { name: 'ok', scope: ['instance.get'] }, ['body.scope', 'cannot be changed']],
    ['empty name', { name: '' }, ['body.name', 'empty']],
    ['long name', { name: 'n'.repeat(256) }, ['body.name', '255']],
    ['long description', { description: 'd'.repeat(32768) }, ['body.description', '32767']],
    ['bad status', { status: 'deleted' }, ['body.status', 'active']],
    ['unknown property', { creationDate: future() }, ['body.creationDate', 'not an allowed property']],
    ['an array', [], ['body', 'JSON object']],
    ['null', 'null', ['body', 'JSON object']],
    ['a number', '5', ['body', 'JSON object']],
    ['invalid JSON', '{', ['body', 'not valid JSON']],
    ['a name with an unpaired surrogate', '{"name":"\\udbff"}', ['body.name', 'unpaired surrogate']],
  ];
  for (const [label, body, fragments] of badPatch) {
    it(`PATCH rejects ${label}`, async () => {
      expectValidation(await admin('PATCH', `${base}/${targetId}`, body), ...fragments);
    });
  }

  it('PATCH with {} or no body changes nothing; a rename updates lastUpdated', async () => {
    const before = (await admin('GET', `${base}/${targetId}`)).body;
    const empty = await admin('PATCH', `${base}/${targetId}`, {});
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual(before);
    const none = await admin('PATCH', `${base}/${targetId}`);
    expect(none.status).toBe(200);
    expect(none.body.lastUpdated).toBe(before.lastUpdated);
    await new Promise((r) => setTimeout(r, 5));
    const renamed = await admin('PATCH', `${base}/${targetId}`, { name: 'renamed target', description: '' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'renamed target', description: '', creationDate: before.creationDate, scope: before.scope });
    expect(Date.parse(renamed.body.lastUpdated)).toBeGreaterThan(Date.parse(before.lastUpdated));
    expect(renamed.body.token).toBeUndefined();
  });

  it('DELETE with {} or no body returns {"success": true}; later GETs are 404', async () => {
    const a = await mintToken(t, ['instance.get']);
    const b = await mintToken(t, ['instance.get']);
    expect(await admin('DELETE', `${base}/${a.id}`, {})).toMatchObject({ status: 200, body: { success: true } });
    expect(await admin('DELETE', `${base}/${b.id}`)).toMatchObject({ status: 200, body: { success: true } });
    expectError(await admin('GET', `${base}/${a.id}`), 404, 'NotFound');
    expectError(await admin('DELETE', `${base}/${a.id}`, {}), 404, 'NotFound');
  });
});

describe('HAL flags', () => {
  it('_links defaults to true, _actions to false; both can be switched', async () => {
    const plain = await admin('GET', `${base}/${targetId}`);
    expect(plain.body._links).toEqual({ self: { href: `${base}/${targetId}` }, instance: { href: `/instances/${t.instanceId}` } });
    expect(plain.body._actions).toBeUndefined();
    const flipped = await admin('GET', `${base}/${targetId}?_links=false&_actions=true`);
    expect(flipped.body._links).toBeUndefined();
    expect(flipped.body._actions).toEqual({
      get: { method: 'GET', href: `${base}/${targetId}` },
      patch: { method: 'PATCH', href: `${base}/${targetId}` },
      delete: { method: 'DELETE', href: `${base}/${targetId}` },
    });
  });

  it('_actions names only what the caller may do', async () => {
    const reader = (await mintToken(t, ['all.Instance.read'])).token;
    const one = await t.api(reader)('GET', `${base}/${targetId}?_actions=1`);
    expect(Object.keys(one.body._actions)).toEqual(['get']);
    const list = await t.api(reader)('GET', `${base}?_actions=true`);
    expect(Object.keys(list.body._actions)).toEqual(['get']);
    expect(Object.keys((await admin('GET', `${base}?_actions=true`)).body._actions).sort()).toEqual(['get', 'post']);
  });

  it('collection and created token carry links; token appears only in the 201', async () => {
    const list = await admin('GET', base);
    expect(list.body._links.self.href).toBe(base);
    for (const item of list.body.items) {
      expect(item.token).toBeUndefined();
      expect(item._links.self.href).toBe(`${base}/${item.id}`);
    }
    const created = await admin('POST', `${base}?_links=0`, { name: 'no links' });
    expect(created.body._links).toBeUndefined();
    expect(typeof created.body.token).toBe('string');
    expect((await admin('GET', `${base}/${created.body.id}`)).body.token).toBeUndefined();
  });
});

it('every response to the inputs above is JSON and never a 500', async () => {
  const weird = ['%', '%zz', '%E0%A4%A', '..%2f', '\u0000', 'ffffffffffffffffffffffff/extra', 'a'.repeat(300)];
  for (const w of weird) {
    const res = await admin('GET', `${base}/${w}`);
    expect(res.status, w).toBeGreaterThanOrEqual(400);
    expect(res.status, w).toBeLessThan(500);
    expect(typeof res.body.type, w).toBe('string');
  }
});
