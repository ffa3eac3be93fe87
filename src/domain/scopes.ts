// Scope rules of SPEC section 3: which scopes grant an action, and when one set of
// scopes covers another (the no-escalation rule). The tables come from
// instance-scopes.json through the generated module; nothing here is typed by hand.
import { ACTION_GRANTS, INSTANCE_SCOPES, type InstanceAction, type InstanceScope } from './instance-scopes.generated.js';

export { INSTANCE_SCOPES, ACTION_GRANTS };
export type { InstanceAction, InstanceScope };

/** The five actions this server serves. */
export const SERVED_ACTIONS = [
  'instanceApiTokens.get',
  'instanceApiTokens.post',
  'instanceApiToken.get',
  'instanceApiToken.patch',
  'instanceApiToken.delete',
] as const satisfies readonly InstanceAction[];
export type ServedAction = (typeof SERVED_ACTIONS)[number];

const SCOPE_SET: ReadonlySet<string> = new Set(INSTANCE_SCOPES);
const FULL_ACCESS = ['all.Instance', 'all.User'];
const READ_ALL = 'all.Instance.read';

/** Actions that all.Instance.read grants: exactly the read actions. */
export const READ_ACTIONS: ReadonlySet<string> = new Set(
  Object.entries(ACTION_GRANTS)
    .filter(([, grants]) => (grants as readonly string[]).includes(READ_ALL))
    .map(([action]) => action),
);

export function isInstanceScope(s: string): s is InstanceScope {
  return SCOPE_SET.has(s);
}

export function grantingScopes(action: InstanceAction): readonly string[] {
  return ACTION_GRANTS[action];
}

/** True when the scopes held grant the action (any one granting scope suffices). */
export function grants(held: readonly string[], action: InstanceAction): boolean {
  const granting = ACTION_GRANTS[action] as readonly string[];
  return held.some((s) => granting.includes(s));
}

function resourceOf(scope: string): string | undefined {
  const dot = scope.lastIndexOf('.');
  return dot > 0 ? scope.slice(0, dot) : undefined;
}

/** SPEC 3.2 coverage: is scope `s` covered by the set `held`? */
export function covers(held: readonly string[], s: string): boolean {
  if (held.includes(s)) return true;
  if (held.some((h) => FULL_ACCESS.includes(h))) return true;
  if (held.includes(READ_ALL) && (s === READ_ALL || READ_ACTIONS.has(s))) return true;
  const resource = resourceOf(s);
  if (resource && !FULL_ACCESS.includes(s) && s !== READ_ALL && held.includes(`${resource}.*`)) return true;
  return false;
}

/** The first scope of `wanted` that `held` does not cover, if any. */
export function firstUncovered(held: readonly string[], wanted: readonly string[]): string | undefined {
  return wanted.find((s) => !covers(held, s));
}
