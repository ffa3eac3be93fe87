// Compatibility: the official JavaScript client (npm `losant-rest`) drives all five
// actions against the running server, and every response conforms to the JSON schemas
// that ship inside that client (apiToken, apiTokens, success, error).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';

const require = createRequire(import.meta.url);
const losant = require('losant-rest') as { createClient(opts: { url: string; accessToken?: string }): any };
const schemaDir = join(dirname(require.resolve('losant-rest/package.json')), 'lib', 'schemas');
const schema = (name: string) => JSON.parse(readFileSync(join(schemaDir, `${name}.json`), 'utf8'));

type Schema = {
  type?: string;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  format?: string;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
};

/** The draft-04 subset those schemas use; returns the list of violations. */
function violations(value: unknown, s: Schema, path = '$'): string[] {
  const out: string[] = [];
  const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : Number.isInteger(value) ? 'integer' : typeof value;
  if (s.type && !(s.type === actual || (s.type === 'number' && actual === 'integer'))) return [`${path}: ${actual} is not ${s.type}`];
  if (s.enum && !s.enum.includes(value)) out.push(`${path}: ${JSON.stringify(value)} not in enum`);
  if (typeof value === 'string') {
    if (s.pattern && !new RegExp(s.pattern).test(value)) out.push(`${path}: does not match ${s.pattern}`);
    if (s.minLength !== undefined && value.length < s.minLength) out.push(`${path}: shorter than ${s.minLength}`);
    if (s.maxLength !== undefined && value.length > s.maxLength) out.push(`${path}: longer than ${s.maxLength}`);
    if (s.format === 'date-time' && (Number.isNaN(Date.parse(value)) || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value))) {
      out.push(`${path}: not a date-time`);
    }
  }
  if (Array.isArray(value) && s.items) value.forEach((v, i) => out.push(...violations(v, s.items!, `${path}[${i}]`)));
  if (actual === 'object' && s.properties) {
    for (const [k, sub] of Object.entries(s.properties)) {
      if ((value as Record<string, unknown>)[k] !== undefined) out.push(...violations((value as Record<string, unknown>)[k], sub, `${path}.${k}`));
    }
    for (const k of s.required ?? []) if ((value as Record<string, unknown>)[k] === undefined) out.push(`${path}.${k}: required`);
  }
  return out;
}

const expectSchema = (value: unknown, name: string) => expect(violations(value, schema(name))).toEqual([]);

let t: TestServer;
let client: any;

beforeAll(async () => {
  t = await startTestServer();
  client = losant.createClient({ url: t.url, accessToken: t.adminToken });
});
afterAll(async () => t?.close());

it('the schema checker itself rejects bad shapes', () => {
  expect(violations({ id: 'nope', status: 'paused', scope: [''] }, schema('apiToken'))).toHaveLength(3);
  expect(violations({ success: false }, schema('success'))).toHaveLength(1);
});

