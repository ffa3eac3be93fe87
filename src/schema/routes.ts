// The five operations of the Instance API Tokens resources, declared once: method,
// path, action and the schema of every part. The server's routes take their validation
// and serialization schemas from this table, and the OpenAPI document is generated
// from it, so the two cannot describe different APIs.
import type { TObject, TSchema } from '@sinclair/typebox';
import type { ServedAction } from '../domain/scopes.js';
import {
  ApiToken,
  ApiTokenCreated,
  ApiTokenPatch,
  ApiTokenPost,
  ApiTokens,
  FlagsQuery,
  InstanceParams,
  ListQuery,
  Success,
  TokenParams,
} from './api.js';

export interface Operation {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  action: ServedAction;
  summary: string;
  params: TObject;
  query: TObject;
  body?: { schema: TSchema; description: string };
  success: { status: number; schema: TSchema; description: string };
  errors: number[];
}

export const COMMON_ERRORS = [400, 401, 403, 429, 500];
export const BODY_ERRORS = [413, 415];

export const OPERATIONS = [
  {
    method: 'GET',
    path: '/instances/{instanceId}/tokens',
    action: 'instanceApiTokens.get',
    summary: 'List the API tokens of an instance',
    params: InstanceParams,
    query: ListQuery,
    success: { status: 200, schema: ApiTokens, description: 'Collection of API tokens' },
    errors: COMMON_ERRORS,
  },
  {
    method: 'POST',
    path: '/instances/{instanceId}/tokens',
    action: 'instanceApiTokens.post',
    summary: 'Create an API token; the response carries the token string, once',
    params: InstanceParams,
    query: FlagsQuery,
    body: { schema: ApiTokenPost, description: 'API token information' },
    success: { status: 201, schema: ApiTokenCreated, description: 'The created API token, with its token string' },
    errors: [...COMMON_ERRORS, ...BODY_ERRORS],
  },
  {
    method: 'GET',
    path: '/instances/{instanceId}/tokens/{apiTokenId}',
    action: 'instanceApiToken.get',
    summary: 'Retrieve one API token',
    params: TokenParams,
    query: FlagsQuery,
    success: { status: 200, schema: ApiToken, description: 'The API token' },
    errors: [...COMMON_ERRORS, 404],
  },
  {
    method: 'PATCH',
    path: '/instances/{instanceId}/tokens/{apiTokenId}',
    action: 'instanceApiToken.patch',
    summary: 'Update the name, description or status of an API token',
    params: TokenParams,
    query: FlagsQuery,
    body: { schema: ApiTokenPatch, description: 'Fields to change; scope and expirationDate are fixed at creation' },
    success: { status: 200, schema: ApiToken, description: 'The updated API token' },
    errors: [...COMMON_ERRORS, 404, ...BODY_ERRORS],
  },
  {
    method: 'DELETE',
    path: '/instances/{instanceId}/tokens/{apiTokenId}',
    action: 'instanceApiToken.delete',
    summary: 'Delete an API token for good',
    params: TokenParams,
    query: FlagsQuery,
    success: { status: 200, schema: Success, description: 'The token was deleted' },
    errors: [...COMMON_ERRORS, 404],
  },
] as const satisfies readonly Operation[];

export type OperationOf<A extends ServedAction> = Extract<(typeof OPERATIONS)[number], { action: A }>;

export function operation<A extends ServedAction>(action: A): OperationOf<A> {
  return OPERATIONS.find((op) => op.action === action) as OperationOf<A>;
}

/** `/instances/{instanceId}/tokens` → `/instances/:instanceId/tokens` (Fastify's syntax). */
export function routerPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}
