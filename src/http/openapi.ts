// The OpenAPI 3.1 document, generated from the same TypeBox schemas the routes validate
// with (src/schema/api.ts), so the description cannot drift from the server. OpenAPI 3.1
// uses JSON Schema 2020-12, which TypeBox emits directly. `npm run openapi` writes the
// committed copy `openapi.json`; a test keeps the two equal.
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import type { TObject, TSchema } from '@sinclair/typebox';
import { ACTION_GRANTS } from '../domain/instance-scopes.generated.js';
import { DomainHeaders, ErrorBody, Scope, ApiToken, ApiTokenCreated, ApiTokens, ApiTokenPost, ApiTokenPatch, Success } from '../schema/api.js';
import { OPERATIONS, type Operation } from '../schema/routes.js';

export const OPENAPI_PATH = '/openapi.json';

type Json = Record<string, unknown>;

// Named components; any identical copy inside another schema becomes a $ref to it.
const COMPONENTS: Record<string, TSchema> = {
  InstanceScope: Scope,
  ApiToken,
  ApiTokenCreated,
  ApiTokens,
  ApiTokenPost,
  ApiTokenPatch,
  Error: ErrorBody,
  Success,
};

/** Plain JSON: drops TypeBox's symbol-keyed metadata. */
const plain = (schema: unknown): Json => JSON.parse(JSON.stringify(schema)) as Json;

function withRefs(node: unknown, byText: Map<string, string>, root: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => withRefs(n, byText, false));
  if (node === null || typeof node !== 'object') return node;
  if (!root) {
    const name = byText.get(JSON.stringify(node));
    if (name) return { $ref: `#/components/schemas/${name}` };
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, withRefs(v, byText, false)]));
}

function componentSchemas(): { schemas: Record<string, Json>; ref: (s: TSchema) => unknown } {
  const byText = new Map<string, string>();
  for (const [name, schema] of Object.entries(COMPONENTS)) byText.set(JSON.stringify(plain(schema)), name);
  const schemas: Record<string, Json> = {};
  for (const [name, schema] of Object.entries(COMPONENTS)) schemas[name] = withRefs(plain(schema), byText, true) as Json;
  return { schemas, ref: (s) => withRefs(plain(s), byText, false) };
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Validation: a path id, query parameter, header or body breaks a rule (the message names the field and rule)',
  401: 'Unauthorized: the bearer token is missing, malformed, unknown, inactive or expired',
  403: 'Forbidden: the token belongs to another instance or lacks a granting scope',
  404: 'NotFound: no such token in this instance',
  413: 'PayloadTooLarge: the body is over 256 KiB',
  415: 'UnsupportedMediaType: the body is not application/json',
  429: 'TooManyRequests: rate limit reached (see Retry-After)',
  500: 'ServerError',
};

function parameters(where: 'path' | 'query' | 'header', schema: TObject, ref: (s: TSchema) => unknown): Json[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, prop]) => {
    const { description, ...rest } = plain(prop);
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(description ? { description } : {}),
      schema: ref(rest as TSchema),
    };
  });
}

function packageVersion(): string {
  // src/http and dist/http both sit two levels below the package root.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildOpenApiDocument(): Json {
  const { schemas, ref } = componentSchemas();
  const json = (schema: TSchema) => ({ 'application/json': { schema: ref(schema) } });
  const errorResponse = { description: '', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  const paths: Record<string, Record<string, Json>> = {};
  for (const op of OPERATIONS as readonly Operation[]) {
    const responses: Record<string, Json> = {
      [String(op.success.status)]: { description: op.success.description, content: json(op.success.schema) },
    };
    for (const status of op.errors) responses[String(status)] = { ...errorResponse, description: ERROR_DESCRIPTIONS[status] };
    (paths[op.path] ??= {})[op.method.toLowerCase()] = {
      operationId: op.action,
      summary: op.summary,
      description: `Requires a token holding one of these scopes: ${ACTION_GRANTS[op.action].join(', ')}.`,
      tags: [op.action.split('.')[0]],
      parameters: [
        ...parameters('path', op.params, ref),
        ...parameters('query', op.query, ref),
        ...parameters('header', DomainHeaders, ref),
      ],
      ...(op.body ? { requestBody: { required: op.method === 'POST', description: op.body.description, content: json(op.body.schema) } } : {}),
      responses,
    };
  }
  paths['/health'] = {
    get: {
      operationId: 'health',
      summary: 'Liveness and database reachability',
      security: [],
      responses: {
        '200': { description: 'The server and its database are up', content: { 'application/json': { schema: { type: 'object' } } } },
        '503': { description: 'The database is unreachable', content: { 'application/json': { schema: { type: 'object' } } } },
      },
    },
  };
  paths[OPENAPI_PATH] = {
    get: {
      operationId: 'openapi',
      summary: 'This OpenAPI 3.1 document',
      security: [],
      responses: { '200': { description: 'The OpenAPI document', content: { 'application/json': { schema: { type: 'object' } } } } },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tessera',
      version: packageVersion(),
      description:
        'Self-hosted token authority implementing the Losant Instance API Tokens and Instance API Token resources (REST API v1). Every error body is {"type","message"}.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'instanceApiTokens', description: 'The collection of API tokens of an instance' },
      { name: 'instanceApiToken', description: 'One API token' },
    ],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas,
    },
  };
}

/** GET /openapi.json, public like /health: the document describes, it grants nothing. */
export const openapiRoutes: FastifyPluginAsync = async (app) => {
  const document = JSON.stringify(buildOpenApiDocument());
  app.get(OPENAPI_PATH, async (_request, reply) => reply.type('application/json; charset=utf-8').send(document));
};
