// The one TokenStore implementation, written once in Kysely for every database.
// Dialect differences are named capabilities passed in by the adapters (sqlite.ts,
// postgres.ts), never `if (sqlite)` in the queries.
import { CompiledQuery, Migrator, sql, type Compilable, type Kysely, type SelectQueryBuilder, type Transaction } from 'kysely';
import { prefixUpperBound, type CompiledGlob } from '../domain/glob.js';
import type { SortField, TokenStatus } from '../schema/api.js';
import { migrationProvider } from './migrations.js';
import { NEVER_EXPIRES, type Database, type InstancesTable, type TokensTable } from './schema.js';
import type {
  AuthRecord,
  Dialect,
  InstanceRecord,
  LastUsedEntry,
  ListResult,
  ListSpec,
  NewToken,
  SigningKeyRecord,
  StoreChange,
  TokenChanges,
  TokenRecord,
  TokenStore,
} from './types.js';

export interface StoreCapabilities {
  /** SELECT … FOR UPDATE exists (row locks); without it transactions are serialized. */
  rowLocks: boolean;
  /**
   * Session advisory locks exist (PostgreSQL), so several processes can share one
   * database; without them the database has one writer process and needs no lock.
   */
  advisoryLocks: boolean;
  /** Announces committed changes to other processes (PostgreSQL LISTEN/NOTIFY). */
  changeFeed?: ChangeFeed;
  /** Only this process writes token rows (see TokenStore.soleWriter). */
  soleWriter: boolean;
  /** Takes the one-server-per-database lock where soleWriter needs it; returns the release. */
  serveLock?: () => () => void;
  /**
   * Opens a separate small pool, outside the request pool and without a per-query time
   * limit, for migrations and for holding exclusive locks; destroyed after use.
   */
  maintenanceDb?: () => Kysely<Database>;
}

export interface ChangeFeed {
  /** Runs inside the writing transaction, so the announcement is sent only on commit. */
  announce(trx: Transaction<Database>, change: StoreChange): Promise<void>;
  subscribe(listener: (change: StoreChange) => void): void;
  close(): Promise<void>;
}

const SORT_COLUMN: Record<SortField, keyof TokensTable> = {
  name: 'name_lower',
  status: 'status',
  id: 'id',
  creationDate: 'created_at',
  lastUpdated: 'updated_at',
  expirationDate: 'expiration_sort',
};

const PUBLIC_COLUMNS = [
  'id',
  'instance_id',
  'name',
  'description',
  'scope',
  'status',
  'created_at',
  'updated_at',
  'expiration_sort',
  'last_used',
  'creator_id',
  'creator_type',
  'creator_name',
] as const;

type PublicRow = Pick<TokensTable, (typeof PUBLIC_COLUMNS)[number]>;

/** Offsets from which a page is read by deferred join rather than one plain query. */
const DEFERRED_JOIN_OFFSET = 1000;

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toInstance(row: InstancesTable): InstanceRecord {
  return { id: row.id, name: row.name, creationDate: Number(row.created_at) };
}

function toRecord(row: PublicRow): TokenRecord {
  const record: TokenRecord = {
    id: row.id,
    instanceId: row.instance_id,
    name: row.name,
    scope: JSON.parse(row.scope) as string[],
    status: row.status as TokenStatus,
    creationDate: Number(row.created_at),
    lastUpdated: Number(row.updated_at),
    creatorType: row.creator_type as TokenRecord['creatorType'],
  };
  if (row.description !== null) record.description = row.description;
  if (Number(row.expiration_sort) !== NEVER_EXPIRES) record.expirationDate = Number(row.expiration_sort);
  if (row.last_used !== null) record.lastUsed = Number(row.last_used);
  if (row.creator_id !== null) record.creatorId = row.creator_id;
  if (row.creator_name !== null) record.creatorName = row.creator_name;
  return record;
}

/** What decides the SQL text of `filtered()`: which of its conditions are present. */
function filterShape(spec: ListSpec): string {
  const glob = spec.nameGlob;
  const globShape = !glob
    ? 'none'
    : glob.exact
      ? 'exact'
      : `p${glob.prefix ? 1 : 0}u${upperBound(glob) !== undefined ? 1 : 0}l${glob.prefixOnly ? 0 : 1}`;
  return `s${spec.statuses?.length ?? '-'}:${globShape}`;
}

/** The values `filtered()` binds, in the order it binds them. */
function filterParameters(instanceId: string, spec: ListSpec): unknown[] {
  const out: unknown[] = [instanceId, ...(spec.statuses ?? [])];
  const glob = spec.nameGlob;
  if (glob) {
    if (glob.exact) {
      out.push(glob.prefix);
    } else {
      if (glob.prefix) {
        out.push(glob.prefix);
        const upper = upperBound(glob);
        if (upper !== undefined) out.push(upper);
      }
      if (!glob.prefixOnly) out.push(glob.like);
    }
  }
  return out;
}

