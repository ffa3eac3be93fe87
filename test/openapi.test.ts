import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../src/http/openapi.js';
import { SORT_FIELDS } from '../src/schema/api.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const committed = JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8'));

describe('OpenAPI document', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t?.close());

  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(buildOpenApiDocument());
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('the validator rejects a broken document (so the check above can fail)', async () => {
    const broken = buildOpenApiDocument() as any;
    broken.paths['/instances/{instanceId}/tokens'].get.responses = 'none';
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('matches the committed openapi.json (run `npm run openapi` after changing the schemas)', () => {
    expect(committed).toEqual(buildOpenApiDocument());
  });

  it('is served at GET /openapi.json without a token', async () => {
    const res = await t.api(undefined)('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual(committed);
  });

  it('describes every token route the server serves, and only those', async () => {
    const doc = buildOpenApiDocument() as any;
    const ops: Array<[string, string]> = [];
    for (const [path, methods] of Object.entries<Record<string, unknown>>(doc.paths)) {
      for (const method of Object.keys(methods)) ops.push([method.toUpperCase(), path.replace(/\{(\w+)\}/g, ':$1')]);
    }
    for (const [method, url] of ops) expect(t.server.app.hasRoute({ method: method as any, url }), `${method} ${url}`).toBe(true);
    const tokenOps = ops.filter(([, url]) => url.startsWith('/instances/')).map(([m, u]) => `${m} ${u}`).sort();
    expect(tokenOps).toEqual(
      [
        'GET /instances/:instanceId/tokens',
        'POST /instances/:instanceId/tokens',
        'GET /instances/:instanceId/tokens/:apiTokenId',
        'PATCH /instances/:instanceId/tokens/:apiTokenId',
        'DELETE /instances/:instanceId/tokens/:apiTokenId',
      ].sort(),
    );
  });

  it('real responses and error bodies conform to the documented schemas', async () => {
    // Each component is compiled as a JSON Schema 2020-12 document (OpenAPI 3.1's dialect).
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    for (const [name, schema] of Object.entries<object>(committed.components.schemas)) ajv.addSchema(schema, `#/components/schemas/${name}`);
    const check = (name: string, body: unknown) => {
      const validate = ajv.getSchema(`#/components/schemas/${name}`)!;
      expect(validate(body), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    };
    const admin = t.api(t.adminToken);
    const base = `/instances/${t.instanceId}/tokens`;
    const created = await admin('POST', `${base}?_actions=true`, { name: 'doc', description: 'd', scope: ['all.Instance.read'], expirationDate: Date.now() + 60_000 });
    expect(created.status).toBe(201);
    check('ApiTokenCreated', created.body);
    const list = await admin('GET', `${base}?filter=*&_actions=true`);
    check('ApiTokens', list.body);
    const one = await admin('GET', `${base}/${created.body.id}`);
    check('ApiToken', one.body);
    check('Error', (await admin('GET', `${base}/${'0'.repeat(24)}`)).body);
    check('Success', (await admin('DELETE', `${base}/${created.body.id}`)).body);
    // and the schemas are strict enough to notice a wrong body
    const validate = ajv.getSchema('#/components/schemas/ApiToken')!;
    expect(validate({ ...one.body, status: 'paused' })).toBe(false);
    expect(validate({ ...one.body, scope: ['nope'] })).toBe(false);
  });

  it('takes its rules from the shared schemas', () => {
    const doc = buildOpenApiDocument() as any;
    const list = doc.paths['/instances/{instanceId}/tokens'].get;
    const sortField = list.parameters.find((p: any) => p.name === 'sortField');
    expect(sortField.schema.enum).toEqual([...SORT_FIELDS]);
    expect(list.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ApiTokens' });
    const created = doc.components.schemas.ApiTokenCreated;
    expect(created.required).toContain('token');
    expect(doc.components.schemas.ApiToken.properties.token).toBeUndefined();
    expect(doc.components.schemas.ApiTokenPost.additionalProperties).toBe(false);
    expect(doc.components.schemas.InstanceScope.enum).toContain('instanceApiTokens.get');
  });
});
