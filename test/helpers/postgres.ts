// The real PostgreSQL server for tests. Each test file gets its own fresh database
// (tessera_test_<random>) created through the admin URL and dropped at the end, so runs
// never see each other's rows. Where no server answers: skip loudly locally, fail in CI.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function adminUrl(): string {
  return process.env.TESSERA_TEST_POSTGRES_URL || DEFAULT_ADMIN_URL;
}

export function isCi(): boolean {
  return /^(1|true|yes)$/i.test(process.env.CI ?? '');
}

async function reachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * True when the PostgreSQL suites should run. Unreachable: in CI that is an error (the
 * suite must not silently skip); locally it prints a loud message and returns false.
 */
export async function postgresAvailable(suite: string): Promise<boolean> {
  const url = adminUrl();
  const problem = await reachable(url);
  if (!problem) return true;
  const safeUrl = url.replace(/:[^:@/]*@/, ':***@');
  if (isCi()) {
    throw new Error(`CI=true but PostgreSQL at ${safeUrl} is unreachable (${problem}); the ${suite} suite must run in CI`);
  }
  const bar = '!'.repeat(78);
  console.warn(
    `\n${bar}\n!! SKIPPING ${suite} ON POSTGRESQL: no server at ${safeUrl} (${problem}).\n` +
      `!! Start PostgreSQL or set TESSERA_TEST_POSTGRES_URL; in CI (CI=true) this is a failure.\n${bar}\n`,
  );
  return false;
}

export interface TestDatabase {
  name: string;
  url: string;
  /** Terminates every connection to the database and drops it. */
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl(), connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `tessera_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: withDatabase(adminUrl(), name),
    async drop() {
      await admin(async (c) => {
        await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
        await c.query(`DROP DATABASE IF EXISTS ${name}`);
      });
    },
  };
}

/** Runs one query on the given database with a short-lived client. */
export async function query<R extends pg.QueryResultRow = any>(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await client.query<R>(text, values);
  } finally {
    await client.end().catch(() => {});
  }
}
