// Reads the SQLite file directly (a second, read-only connection), so tests can compare
// what is stored before and after a request without going through the server's store.
import BetterSqlite3 from 'better-sqlite3';

export interface DbReader {
  /** Every persisted row except `last_used`, which is written off the request path. */
  snapshot(): string;
  tokenIds(): Set<string>;
  integrityCheck(): string;
  close(): void;
}

export function openDbReader(file: string): DbReader {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  const tokens = db.prepare(
    `SELECT id, instance_id, name, name_lower, description, scope, status, created_at, updated_at,
            expiration_sort, creator_id, creator_type, creator_name, token_hash
       FROM tokens ORDER BY id`,
  );
  const instances = db.prepare('SELECT * FROM instances ORDER BY id');
  const counts = db.prepare('SELECT * FROM instance_counts ORDER BY instance_id, status');
  const keys = db.prepare('SELECT kid, created_at FROM signing_keys ORDER BY kid');
  const ids = db.prepare('SELECT id FROM tokens').pluck();
  return {
    snapshot: () =>
      JSON.stringify({ tokens: tokens.all(), instances: instances.all(), counts: counts.all(), keys: keys.all() }),
    tokenIds: () => new Set(ids.all() as string[]),
    integrityCheck: () => String(db.pragma('integrity_check', { simple: true })),
    close: () => db.close(),
  };
}
