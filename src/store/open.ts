import type { TokenStore } from './types.js';
import { openSqliteStore, type SqliteOptions } from './sqlite.js';
import { openPostgresStore } from './postgres.js';

export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database);
}

/** Opens the store a `--database` value names: a postgres:// URL, or a SQLite file path. */
export function openStore(database: string, sqlite: SqliteOptions = {}): TokenStore {
  return isPostgresUrl(database) ? openPostgresStore(database) : openSqliteStore(database, sqlite);
}
