// The rules of the API: authorization, no-escalation, lifecycle. Routes call one
// function each; SQL stays in the store.
import { ApiProblem, forbidden, notFound, validation } from '../domain/errors.js';
import { newId, normalizeId } from '../domain/ids.js';
import type { ParsedListQuery } from '../domain/list-query.js';
import { firstUncovered, grantingScopes, grants, type ServedAction } from '../domain/scopes.js';
import type { ApiTokenPatch, ApiTokenPost } from '../schema/api.js';
import type { InstanceRecord, ListResult, TokenRecord, TokenStore } from '../store/types.js';
import type { Caller } from '../tokens/authenticator.js';
import { hashToken, issueToken } from '../tokens/jwt.js';
import type { KeyRing } from '../tokens/keys.js';

export const DEFAULT_SCOPE = ['all.Instance'];
/** The latest instant a JavaScript Date can hold. */
const MAX_DATE_MS = 8.64e15;

export interface Created {
  record: TokenRecord;
  token: string;
}

/** SPEC 3.2: same instance first (403 without revealing anything), then a granting scope. */
export function authorize(caller: Caller, instanceId: string, action: ServedAction): void {
  if (normalizeId(instanceId) !== caller.instanceId) {
    throw forbidden('This token is not authorized for the requested instance');
  }
  if (!grants(caller.scope, action)) {
    throw forbidden(`This token lacks a scope for ${action}; one of these is required: ${grantingScopes(action).join(', ')}`);
  }
}

function parseExpiration(value: string | number | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) {
    throw validation('body.expirationDate must be an ISO 8601 date-time or milliseconds since the epoch within the range of a date');
  }
  if (ms <= now) throw validation('body.expirationDate must be in the future');
  return ms;
}

// An unpaired UTF-16 surrogate cannot be stored as UTF-8: the database would hand back
// different text than the 201 showed. Such strings are refused instead.
const UNPAIRED_SURROGATE = /\p{Cs}/u;

function checkText(body: { name?: string; description?: string }): void {
  for (const field of ['name', 'description'] as const) {
    const value = body[field];
    if (value !== undefined && UNPAIRED_SURROGATE.test(value)) {
      throw validation(`body.${field} must be valid Unicode text: it contains an unpaired surrogate (\\u${value.match(UNPAIRED_SURROGATE)![0].charCodeAt(0).toString(16)})`);
    }
  }
}

export class TokenService {
  constructor(
    private readonly store: TokenStore,
    private readonly keys: KeyRing,
    private readonly clock: () => number = Date.now,
  ) {}

  async list(caller: Caller, instanceId: string, q: ParsedListQuery): Promise<ListResult> {
    authorize(caller, instanceId, 'instanceApiTokens.get');
    return this.store.listTokens(caller.instanceId, {
      sortField: q.sortField,
      sortDirection: q.sortDirection,
      offset: q.page * q.perPage,
      limit: q.perPage,
      statuses: q.statuses,
      nameGlob: q.nameGlob,
    });
  }

  async create(caller: Caller, instanceId: string, body: ApiTokenPost): Promise<Created> {
    authorize(caller, instanceId, 'instanceApiTokens.post');
    checkText(body);
    const scope = body.scope ?? DEFAULT_SCOPE;
    const uncovered = firstUncovered(caller.scope, scope);
    if (uncovered !== undefined) {
      throw forbidden(`Cannot grant scope ${uncovered}: it is not covered by the calling token's scopes`);
    }
    return this.issue(caller.instanceId, body, { creatorType: 'apiToken', creatorId: caller.tokenId, creatorName: caller.name });
  }

  /** Tokens made by the operator with the CLI (no calling token, so no coverage rule). */
  async createByOperator(instanceId: string, body: ApiTokenPost): Promise<Created> {
    return this.issue(instanceId, body, { creatorType: 'user', creatorName: 'cli' });
  }

  async get(caller: Caller, instanceId: string, apiTokenId: string): Promise<TokenRecord> {
    authorize(caller, instanceId, 'instanceApiToken.get');
    const record = await this.store.getToken(caller.instanceId, normalizeId(apiTokenId));
    if (!record) throw tokenNotFound();
    return record;
  }

  async patch(caller: Caller, instanceId: string, apiTokenId: string, body: ApiTokenPatch): Promise<TokenRecord> {
    authorize(caller, instanceId, 'instanceApiToken.patch');
    checkText(body);
    const id = normalizeId(apiTokenId);
    const current = await this.store.getToken(caller.instanceId, id);
    if (!current) throw tokenNotFound();
    if (body.status === 'active' && current.status !== 'active') {
      const uncovered = firstUncovered(caller.scope, current.scope);
      if (uncovered !== undefined) {
        throw forbidden(`Cannot re-activate this token: its scope ${uncovered} is not covered by the calling token's scopes`);
      }
    }
    const changes = {
      name: body.name !== undefined && body.name !== current.name ? body.name : undefined,
      description: body.description !== undefined && body.description !== current.description ? body.description : undefined,
      status: body.status !== undefined && body.status !== current.status ? body.status : undefined,
    };
    if (changes.name === undefined && changes.description === undefined && changes.status === undefined) return current;
    const updated = await this.store.updateToken(caller.instanceId, id, { ...changes, lastUpdated: this.clock() });
    if (!updated) throw tokenNotFound();
    return updated;
  }

  async delete(caller: Caller, instanceId: string, apiTokenId: string): Promise<void> {
    authorize(caller, instanceId, 'instanceApiToken.delete');
    const deleted = await this.store.deleteToken(caller.instanceId, normalizeId(apiTokenId));
    if (!deleted) throw tokenNotFound();
  }

  async createInstance(name: string): Promise<{ instance: InstanceRecord; admin: Created }> {
    const now = this.clock();
    const instance: InstanceRecord = { id: newId(now), name, creationDate: now };
    await this.store.createInstance(instance);
    const admin = await this.createByOperator(instance.id, { name: `${name} admin`, scope: ['all.Instance'] });
    return { instance, admin };
  }

  private async issue(
    instanceId: string,
    body: ApiTokenPost,
    creator: Pick<TokenRecord, 'creatorType' | 'creatorId' | 'creatorName'>,
  ): Promise<Created> {
    const now = this.clock();
    const expirationDate = parseExpiration(body.expirationDate, now);
    const id = newId(now);
    const token = await issueToken(this.keys, { tokenId: id, instanceId, issuedAt: now, expiresAt: expirationDate });
    const record: TokenRecord = {
      id,
      instanceId,
      name: body.name,
      scope: [...(body.scope ?? DEFAULT_SCOPE)],
      status: body.status ?? 'active',
      creationDate: now,
      lastUpdated: now,
      ...creator,
    };
    if (body.description !== undefined) record.description = body.description;
    if (expirationDate !== undefined) record.expirationDate = expirationDate;
    if (record.creatorId === undefined) delete record.creatorId;
    await this.store.insertToken({ ...record, tokenHash: hashToken(token) });
    return { record, token };
  }
}

function tokenNotFound(): ApiProblem {
  return notFound('No API token with this id exists in this instance');
}
