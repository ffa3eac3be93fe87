// Property-based fuzzing of every endpoint over real HTTP: random and adversarial query
// strings, path ids, headers and JSON bodies. For every case the answer must be a
// SPEC-shaped success or the one error body with the status its type names, never a
// 5xx; a rejected request must leave the database byte-for-byte as it was; the server
// must stay up. The number of cases run is printed at the end.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDbReader, type DbReader } from './helpers/db-snapshot.js';
import { shapeProblem, type Route } from './helpers/spec-shapes.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// Runs per property; FUZZ_SCALE=10 (for example) fuzzes ten times longer.
const SCALE = Math.max(0.1, Number(process.env.FUZZ_SCALE ?? 1));
const runs = (n: number) => Math.max(10, Math.round(n * SCALE));
const casesRun: Record<string, number> = {};
// Each property's time budget grows with the scale (a timed-out property would keep
// sending requests while the next one runs).
const BUDGET = Math.round(60_000 * Math.max(1, SCALE));

let t: TestServer;
let db: DbReader;
let targetId: string;
const secrets: string[] = [];

const ROUTE_BY_SHAPE: Array<[string, RegExp, Route]> = [
  ['GET', /^\/instances\/[A-Fa-f0-9]{24}\/tokens$/, 'list'],
  ['POST', /^\/instances\/[A-Fa-f0-9]{24}\/tokens$/, 'create'],
  ['GET', /^\/instances\/[A-Fa-f0-9]{24}\/tokens\/[A-Fa-f0-9]{24}$/, 'get'],
  ['PATCH', /^\/instances\/[A-Fa-f0-9]{24}\/tokens\/[A-Fa-f0-9]{24}$/, 'patch'],
  ['DELETE', /^\/instances\/[A-Fa-f0-9]{24}\/tokens\/[A-Fa-f0-9]{24}$/, 'delete'],
];
function routeOf(method: string, path: string): Route | undefined {
  let bare = path.split('?')[0];
  try {
    bare = decodeURIComponent(bare); // the router matches the decoded path
  } catch {
    // malformed percent-encoding: no route matches
  }
  return ROUTE_BY_SHAPE.find(([m, re]) => m === method && re.test(bare))?.[2];
}

interface Sent {
  status: number;
  body: any;
  text: string;
}

/**
 * Sends one request and checks the invariants every case shares: no 5xx, a well-formed
 * body, no secret echoed, and no change to the database when the request was refused.
 */
