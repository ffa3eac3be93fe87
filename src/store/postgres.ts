// PostgreSQL adapter: a pg pool underneath Kysely. BIGINT columns come back as numbers
// (every value we store is a safe integer). Pool settings travel in the database URL as
// query parameters Tessera reads and removes (pool_max, connect_timeout_ms,
// query_timeout_ms), so `--database`/`DATABASE_URL` stays the one setting.
import pg from 'pg';
import { Kysely, PostgresDialect, sql, type LogEvent, type PostgresPool, type PostgresPoolClient } from 'kysely';
import { KyselyTokenStore, type ChangeFeed } from './kysely-store.js';
import { CHANGE_CHANNEL, PgChangeListener } from './pg-notify.js';
import type { Database } from './schema.js';

const INT8_OID = 20;

export interface PostgresOptions {
  /** Most connections the pool opens (URL `pool_max`, default 10). */
  poolSize?: number;
  /** How long to wait for a new connection before the request fails with 503 (URL `connect_timeout_ms`, default 5000). */
  connectTimeoutMs?: number;
  /**
   * Client-side limit on one query (URL `query_timeout_ms`, default 10000): when the
   * network silently drops packets a query fails instead of hanging the request.
   */
  queryTimeoutMs?: number;
  /** Called with every query Kysely runs (diagnostics and tests). */
  onQuery?: (event: LogEvent) => void;
}

const URL_OPTIONS: Record<string, keyof Omit<PostgresOptions, 'onQuery'>> = {
  pool_max: 'poolSize',
  connect_timeout_ms: 'connectTimeoutMs',
  query_timeout_ms: 'queryTimeoutMs',
};

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

/** Splits Tessera's pool parameters off the URL; the rest goes to pg unchanged. */
export function parsePostgresUrl(url: string): { connectionString: string; options: PostgresOptions } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { connectionString: url, options: {} };
  }
  const options: PostgresOptions = {};
  for (const [param, key] of Object.entries(URL_OPTIONS)) {
    const raw = u.searchParams.get(param);
    if (raw === null) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`invalid database URL parameter ${param}=${JSON.stringify(raw)}: must be a positive integer`);
    }
    options[key] = n;
    u.searchParams.delete(param);
  }
  return { connectionString: u.toString(), options };
}

export function createPool(connectionString: string, options: PostgresOptions = {}): pg.Pool {
  return new pg.Pool({
    connectionString,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    // 0 turns the limit off (migrations).
    query_timeout: options.queryTimeoutMs === 0 ? undefined : (options.queryTimeoutMs ?? 10_000),
    keepAlive: true,
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
}

const QUERY_TIMEOUT_MESSAGE = 'Query read timeout';

/**
 * The pg pool as Kysely sees it, with one difference: a client whose query hit the
 * client-side timeout is destroyed on release instead of returned to the pool. pg
 * leaves that query running on the connection, so the next request to borrow it
 * would queue behind a query that may never answer.
 */
function poolForKysely(pool: pg.Pool): PostgresPool {
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const timedOut = new WeakSet<pg.PoolClient>();
  return {
    async connect() {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (!wrapper) {
        wrapper = {
          query: (async (text: unknown, parameters?: ReadonlyArray<unknown>) => {
            try {
              return await client.query(text as string, parameters as unknown[]);
            } catch (err) {
              if ((err as Error)?.message === QUERY_TIMEOUT_MESSAGE) timedOut.add(client);
              throw err;
            }
          }) as unknown as PostgresPoolClient['query'],
          release: (destroy?: boolean) => client.release(destroy || timedOut.has(client) ? true : undefined),
        };
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
}

function kyselyOn(pool: pg.Pool, onQuery?: (event: LogEvent) => void): Kysely<Database> {
  // A client losing its connection must not crash the process. The pool listens only
  // while a client is idle; a client checked out for a query would otherwise emit an
  // unhandled 'error' when the server goes away mid-use. The query itself still fails
  // (→ 503), and the pool discards the dead client when it is released.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: poolForKysely(pool) }),
    ...(onQuery ? { log: onQuery } : {}),
  });
}

export function openPostgresStore(url: string, overrides: PostgresOptions = {}): KyselyTokenStore {
  const { connectionString, options: fromUrl } = parsePostgresUrl(url);
  const options = { ...fromUrl, ...overrides };
  const db = kyselyOn(createPool(connectionString, options), options.onQuery);
  // The LISTEN connection opens only when something subscribes (the server does; the
  // CLI does not).
  const listener = new PgChangeListener(connectionString);
  const changeFeed: ChangeFeed = {
    announce: async (trx, change) => {
      await sql`SELECT pg_notify(${CHANGE_CHANNEL}, ${change})`.execute(trx);
    },
    subscribe: (l) => listener.subscribe(l),
    close: () => listener.close(),
  };
  // Migrations and exclusive sections get their own small pool without the query
  // timeout: a replica may wait on a lock, or run a migration, for longer than one
  // request should.
  const maintenanceDb = () => kyselyOn(createPool(connectionString, { ...options, poolSize: 2, queryTimeoutMs: 0 }), options.onQuery);
  return new KyselyTokenStore(db, 'postgres', redactUrl(url), { rowLocks: true, advisoryLocks: true, soleWriter: false, changeFeed, maintenanceDb });
}
