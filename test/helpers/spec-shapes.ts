// Checks a response against the shapes SPEC.md promises: a success body that matches
// the API schema for that route, or the one error body `{type, message}` whose type
// decides the status. Used by the fuzz, isolation and soak tests.
import { FormatRegistry, TypeRegistry, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ERROR_STATUS } from '../../src/domain/errors.js';
import { ApiToken, ApiTokenCreated, ApiTokens, Success } from '../../src/schema/api.js';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// The API schemas use Type.Unsafe for string enums; teach Value.Check what they mean.
if (!TypeRegistry.Has('Unsafe')) {
  TypeRegistry.Set('Unsafe', (schema: { type?: string; enum?: unknown[] }, value) =>
    (schema.type !== 'string' || typeof value === 'string') && (!schema.enum || schema.enum.includes(value)),
  );
}
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => ISO_MS.test(v) && !Number.isNaN(Date.parse(v)));

export type Route = 'list' | 'create' | 'get' | 'patch' | 'delete';

const SUCCESS: Record<Route, { status: number; schema: TSchema }> = {
  list: { status: 200, schema: ApiTokens },
  create: { status: 201, schema: ApiTokenCreated },
  get: { status: 200, schema: ApiToken },
  patch: { status: 200, schema: ApiToken },
  delete: { status: 200, schema: Success },
};

/** Returns a description of what is wrong with the response, or undefined if it is fine. */
export function shapeProblem(route: Route | undefined, status: number, body: unknown): string | undefined {
  if (status >= 500) return `server error ${status}: ${JSON.stringify(body)}`;
  if (status < 400) {
    if (!route) return `unexpected success ${status}`;
    const expected = SUCCESS[route];
    if (status !== expected.status) return `success status ${status}, expected ${expected.status}`;
    if (!Value.Check(expected.schema, body)) {
      const first = Value.Errors(expected.schema, body).First();
      return `success body does not match the ${route} schema at ${first?.path}: ${first?.message}`;
    }
    if (route !== 'create' && JSON.stringify(body).includes('"token"')) return 'a non-create response carries a token field';
    return undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return `error body is not an object: ${JSON.stringify(body)}`;
  const keys = Object.keys(body).sort().join(',');
  if (keys !== 'message,type') return `error body has keys ${keys}`;
  const { type, message } = body as { type: unknown; message: unknown };
  if (typeof message !== 'string' || message.length === 0) return 'error message is empty';
  if (typeof type !== 'string' || !(type in ERROR_STATUS)) return `unknown error type ${String(type)}`;
  if (ERROR_STATUS[type as keyof typeof ERROR_STATUS] !== status) return `error type ${type} sent with status ${status}`;
  return undefined;
}