function upperBound(glob: CompiledGlob): string | undefined {
  return glob.prefix ? prefixUpperBound(glob.prefix) : undefined;
}

// LIMIT and OFFSET as explicit integer casts: SQLite runs a page query with a bare bound
// `LIMIT ?` about 10 µs slower than with `LIMIT CAST(? AS INTEGER)` (measured with
// better-sqlite3 on 10-row pages); PostgreSQL takes either.
const pageLimit = (n: number) => sql<number>`cast(${n} as integer)`;
const pageOffset = (n: number) => sql<number>`cast(${n} as bigint)`;

export class KyselyTokenStore implements TokenStore {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    readonly location: string,
    private readonly caps: StoreCapabilities,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {}

  async migrate(): Promise<void> {
    const db = this.caps.maintenanceDb?.() ?? this.db;
    const migrator = new Migrator({ db, provider: migrationProvider(this.dialect) });
    const { error, results } = await migrator.migrateToLatest().finally(async () => {
      if (db !== this.db) await db.destroy();
    });
    if (error) {
      const failed = results?.find((r) => r.status === 'Error');
      throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String((error as Error).message ?? error)}`);
    }
  }

  async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.db);
  }

  async runExclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (!this.caps.advisoryLocks) return fn();
    const key = `tessera:${name}`;
    // The lock lives on a connection of its own, held for the duration, so `fn` can use
    // the whole request pool (even one of size 1) and waiting has no time limit.
    const lockDb = this.caps.maintenanceDb?.() ?? this.db;
    try {
      return await lockDb.connection().execute(async (conn) => {
        await sql`SELECT pg_advisory_lock(hashtext(${key}))`.execute(conn);
        try {
          return await fn();
        } finally {
          await sql`SELECT pg_advisory_unlock(hashtext(${key}))`.execute(conn);
        }
      });
    } finally {
      if (lockDb !== this.db) await lockDb.destroy();
    }
  }

  onChange(listener: (change: StoreChange) => void): void {
    this.caps.changeFeed?.subscribe(listener);
  }

  get soleWriter(): boolean {
    return this.caps.soleWriter;
  }

  claimForServing(): () => void {
    return this.caps.serveLock?.() ?? (() => {});
  }

  private tokenWriteListeners: Array<(instanceId: string, id: string) => void> = [];

  onTokenWrite(listener: (instanceId: string, id: string) => void): void {
    this.tokenWriteListeners.push(listener);
  }

  /** Tells the listeners about a token write; called once the write is over, committed or not. */
  private wroteToken(instanceId: string, id: string): void {
    for (const listener of this.tokenWriteListeners) listener(instanceId, id);
  }

  async close(): Promise<void> {
    await this.caps.changeFeed?.close();
    await this.db.destroy();
    await this.onClose();
  }

  async createInstance(instance: InstanceRecord): Promise<void> {
    await this.db
      .insertInto('instances')
      .values({ id: instance.id, name: instance.name, created_at: instance.creationDate })
      .execute();
  }

  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    const row = await this.db.selectFrom('instances').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toInstance(row);
  }

  async listInstances(): Promise<InstanceRecord[]> {
    const rows = await this.db.selectFrom('instances').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toInstance);
  }

  async insertToken(token: NewToken): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('tokens')
        .values({
          id: token.id,
          instance_id: token.instanceId,
          name: token.name,
          name_lower: token.name.toLowerCase(),
          description: token.description ?? null,
          scope: JSON.stringify(token.scope),
          status: token.status,
          created_at: token.creationDate,
          updated_at: token.lastUpdated,
          expiration_sort: token.expirationDate ?? NEVER_EXPIRES,
          last_used: token.lastUsed ?? null,
          creator_id: token.creatorId ?? null,
          creator_type: token.creatorType,
          creator_name: token.creatorName ?? null,
          token_hash: token.tokenHash,
        })
        .execute();
      await this.adjustCount(trx, token.instanceId, token.status, 1);
    });
  }

  async getToken(instanceId: string, id: string): Promise<TokenRecord | undefined> {
    const [row] = await this.runShaped('getToken', [instanceId, id], () =>
      this.db.selectFrom('tokens').select(PUBLIC_COLUMNS).where('instance_id', '=', instanceId).where('id', '=', id),
    );
    return row && toRecord(row);
  }

  async getAuthRecord(instanceId: string, id: string): Promise<AuthRecord | undefined> {
    const [row] = await this.runShaped('getAuthRecord', [instanceId, id], () =>
      this.db
        .selectFrom('tokens')
        .select([...PUBLIC_COLUMNS, 'token_hash'])
        .where('instance_id', '=', instanceId)
        .where('id', '=', id),
    );
    return row && { ...toRecord(row), tokenHash: row.token_hash };
  }

  /** SQL text of the hot read queries, by shape. */
  private readonly shapedSql = new Map<string, string>();

  /**
   * Runs a read whose SQL text depends only on `shape`, built and compiled by Kysely
   * the first time only: building and compiling cost more than running a small
   * indexed query (bench: a single-token GET went from ~100 to ~67 µs of server CPU).
   * `parameters` must be exactly what `build()` binds; the first use of each shape
   * checks that, so a mismatch fails loudly in the tests instead of binding wrongly.
   */
  private async runShaped<R>(shape: string, parameters: readonly unknown[], build: () => Compilable<R>): Promise<R[]> {
    let text = this.shapedSql.get(shape);
    if (text === undefined) {
      const compiled = build().compile();
      if (JSON.stringify(compiled.parameters) !== JSON.stringify(parameters)) {
        throw new Error(`store query ${shape}: the parameters given do not match the compiled query`);
      }
      text = compiled.sql;
      this.shapedSql.set(shape, text);
    }
    const result = await this.db.executeQuery(CompiledQuery.raw(text, [...parameters]) as CompiledQuery<R>);
    return result.rows;
  }

  async listTokens(instanceId: string, spec: ListSpec): Promise<ListResult> {
    if (spec.statuses && spec.statuses.length === 0) return { items: [], totalCount: 0 };
    const column = SORT_COLUMN[spec.sortField];

    // Near the start, one plain indexed query (SQLite skips the few offset rows without
    // reading them; bench: list perPage=10 ~265 → ~205 µs). Deeper, a deferred join:
    // find the page's ids from the index alone, then fetch only those rows.
    const shallow = spec.offset < DEFERRED_JOIN_OFFSET;
    const buildRows = () => {
      if (shallow) {
        let q = this.filtered(instanceId, spec).select(PUBLIC_COLUMNS).orderBy(column, spec.sortDirection);
        if (column !== 'id') q = q.orderBy('id', 'asc');
        return q.limit(pageLimit(spec.limit)).offset(pageOffset(spec.offset));
      }
      let pageIds = this.filtered(instanceId, spec).select('id').orderBy(column, spec.sortDirection);
      if (column !== 'id') pageIds = pageIds.orderBy('id', 'asc');
      pageIds = pageIds.limit(pageLimit(spec.limit)).offset(pageOffset(spec.offset));
      let rowsQuery = this.db
        .selectFrom(pageIds.as('p'))
        .innerJoin('tokens as t', 't.id', 'p.id')
        .select(PUBLIC_COLUMNS.map((c) => `t.${c}` as const))
        .orderBy(`t.${column}`, spec.sortDirection);
      if (column !== 'id') rowsQuery = rowsQuery.orderBy('t.id', 'asc');
      return rowsQuery;
    };
    const rowsShape = `rows:${shallow ? 'plain' : 'deferred'}:${column}:${spec.sortDirection}:${filterShape(spec)}`;
    const rowsParameters = [...filterParameters(instanceId, spec), spec.limit, spec.offset];

    const [rows, totalCount] = await Promise.all([
      this.runShaped(rowsShape, rowsParameters, buildRows),
      this.count(instanceId, spec),
    ]);
    return { items: rows.map((r) => toRecord(r as PublicRow)), totalCount };
  }

  private filtered(instanceId: string, spec: ListSpec): SelectQueryBuilder<Database, 'tokens', {}> {
    let q = this.db.selectFrom('tokens').where('instance_id', '=', instanceId);
    if (spec.statuses) q = q.where('status', 'in', [...spec.statuses]);
    const glob = spec.nameGlob;
    if (glob) {
      if (glob.exact) {
        q = q.where('name_lower', '=', glob.prefix);
      } else {
        if (glob.prefix) {
          q = q.where('name_lower', '>=', glob.prefix);
          const upper = prefixUpperBound(glob.prefix);
          if (upper !== undefined) q = q.where('name_lower', '<', upper);
        }
        if (!glob.prefixOnly) q = q.where(sql<boolean>`name_lower LIKE ${glob.like} ESCAPE '\\'`);
      }
    }
    return q;
  }

  /** Exact match count: kept counters when only status narrows, else COUNT(*) on the index. */
  private async count(instanceId: string, spec: ListSpec): Promise<number> {
    if (!spec.nameGlob) {
      const [row] = await this.runShaped(`counters:${spec.statuses?.length ?? 'all'}`, [instanceId, ...(spec.statuses ?? [])], () => {
        let q = this.db
          .selectFrom('instance_counts')
          .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('n'), sql<number>`0`).as('total'))
          .where('instance_id', '=', instanceId);
        if (spec.statuses) q = q.where('status', 'in', [...spec.statuses]);
        return q;
      });
      return Number(row?.total ?? 0);
    }
    const [row] = await this.runShaped(`count:${filterShape(spec)}`, filterParameters(instanceId, spec), () =>
      this.filtered(instanceId, spec).select((eb) => eb.fn.countAll<number>().as('total')),
    );
    return Number(row?.total ?? 0);
  }

  async updateToken(instanceId: string, id: string, changes: TokenChanges): Promise<TokenRecord | undefined> {
    try {
      return await this.updateTokenRow(instanceId, id, changes);
    } finally {
      this.wroteToken(instanceId, id);
    }
  }

  private async updateTokenRow(instanceId: string, id: string, changes: TokenChanges): Promise<TokenRecord | undefined> {
    return this.db.transaction().execute(async (trx) => {
      let current = trx
        .selectFrom('tokens')
        .select('status')
        .where('instance_id', '=', instanceId)
        .where('id', '=', id);
      if (this.caps.rowLocks) current = current.forUpdate();
      const before = await current.executeTakeFirst();
      if (!before) return undefined;
      const set: Partial<TokensTable> = { updated_at: changes.lastUpdated };
      if (changes.name !== undefined) {
        set.name = changes.name;
        set.name_lower = changes.name.toLowerCase();
      }
      if (changes.description !== undefined) set.description = changes.description;
      if (changes.status !== undefined) set.status = changes.status;
      const row = await trx
        .updateTable('tokens')
        .set(set)
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .returning(PUBLIC_COLUMNS)
        .executeTakeFirstOrThrow();
      if (changes.status !== undefined && changes.status !== before.status) {
        // Counter rows are locked in one fixed order (by status), so two replicas flipping
        // tokens in opposite directions cannot deadlock on them.
        const moves: Array<[string, number]> = [
          [before.status, -1],
          [changes.status, 1],
        ];
        moves.sort(([a], [b]) => (a < b ? -1 : 1));
        for (const [status, delta] of moves) await this.adjustCount(trx, instanceId, status, delta);
      }
      return toRecord(row);
    });
  }

  async deleteToken(instanceId: string, id: string): Promise<boolean> {
    try {
      return await this.deleteTokenRow(instanceId, id);
    } finally {
      this.wroteToken(instanceId, id);
    }
  }

  private async deleteTokenRow(instanceId: string, id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .deleteFrom('tokens')
        .where('instance_id', '=', instanceId)
        .where('id', '=', id)
        .returning('status')
        .executeTakeFirst();
      if (!row) return false;
      await this.adjustCount(trx, instanceId, row.status, -1);
      return true;
    });
  }

  async recordLastUsed(entries: readonly LastUsedEntry[]): Promise<void> {
    if (entries.length === 0) return;
    // Rows are updated in key order so concurrent batches from several replicas lock
    // them in the same order and cannot deadlock.
    const ordered = [...entries].sort((a, b) => compareKeys(a.instanceId, b.instanceId) || compareKeys(a.id, b.id));
    try {
      await this.db.transaction().execute(async (trx) => {
        for (const e of ordered) {
          await trx
            .updateTable('tokens')
            .set({ last_used: e.at })
            .where('instance_id', '=', e.instanceId)
            .where('id', '=', e.id)
            .where((eb) => eb.or([eb('last_used', 'is', null), eb('last_used', '<', e.at)]))
            .execute();
        }
      });
    } finally {
      for (const e of ordered) this.wroteToken(e.instanceId, e.id);
    }
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
    return rows.map((r) => ({
      kid: r.kid,
      algorithm: r.algorithm as 'EdDSA',
      publicJwk: r.public_jwk,
      privateJwk: r.private_jwk,
      createdAt: Number(r.created_at),
    }));
  }

  async insertSigningKey(key: SigningKeyRecord): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('signing_keys')
        .values({
          kid: key.kid,
          algorithm: key.algorithm,
          public_jwk: key.publicJwk,
          private_jwk: key.privateJwk,
          created_at: key.createdAt,
        })
        .execute();
      await this.caps.changeFeed?.announce(trx, 'signingKeys');
    });
  }

  async deleteSigningKey(kid: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx.deleteFrom('signing_keys').where('kid', '=', kid).executeTakeFirst();
      const deleted = Number(result.numDeletedRows) > 0;
      if (deleted) await this.caps.changeFeed?.announce(trx, 'signingKeys');
      return deleted;
    });
  }

  private async adjustCount(trx: Transaction<Database>, instanceId: string, status: string, delta: number) {
    await trx
      .insertInto('instance_counts')
      .values({ instance_id: instanceId, status, n: delta })
      .onConflict((oc) => oc.columns(['instance_id', 'status']).doUpdateSet({ n: sql<number>`instance_counts.n + ${delta}` }))
      .execute();
  }
}