async function send(property: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Sent> {
  casesRun[property] = (casesRun[property] ?? 0) + 1;
  const before = db.snapshot();
  const res = await fetch(t.url + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // A non-JSON body is reported by shapeProblem below.
  }
  const where = `${method} ${path.slice(0, 300)} → ${res.status} ${text.slice(0, 300)}`;
  expect(res.headers.get('content-type') ?? '', where).toMatch(/^application\/json/);
  expect(shapeProblem(routeOf(method, path), res.status, parsed), where).toBeUndefined();
  if (res.status >= 400) expect(db.snapshot(), `refused request changed the database: ${where}`).toBe(before);
  const isCreate = res.status === 201;
  for (const s of secrets) if (!isCreate) expect(text.includes(s), `secret echoed: ${where}`).toBe(false);
  return { status: res.status, body: parsed, text };
}

/** Percent-encodes every UTF-8 byte (lone surrogates become U+FFFD, as a client would send). */
const pct = (x: string) => [...Buffer.from(x, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const json = { 'content-type': 'application/json' };

// Strings that have broken parsers, query builders and number handling before.
const NASTY = [
  '', ' ', '0', '-0', '-1', '01', '1.5', '1e3', '1e309', '9007199254740993', '99999999999999999999999999', '0x10',
  'NaN', 'Infinity', '-Infinity', 'true', 'false', 'null', 'undefined', '[]', '{}', '__proto__', 'constructor',
  'prototype', 'toString', 'hasOwnProperty', '%', '%%', '%00', '%zz', '\u0000', '*', '?', '**', '%_\\', '[a-z]',
  "' OR 1=1 --", '"; DROP TABLE tokens; --', '\u202e', '💥', 'ǅ', 'İ', 'ß', '\uFFFF', '\uD800', 'a'.repeat(1025),
  'ASC', 'DeSc', 'asc ', 'name', 'status', 'expirationDate', 'active', 'inactive', 'all.Instance',
];
const nastyString = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.double().map(String),
);

beforeAll(async () => {
  t = await startTestServer();
  db = openDbReader(t.database);
  secrets.push(t.adminToken);
  const target = await t.server.service.createByOperator(t.instanceId, { name: 'fuzz target', scope: ['instanceApiToken.get'] });
  targetId = target.record.id;
  secrets.push(target.token);
  // A few more tokens so list pages, sorts and filters have something to work on.
  for (const name of ['alpha', 'Bravo', 'charlie%_', 'd*e?f']) {
    const made = await t.server.service.createByOperator(t.instanceId, { name, status: name === 'Bravo' ? 'inactive' : 'active' });
    secrets.push(made.token);
  }
});

afterAll(async () => {
  db?.close();
  await t?.close();
  const total = Object.values(casesRun).reduce((a, b) => a + b, 0);
  console.log(`fuzz: ${total} cases sent over HTTP (${Object.entries(casesRun).map(([k, v]) => `${k} ${v}`).join(', ')})`);
});

describe('fuzzing every endpoint', () => {
  it('query strings: wrong types, huge numbers, repeated keys, unicode, empty values', async () => {
    const key = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('sortField', 'sortDirection', 'page', 'perPage', 'filterField', 'filter', '_links', '_actions', '_embedded') },
      { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'a[b]', 'page[]', '') },
      { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
    );
    const pair = fc.tuple(key, nastyString, fc.boolean());
    const garbage = fc.constantFrom('', '&', '&&', '=', '==', '%', '%zz', 'page', '&page=1&page=2', '&perPage=', '#frag');
    await fc.assert(
      fc.asyncProperty(fc.array(pair, { maxLength: 8 }), garbage, async (pairs, tail) => {
        const qs = pairs
          .map(([k, v, raw]) => (raw ? `${k.replace(/[&#=?]/g, '')}=${v.replace(/[&#]/g, '')}` : `${pct(k)}=${pct(v)}`))
          .join('&');
        const path = `/instances/${t.instanceId}/tokens?${qs}${tail}`;
        const res = await send('query', 'GET', path, auth(t.adminToken));
        expect([200, 400], res.text).toContain(res.status);
        if (res.status === 200) {
          expect(res.body.count).toBe(res.body.items.length);
          expect(res.body.items.length).toBeLessThanOrEqual(res.body.perPage);
          expect(res.body.totalCount).toBeLessThanOrEqual(5 + 1);
        } else {
          expect(res.body.message).toMatch(/query/);
        }
      }),
      { numRuns: runs(400) },
    );
  }, BUDGET);

  it('path ids on every route and method', async () => {
    const segment = fc.oneof(
      fc.constant(t.instanceId),
      fc.constant(t.instanceId.toUpperCase()),
      fc.constant(targetId),
      fc.stringMatching(/^[0-9a-f]{24}$/),
      fc.stringMatching(/^[0-9a-f]{23,25}$/),
      nastyString,
      fc.string({ minLength: 190, maxLength: 260 }),
      fc.constantFrom('..', '.', '%2e%2e', '%2F', '%00', ' ', 'tokens', '😀'.repeat(12)),
    );
    const method = fc.constantFrom('GET', 'GET', 'PATCH', 'DELETE', 'POST', 'PUT', 'OPTIONS');
    const shape = fc.constantFrom('collection', 'item', 'item-extra', 'instance');
    await fc.assert(
      fc.asyncProperty(method, shape, segment, segment, fc.boolean(), async (m, s, a, b, encode) => {
        const enc = (x: string) => (encode ? pct(x) : x.replace(/[?#/\\]/g, '_'));
        // Never aim a DELETE or PATCH at the admin token itself; the target may be hit.
        const first = enc(a);
        const second = enc(b);
        const path =
          s === 'collection' ? `/instances/${first}/tokens` :
          s === 'item' ? `/instances/${first}/tokens/${second}` :
          s === 'item-extra' ? `/instances/${first}/tokens/${second}/x` :
          `/instances/${first}`;
        const body = m === 'PATCH' || m === 'POST' || m === 'PUT' ? JSON.stringify(m === 'POST' ? { name: 'path fuzz' } : {}) : undefined;
        const res = await send('path', m, path, { ...auth(t.adminToken), ...(body ? json : {}) }, body);
        expect([200, 201, 400, 403, 404], res.text).toContain(res.status);
        if (res.status === 400) expect(res.body.message).toMatch(/^path/);
        if (res.status === 201) await send('cleanup', 'DELETE', `/instances/${t.instanceId}/tokens/${res.body.id}`, auth(t.adminToken));
        if (res.status === 200 && m === 'DELETE') {
          // Only the target can have been deleted; put an equivalent back for later cases.
          const again = await t.server.service.createByOperator(t.instanceId, { name: 'fuzz target', scope: ['instanceApiToken.get'] });
          targetId = again.record.id;
          secrets.push(again.token);
        }
      }),
      { numRuns: runs(300) },
    );
    // The admin token still works: no fuzzed path reached it.
    expect((await send('path', 'GET', `/instances/${t.instanceId}/tokens/${t.adminTokenId}`, auth(t.adminToken))).status).toBe(200);
  }, BUDGET);

  it('headers: Authorization variants, losantdomain, content types', async () => {
    const token = t.adminToken;
    const [h, p, s] = token.split('.');
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const flip = (x: string, i: number) => x.slice(0, i) + (x[i] === 'A' ? 'B' : 'A') + x.slice(i + 1);
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    const AUTH = [
      `Bearer ${token}`, `bearer ${token}`, `BEARER   ${token}  `, `Bearer\t${token}`, `Bearer ${token} extra`, `Bearer`, `Bearer `, '',
      `Basic ${Buffer.from('a:b').toString('base64')}`, `Token ${token}`, token, `Bearer ${token}x`, `Bearer ${token.slice(0, -2)}`,
      `Bearer ${h}.${p}.${flip(s, 3)}`, `Bearer ${h}.${flip(p, 5)}.${s}`, `Bearer ${h}.${p}`, `Bearer ${h}.${p}.`, `Bearer ..`,
      `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${p}.`, `Bearer ${b64({ ...header, alg: 'HS256' })}.${p}.${s}`,
      `Bearer ${b64({ ...header, kid: 'nope' })}.${p}.${s}`, `Bearer ${b64({ alg: 'EdDSA' })}.${p}.${s}`,
      `Bearer ${'A'.repeat(8000)}`, `Bearer ${'.'.repeat(3)}${token}`, `Bearer ${token},Bearer ${token}`,
    ];
    const latin1 = fc.string({ maxLength: 60 }).map((x) => x.replace(/[^\t\x20-\x7e]/g, '').trim());
    const authorization = fc.oneof(fc.constantFrom(...AUTH), latin1.map((x) => `Bearer ${x}`), latin1);
    const domain = fc.oneof(
      fc.constant(undefined),
      fc.constantFrom('example.com', 'app.losant.com', 'a', 'a.b.c.d.e', 'localhost.', `${'a'.repeat(63)}.com`, 'ex_ample.com', '-bad.com', 'bad-.com',
        'exa mple.com', 'example..com', '.', '', `${'a.'.repeat(126)}com`, `${'a'.repeat(64)}.com`, 'xn--bcher-kva.example', '127.0.0.1', '[::1]'),
      latin1,
    );
    const contentType = fc.oneof(
      fc.constant(undefined),
      fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain', 'application/xml',
        'application/x-www-form-urlencoded', 'multipart/form-data', 'application/json-patch+json', 'application/jsonx', ';', 'json', '*/*'),
      latin1,
    );
    const accept = fc.constantFrom(undefined, '1', '^1.0.0', 'garbage', '');
    await fc.assert(
      fc.asyncProperty(authorization, domain, contentType, accept, fc.constantFrom('GET', 'POST'), async (a, d, ct, av, m) => {
        const headers: Record<string, string> = { authorization: a };
        if (d !== undefined) headers.losantdomain = d;
        if (ct !== undefined) headers['content-type'] = ct;
        if (av !== undefined) headers['accept-version'] = av;
        const body = m === 'POST' ? JSON.stringify({ name: 'header fuzz', scope: ['instanceApiTokens.get'] }) : undefined;
        const res = await send('headers', m, `/instances/${t.instanceId}/tokens`, headers, body);
        expect([200, 201, 400, 401, 415], res.text).toContain(res.status);
        if (res.status === 401) expect(res.body.type).toBe('Unauthorized');
        if (res.status === 201) await send('cleanup', 'DELETE', `/instances/${t.instanceId}/tokens/${res.body.id}`, auth(t.adminToken));
        // The sent token is never echoed back, whole or in part (its tail: every JWT
        // issued here starts with the same header, so a prefix would prove nothing).
        const sentToken = a.replace(/^\S+\s+/, '').trim();
        if (sentToken.length >= 16) expect(res.text.includes(sentToken.slice(-16))).toBe(false);
      }),
      { numRuns: runs(400) },
    );
  }, BUDGET);

  it('JSON bodies: wrong types, deep nesting, huge strings, __proto__ and constructor keys', async () => {
    const FIELDS = ['name', 'description', 'scope', 'status', 'expirationDate', '__proto__', 'constructor', 'prototype', 'token', 'id', 'instanceId', 'creatorId', 'tokenHash'];
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      nastyString,
      fc.constantFrom(['all.Instance'], ['instanceApiTokens.get', 'instanceApiTokens.get'], [], ['all.User'], ['nope'], 'active', 'inactive',
        '2999-01-01T00:00:00.000Z', '1999-01-01T00:00:00Z', 32503680000000, -1, 1e308, 'x'.repeat(256), 'y'.repeat(40_000),
        { polluted: true }, { prototype: { polluted: true } }),
    );
    const objectBody = fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 5 }).map((o) => JSON.stringify(o));
    const depth = fc.integer({ min: 1, max: 60_000 });
    const deep = fc.oneof(
      depth.map((d) => '['.repeat(d) + ']'.repeat(d)),
      depth.map((d) => `{"name":${'{"a":'.repeat(d)}1${'}'.repeat(d)}}`),
      depth.map((d) => `{"name":"deep","description":${'['.repeat(d)}${']'.repeat(d)}}`),
    );
    const pollution = fc.constantFrom(
      '{"__proto__":{"polluted":true},"name":"p"}',
      '{"name":"p","constructor":{"prototype":{"polluted":true}}}',
      '{"name":"p","a":{"__proto__":{"polluted":true}}}',
      '{"name":"p","\\u005f_proto__":{"polluted":true}}',
      '[{"__proto__":{"polluted":true}}]',
    );
    const huge = fc.integer({ min: 1_000, max: 300_000 }).map((n) => JSON.stringify({ name: 'h', description: 'd'.repeat(n) }));
    const body = fc.oneof({ weight: 5, arbitrary: objectBody }, { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) }, deep, pollution, huge);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('POST', 'PATCH'), body, async (m, text) => {
        const path = m === 'POST' ? `/instances/${t.instanceId}/tokens` : `/instances/${t.instanceId}/tokens/${targetId}`;
        const res = await send('body', m, path, { ...auth(t.adminToken), ...json }, text);
        expect([200, 201, 400, 413], res.text).toContain(res.status);
        if (res.status === 400) expect(res.body.message).toMatch(/body/);
        if (res.status === 201) {
          // What was accepted is what is stored.
          expect(res.body.name).toBe(JSON.parse(text).name);
          secrets.push(res.body.token);
          await send('cleanup', 'DELETE', `/instances/${t.instanceId}/tokens/${res.body.id}`, auth(t.adminToken));
        }
      }),
      { numRuns: runs(500) },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
  }, BUDGET);

  it('malformed JSON and empty bodies', async () => {
    const valid = fc.jsonValue().map((v) => JSON.stringify({ name: 'm', v }));
    const broken = fc.oneof(
      valid.chain((s) => fc.integer({ min: 0, max: Math.max(0, s.length - 1) }).map((i) => s.slice(0, i))),
      valid.chain((s) => fc.tuple(fc.integer({ min: 0, max: s.length }), fc.constantFrom('"', '{', '}', ',', ':', '\\', '\u0000', "'", 'NaN')).map(([i, c]) => s.slice(0, i) + c + s.slice(i))),
      fc.constantFrom('{', '}', '{"name":}', "{'name':'x'}", '{"name":"x",}', '{"name":"x"}{"name":"y"}', 'undefined', 'NaN', '\uFEFF{"name":"x"}',
        '{"name":"\\ud800"}', '{"name":"\\u00"}', ' ', '\n', '\t\r\n', 'null', '0', '"str"', 'true', '[]'),
      fc.string({ maxLength: 50 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('POST', 'PATCH', 'DELETE'), broken, async (m, text) => {
        const path = m === 'POST' ? `/instances/${t.instanceId}/tokens` : `/instances/${t.instanceId}/tokens/${'0'.repeat(24)}`;
        const res = await send('malformed', m, path, { ...auth(t.adminToken), ...json }, text);
        expect([201, 400, 404], res.text).toContain(res.status);
        if (res.status === 201) await send('cleanup', 'DELETE', `/instances/${t.instanceId}/tokens/${res.body.id}`, auth(t.adminToken));
      }),
      { numRuns: runs(300) },
    );
  }, BUDGET);

  it('the server is still up and the data intact after every property', async () => {
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
    const list = await send('final', 'GET', `/instances/${t.instanceId}/tokens?perPage=1000`, auth(t.adminToken));
    expect(list.status).toBe(200);
    // The seeded tokens plus the (possibly renamed) fuzz target; nothing else survived.
    const ids = list.body.items.map((i: any) => i.id);
    expect(ids).toHaveLength(6);
    expect(ids).toContain(targetId);
    expect(list.body.items.map((i: any) => i.name)).toEqual(expect.arrayContaining(['Bravo', 'alpha', 'charlie%_', 'd*e?f', 'default admin']));
    expect(db.integrityCheck()).toBe('ok');
  });
});
