// Reusable security checks for the five actions (in the spirit of unkey's
// common-tests): one table describes how to call each action, and the same checks
// (no token, bad tokens, other instance, missing scope, every granting scope) run
// against every one of them through real HTTP.
import { expect } from 'vitest';
import { ACTION_GRANTS, INSTANCE_SCOPES, type ServedAction } from '../../src/domain/scopes.js';
import type { ApiTokenPost } from '../../src/schema/api.js';
import type { Api, ApiResponse, TestServer } from './server.js';

export interface ActionCase {
  action: ServedAction;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** True for the single-token actions, which need a target token in the path. */
  needsTarget: boolean;
  successStatus: number;
  /** A valid body for a caller holding `callerScope` (POST must respect coverage). */
  body?: (callerScope: readonly string[]) => unknown;
}

export const ACTION_CASES: readonly ActionCase[] = [
  { action: 'instanceApiTokens.get', method: 'GET', needsTarget: false, successStatus: 200 },
  {
    action: 'instanceApiTokens.post',
    method: 'POST',
    needsTarget: false,
    successStatus: 201,
    // Ask for exactly the caller's own scopes when they are instance scopes, so the
    // no-escalation rule is satisfied; user-session scopes cannot be granted, so ask
    // for a read scope they cover instead.
    body: (callerScope) => ({
      name: 'made by security check',
      scope:
        callerScope.length > 0 && callerScope.every((s) => (INSTANCE_SCOPES as readonly string[]).includes(s))
          ? [...callerScope]
          : ['instanceApiTokens.get'],
    }),
  },
  { action: 'instanceApiToken.get', method: 'GET', needsTarget: true, successStatus: 200 },
  { action: 'instanceApiToken.patch', method: 'PATCH', needsTarget: true, successStatus: 200, body: () => ({ description: 'patched' }) },
  { action: 'instanceApiToken.delete', method: 'DELETE', needsTarget: true, successStatus: 200, body: () => ({}) },
];

/** User-session scopes that the authorization rule honours but the vocabulary lacks. */
export const USER_SCOPES = ['all.User', 'all.User.read'] as const;

export function grantingScopesOf(action: ServedAction): readonly string[] {
  return ACTION_GRANTS[action] as readonly string[];
}

/** Every scope (instance vocabulary plus user scopes) that does NOT grant the action. */
export function nonGrantingScopesOf(action: ServedAction): string[] {
  const granting = new Set(grantingScopesOf(action));
  return [...INSTANCE_SCOPES, ...USER_SCOPES].filter((s) => !granting.has(s));
}

let seq = 0;

/**
 * Mints a token through the real service and store, as the CLI does. This is the only
 * way to hold user-session scopes (all.User), which the API refuses to grant.
 */
export async function mintToken(
  t: TestServer,
  scope: readonly string[],
  opts: { instanceId?: string; status?: 'active' | 'inactive'; name?: string; expirationDate?: number } = {},
): Promise<{ id: string; token: string }> {
  const body = {
    name: opts.name ?? `minted ${++seq}`,
    scope: [...scope],
    ...(opts.status ? { status: opts.status } : {}),
    ...(opts.expirationDate !== undefined ? { expirationDate: opts.expirationDate } : {}),
  } as ApiTokenPost;
  const { record, token } = await t.server.service.createByOperator(opts.instanceId ?? t.instanceId, body);
  return { id: record.id, token };
}

export function pathFor(c: ActionCase, instanceId: string, targetId?: string): string {
  const base = `/instances/${instanceId}/tokens`;
  return c.needsTarget ? `${base}/${targetId}` : base;
}

/** Calls the action as `token` on `instanceId`, creating a fresh target token when needed. */
export async function callAction(
  t: TestServer,
  c: ActionCase,
  token: string | undefined,
  opts: { instanceId?: string; callerScope?: readonly string[]; headers?: Record<string, string>; targetId?: string } = {},
): Promise<ApiResponse> {
  const instanceId = opts.instanceId ?? t.instanceId;
  let targetId = opts.targetId;
  if (c.needsTarget && targetId === undefined) targetId = (await mintToken(t, ['instanceApiTokens.get'])).id;
  const api: Api = t.api(token);
  return api(c.method, pathFor(c, instanceId, targetId), c.body?.(opts.callerScope ?? []), opts.headers);
}

export function expectError(res: ApiResponse, status: number, type: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body).toEqual({ type, message: expect.any(String) });
  expect(res.body.message.length).toBeGreaterThan(0);
}

/** The message must not echo any part of the token's signature or payload. */
export function expectNoEcho(res: ApiResponse, token: string): void {
  const text = JSON.stringify(res.body);
  for (const part of token.split('.')) if (part.length >= 8) expect(text).not.toContain(part);
}

export interface AuthFailureCase {
  label: string;
  headers: (validToken: string) => Record<string, string>;
}

/** Every way to send no usable credential; each must be 401 on every action. */
export const AUTH_FAILURES: readonly AuthFailureCase[] = [
  { label: 'no Authorization header', headers: () => ({}) },
  { label: 'empty Authorization header', headers: () => ({ authorization: '' }) },
  { label: 'Basic scheme', headers: (tok) => ({ authorization: `Basic ${Buffer.from(`u:${tok}`).toString('base64')}` }) },
  { label: 'token without scheme', headers: (tok) => ({ authorization: tok }) },
  { label: 'Bearer with nothing after it', headers: () => ({ authorization: 'Bearer ' }) },
  { label: 'Bearer garbage', headers: () => ({ authorization: 'Bearer not-a-token' }) },
  { label: 'Bearer two tokens', headers: (tok) => ({ authorization: `Bearer ${tok} ${tok}` }) },
  { label: 'truncated token', headers: (tok) => ({ authorization: `Bearer ${tok.slice(0, -5)}` }) },
  { label: 'token with an extra segment', headers: (tok) => ({ authorization: `Bearer ${tok}.AAAA` }) },
  { label: 'very long token', headers: () => ({ authorization: `Bearer ${'a'.repeat(5000)}.b.c` }) },
];