describe('losant-rest drives all five actions', () => {
  let created: any;

  it('instanceApiTokens.post creates a token and returns it with its secret once', async () => {
    created = await client.instanceApiTokens.post({
      instanceId: t.instanceId,
      apiToken: { name: 'from losant-rest', description: 'official client', scope: ['instanceApiTokens.get', 'instanceApiToken.get'], expirationDate: new Date(Date.now() + 86_400_000).toISOString() },
    });
    expectSchema(created, 'apiToken');
    expect(created).toMatchObject({
      name: 'from losant-rest',
      description: 'official client',
      scope: ['instanceApiTokens.get', 'instanceApiToken.get'],
      status: 'active',
      instanceId: t.instanceId,
      creatorType: 'apiToken',
      creatorId: t.adminTokenId,
      _type: 'apiToken',
    });
    expect(created.apiTokenId).toBe(created.id);
    expect(typeof created.token).toBe('string');
    expect(created._links.self.href).toBe(`/instances/${t.instanceId}/tokens/${created.id}`);
  });

  it('instanceApiTokens.get lists with sorting, paging and a filter', async () => {
    const page = await client.instanceApiTokens.get({ instanceId: t.instanceId, sortField: 'creationDate', sortDirection: 'desc', perPage: 1, page: 0, filterField: 'name', filter: 'from *' });
    expectSchema(page, 'apiTokens');
    expect(page).toMatchObject({ count: 1, totalCount: 1, perPage: 1, page: 0, sortField: 'creationDate', sortDirection: 'desc', filter: 'from *', filterField: 'name', _type: 'apiTokens' });
    expect(page.items[0].id).toBe(created.id);
    expect(page.items[0].token).toBeUndefined();
    const all = await client.instanceApiTokens.get({ instanceId: t.instanceId });
    expectSchema(all, 'apiTokens');
    expect(all.totalCount).toBe(2);
  });

  it('instanceApiToken.get returns the token without its secret', async () => {
    const got = await client.instanceApiToken.get({ instanceId: t.instanceId, apiTokenId: created.id, _actions: true });
    expectSchema(got, 'apiToken');
    expect(got.token).toBeUndefined();
    expect(got._actions.delete).toEqual({ method: 'DELETE', href: `/instances/${t.instanceId}/tokens/${created.id}` });
    const { token: _secret, _links: _l, ...rest } = created;
    const { _links: _l2, _actions: _a, ...gotRest } = got;
    expect(gotRest).toEqual(rest);
  });

  it('the created token works with the client too, with losantdomain sent', async () => {
    const own = losant.createClient({ url: t.url, accessToken: created.token });
    const got = await own.instanceApiToken.get({ instanceId: t.instanceId, apiTokenId: created.id, losantdomain: 'example.com' });
    expect(got.id).toBe(created.id);
  });

  it('instanceApiToken.patch updates name and status (and sends {} when nothing is given)', async () => {
    const patched = await client.instanceApiToken.patch({ instanceId: t.instanceId, apiTokenId: created.id, apiToken: { name: 'renamed', status: 'inactive' } });
    expectSchema(patched, 'apiToken');
    expect(patched).toMatchObject({ id: created.id, name: 'renamed', status: 'inactive' });
    const same = await client.instanceApiToken.patch({ instanceId: t.instanceId, apiTokenId: created.id });
    expect(same).toMatchObject({ name: 'renamed', status: 'inactive' });
  });

  it('instanceApiToken.delete returns {success: true}', async () => {
    const res = await client.instanceApiToken.delete({ instanceId: t.instanceId, apiTokenId: created.id });
    expectSchema(res, 'success');
    expect(res).toEqual({ success: true });
  });
});

describe('errors come back with statusCode, type and message', () => {
  async function caught(p: Promise<unknown>): Promise<any> {
    try {
      await p;
    } catch (err) {
      return err;
    }
    throw new Error('expected the call to fail');
  }

  it('404 NotFound for a deleted token', async () => {
    const err = await caught(client.instanceApiToken.get({ instanceId: t.instanceId, apiTokenId: 'ffffffffffffffffffffffff' }));
    expect(err).toMatchObject({ statusCode: 404, type: 'NotFound' });
    expect(err.message.length).toBeGreaterThan(0);
  });

  it('400 Validation naming the field', async () => {
    const err = await caught(client.instanceApiTokens.post({ instanceId: t.instanceId, apiToken: { name: 'x', scope: ['no.such'] } }));
    expect(err).toMatchObject({ statusCode: 400, type: 'Validation' });
    expect(err.message).toContain('body.scope');
    const patch = await caught(client.instanceApiToken.patch({ instanceId: t.instanceId, apiTokenId: t.adminTokenId, apiToken: { scope: ['all.Instance'] } }));
    expect(patch).toMatchObject({ statusCode: 400, type: 'Validation' });
    expect(patch.message).toContain('scope');
    const sort = await caught(client.instanceApiTokens.get({ instanceId: t.instanceId, sortField: 'bogus' }));
    expect(sort).toMatchObject({ statusCode: 400, type: 'Validation' });
  });

  it('401 Unauthorized for a bad token and 403 Forbidden for another instance', async () => {
    const bad = losant.createClient({ url: t.url, accessToken: 'garbage' });
    expect(await caught(bad.instanceApiTokens.get({ instanceId: t.instanceId }))).toMatchObject({ statusCode: 401, type: 'Unauthorized' });
    expect(await caught(client.instanceApiTokens.get({ instanceId: 'ffffffffffffffffffffffff' }))).toMatchObject({ statusCode: 403, type: 'Forbidden' });
  });
});
