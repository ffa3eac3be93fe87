// Authentication (SPEC 3.1). The costly part, the Ed25519 signature check, is cached by
// the SHA-256 of the token string. The stored record decides every request: where
// replicas share the database it is read on every request; where this process is the
// database's only writer (SQLite) a copy is kept in memory and dropped the moment this
// process writes the row, so a deactivated or deleted token is refused on the very next
// request either way.
import { timingSafeEqual } from 'node:crypto';
import { unauthorized } from '../domain/errors.js';
import type { AuthRecord, TokenStore } from '../store/types.js';
import { hashToken, TokenVerifyError, verifyTokenString, type TokenClaims, type VerifyFailure } from './jwt.js';
import type { KeyRing } from './keys.js';
import type { LastUsedRecorder } from './last-used.js';

export interface Caller {
  tokenId: string;
  instanceId: string;
  name: string;
  scope: readonly string[];
}

const FAILURE_MESSAGES: Record<VerifyFailure, string> = {
  malformed: 'The bearer token is malformed: it is not a token issued by this server',
  signature: 'The bearer token signature is invalid',
  unknownKey: 'The bearer token was signed by an unknown key',
  expired: 'The bearer token has expired',
};

export class Authenticator {
  private verified = new Map<string, TokenClaims>();
  /** Records by token id; only used when the store is the sole writer of its rows. */
  private records = new Map<string, AuthRecord>();
  /** Bumped on every token write, so a read that raced a write is not cached. */
  private writes = 0;
  private lastBearer: { header: string; value: { token: string; hash: string } | undefined } | undefined;

  constructor(
    private readonly keys: KeyRing,
    private readonly store: TokenStore,
    private readonly lastUsed: LastUsedRecorder,
    private readonly cacheSize = 10_000,
  ) {
    keys.onKeysRemoved((removed) => {
      for (const [hash, claims] of this.verified) if (removed.includes(claims.kid)) this.verified.delete(hash);
    });
    store.onTokenWrite((_instanceId, id) => {
      this.writes++;
      this.records.delete(id);
    });
  }

  async authenticate(authorization: string | undefined, now = Date.now()): Promise<Caller> {
    if (authorization === undefined || authorization === '') {
      throw unauthorized('Authorization header is missing: send "Authorization: Bearer <token>"');
    }
    const bearer = this.bearer(authorization);
    if (!bearer) throw unauthorized('Authorization header must use the Bearer scheme: "Authorization: Bearer <token>"');
    const { token, hash } = bearer;

    let claims = this.verified.get(hash);
    if (!claims) {
      try {
        claims = await verifyTokenString(this.keys, token);
      } catch (err) {
        if (err instanceof TokenVerifyError) throw unauthorized(FAILURE_MESSAGES[err.reason]);
        throw err;
      }
      this.remember(hash, claims);
    }

    const record = await this.record(claims);
    if (!record || !sameHash(record.tokenHash, hash)) {
      throw unauthorized('The bearer token is unknown or has been deleted');
    }
    if (record.status !== 'active') throw unauthorized('The bearer token is inactive');
    if (record.expirationDate !== undefined && record.expirationDate <= now) {
      throw unauthorized(FAILURE_MESSAGES.expired);
    }
    this.lastUsed.note(record.instanceId, record.id, record.lastUsed, now);
    return { tokenId: record.id, instanceId: record.instanceId, name: record.name, scope: record.scope };
  }

  /** True when this exact token string has passed the signature check before (no work done). */
  recognizes(authorization: string | undefined): boolean {
    const bearer = authorization ? this.bearer(authorization) : undefined;
    return bearer !== undefined && this.verified.has(bearer.hash);
  }

  /**
   * The token of a Bearer header and its SHA-256. The last answer is kept: the request
   * hook asks `recognizes` and then `authenticate` about the same header.
   */
  private bearer(authorization: string): { token: string; hash: string } | undefined {
    if (this.lastBearer?.header === authorization) return this.lastBearer.value;
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    const value = match ? { token: match[1], hash: hashToken(match[1]) } : undefined;
    this.lastBearer = { header: authorization, value };
    return value;
  }

  private async record(claims: TokenClaims): Promise<AuthRecord | undefined> {
    if (!this.store.soleWriter) return this.store.getAuthRecord(claims.instanceId, claims.tokenId);
    const cached = this.records.get(claims.tokenId);
    if (cached && cached.instanceId === claims.instanceId) return cached;
    const writesBefore = this.writes;
    const record = await this.store.getAuthRecord(claims.instanceId, claims.tokenId);
    if (record && this.writes === writesBefore) {
      if (this.records.size >= this.cacheSize) this.records.delete(this.records.keys().next().value!);
      this.records.set(record.id, record);
    }
    return record;
  }

  private remember(hash: string, claims: TokenClaims): void {
    if (this.verified.size >= this.cacheSize) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(hash, claims);
  }
}

function sameHash(storedHex: string, hashHex: string): boolean {
  const a = Buffer.from(storedHex, 'hex');
  const b = Buffer.from(hashHex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
