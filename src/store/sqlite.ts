// SQLite adapter: one file, WAL journal, better-sqlite3 underneath Kysely.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { KyselyTokenStore } from './kysely-store.js';
import type { Database } from './schema.js';
import { acquireServeLock } from './serve-lock.js';

export interface SqliteOptions {
  /** PRAGMA synchronous: NORMAL survives a process crash (kill -9); FULL also a power cut. */
  synchronous?: 'NORMAL' | 'FULL';
}

/**
 * Kysely prepares every statement it runs; SQLite preparation is the larger part of a
 * small query's cost, so statements are kept by their SQL text and reused.
 */
function withStatementCache(db: BetterSqlite3.Database, size = 500): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(sqlText: string): SqliteStatement {
      let stmt = cache.get(sqlText);
      if (!stmt) {
        stmt = db.prepare(sqlText);
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
        cache.set(sqlText, stmt);
      }
      return stmt as unknown as SqliteStatement;
    },
    close() {
      cache.clear();
      db.close();
    },
  };
}

export function openSqliteStore(file: string, options: SqliteOptions = {}): KyselyTokenStore {
  const path = file === ':memory:' ? file : resolve(file);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const raw = new BetterSqlite3(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
  raw.pragma('busy_timeout = 5000');
  raw.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  return new KyselyTokenStore(db, 'sqlite', path, {
    rowLocks: false,
    advisoryLocks: false,
    soleWriter: true,
    serveLock: path === ':memory:' ? undefined : () => acquireServeLock(path),
  });
}
