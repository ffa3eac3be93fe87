// Representations sent to clients. Built from TokenRecord, which holds no secret
// material; only the create response adds the token string, through its own type.
import type { ApiToken, ApiTokenCreated, ApiTokens } from '../schema/api.js';
import type { ParsedListQuery } from './list-query.js';
import { grants, type ServedAction } from './scopes.js';
import type { TokenRecord } from '../store/types.js';
import { isoDate } from './iso-date.js';

export interface ViewOptions {
  links: boolean;
  actions: boolean;
  /** The caller's scopes, to name only the actions it may perform. */
  callerScope: readonly string[];
}

const iso = isoDate;
export const instancePath = (instanceId: string) => `/instances/${instanceId}`;
export const tokensPath = (instanceId: string) => `${instancePath(instanceId)}/tokens`;
export const tokenPath = (instanceId: string, id: string) => `${tokensPath(instanceId)}/${id}`;

type ActionSpec = readonly [name: string, action: ServedAction, method: string];
const TOKEN_ACTIONS: readonly ActionSpec[] = [
  ['get', 'instanceApiToken.get', 'GET'],
  ['patch', 'instanceApiToken.patch', 'PATCH'],
  ['delete', 'instanceApiToken.delete', 'DELETE'],
];
const COLLECTION_ACTIONS: readonly ActionSpec[] = [
  ['get', 'instanceApiTokens.get', 'GET'],
  ['post', 'instanceApiTokens.post', 'POST'],
];

function actionsFor(specs: readonly ActionSpec[], href: string, scope: readonly string[]) {
  const out: Record<string, { method: string; href: string }> = {};
  for (const [name, action, method] of specs) if (grants(scope, action)) out[name] = { method, href };
  return out;
}

export function tokenView(r: TokenRecord, opts: ViewOptions): ApiToken {
  const view: ApiToken = {
    id: r.id,
    apiTokenId: r.id,
    instanceId: r.instanceId,
    name: r.name,
    scope: r.scope as ApiToken['scope'],
    status: r.status,
    creationDate: iso(r.creationDate),
    lastUpdated: iso(r.lastUpdated),
    creatorType: r.creatorType,
    _type: 'apiToken',
  };
  if (r.description !== undefined) view.description = r.description;
  if (r.expirationDate !== undefined) view.expirationDate = iso(r.expirationDate);
  if (r.lastUsed !== undefined) view.lastUsed = iso(r.lastUsed);
  if (r.creatorId !== undefined) view.creatorId = r.creatorId;
  if (r.creatorName !== undefined) view.creatorName = r.creatorName;
  const self = tokenPath(r.instanceId, r.id);
  if (opts.links) view._links = { self: { href: self }, instance: { href: instancePath(r.instanceId) } };
  if (opts.actions) view._actions = actionsFor(TOKEN_ACTIONS, self, opts.callerScope);
  return view;
}

export function createdView(r: TokenRecord, token: string, opts: ViewOptions): ApiTokenCreated {
  return { ...tokenView(r, opts), token };
}

export function collectionView(
  instanceId: string,
  q: ParsedListQuery,
  items: readonly TokenRecord[],
  totalCount: number,
  opts: ViewOptions,
): ApiTokens {
  const view: ApiTokens = {
    items: items.map((r) => tokenView(r, opts)),
    count: items.length,
    totalCount,
    page: q.page,
    perPage: q.perPage,
    sortField: q.sortField,
    sortDirection: q.sortDirection,
    instanceId,
    _type: 'apiTokens',
  };
  if (q.filter !== undefined) {
    view.filterField = q.filterField;
    view.filter = q.filter;
  }
  const self = tokensPath(instanceId);
  if (opts.links) view._links = { self: { href: self }, instance: { href: instancePath(instanceId) } };
  if (opts.actions) view._actions = actionsFor(COLLECTION_ACTIONS, self, opts.callerScope);
  return view;
}
