// The storage contract. Every token method takes the owning instance id and filters by
// it, so another tenant's row is simply not found. Implementations own SQL and nothing
// else: no HTTP, no authorization rules.
import type { CompiledGlob } from '../domain/glob.js';
import type { SortDirection, SortField, TokenStatus } from '../schema/api.js';

export interface InstanceRecord {
  id: string;
  name: string;
  creationDate: number;
}

export type CreatorType = 'apiToken' | 'user' | 'flow';

/** A token as stored, minus anything derived from its secret. Dates are epoch ms. */
export interface TokenRecord {
  id: string;
  instanceId: string;
  name: string;
  description?: string;
  scope: string[];
  status: TokenStatus;
  creationDate: number;
  lastUpdated: number;
  expirationDate?: number;
  lastUsed?: number;
  creatorId?: string;
  creatorType: CreatorType;
  creatorName?: string;
}

/** What authentication needs: the record plus the SHA-256 of the token string. */
export interface AuthRecord extends TokenRecord {
  tokenHash: string;
}

export interface NewToken extends TokenRecord {
  tokenHash: string;
}

export interface TokenChanges {
  name?: string;
  description?: string;
  status?: TokenStatus;
  lastUpdated: number;
}

export interface ListSpec {
  sortField: SortField;
  sortDirection: SortDirection;
  offset: number;
  limit: number;
  /** Only these statuses (from a glob on `status`); undefined means any. */
  statuses?: readonly TokenStatus[];
  /** Glob on `name`; undefined means any. */
  nameGlob?: CompiledGlob;
}

export interface ListResult {
  items: TokenRecord[];
  totalCount: number;
}

export interface LastUsedEntry {
  instanceId: string;
  id: string;
  at: number;
}

export interface SigningKeyRecord {
  kid: string;
  algorithm: 'EdDSA';
  publicJwk: string;
  privateJwk: string;
  createdAt: number;
}

export type Dialect = 'sqlite' | 'postgres';

/** Shared state other processes may change under a running replica. */
export type StoreChange = 'signingKeys';

export interface TokenStore {
  readonly dialect: Dialect;
  /** Where the data lives, for logs (never includes a password). */
  readonly location: string;

  migrate(): Promise<void>;
  ping(): Promise<void>;
  /**
   * Runs `fn` while holding a database-wide lock named `name`, so replicas starting
   * together do one-time work (creating the `default` instance) exactly once.
   */
  runExclusive<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Calls `listener` soon after any process commits a change of that kind (PostgreSQL:
   * LISTEN/NOTIFY), and again after a lost notification connection comes back. Where
   * the database has a single process (SQLite) it never fires; callers keep polling as
   * the safety net in every case.
   */
  onChange(listener: (change: StoreChange) => void): void;
  /**
   * True when this process is the only one that writes token rows (SQLite: one server
   * per database file), so an in-memory copy of a row that is dropped on every
   * `onTokenWrite` stays exact. False where replicas share the database.
   */
  readonly soleWriter: boolean;
  /** Calls `listener` whenever this process has changed (or tried to change) a token row. */
  onTokenWrite(listener: (instanceId: string, id: string) => void): void;
  /**
   * Claims the database for this serving process where `soleWriter` depends on it (one
   * server per SQLite file); throws when another live server holds it. Returns the release.
   */
  claimForServing(): () => void;
  close(): Promise<void>;

  createInstance(instance: InstanceRecord): Promise<void>;
  getInstance(id: string): Promise<InstanceRecord | undefined>;
  listInstances(): Promise<InstanceRecord[]>;

  insertToken(token: NewToken): Promise<void>;
  getToken(instanceId: string, id: string): Promise<TokenRecord | undefined>;
  getAuthRecord(instanceId: string, id: string): Promise<AuthRecord | undefined>;
  listTokens(instanceId: string, spec: ListSpec): Promise<ListResult>;
  updateToken(instanceId: string, id: string, changes: TokenChanges): Promise<TokenRecord | undefined>;
  deleteToken(instanceId: string, id: string): Promise<boolean>;
  recordLastUsed(entries: readonly LastUsedEntry[]): Promise<void>;

  listSigningKeys(): Promise<SigningKeyRecord[]>;
  insertSigningKey(key: SigningKeyRecord): Promise<void>;
  deleteSigningKey(kid: string): Promise<boolean>;
}
