// PostgreSQL adapter: a pg pool underneath Kysely. BIGINT columns come back as numbers
// (every value we store is a safe integer).
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import { KyselyTokenStore } from './kysely-store.js';
import type { Database } from './schema.js';

const INT8_OID = 20;

export interface PostgresOptions {
  poolSize?: number;
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

export function createPool(url: string, options: PostgresOptions = {}): pg.Pool {
  return new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5000,
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
}

export function openPostgresStore(url: string, options: PostgresOptions = {}): KyselyTokenStore {
  const pool = createPool(url, options);
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return new KyselyTokenStore(db, 'postgres', redactUrl(url), { rowLocks: true });
}
