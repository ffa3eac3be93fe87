// Seeds one instance with N tokens. The instance, its admin token and the signing key
// are made through the real service (so the bench can authenticate); the bulk rows go
// in with raw batched INSERTs, one transaction per batch, into the columns the
// migrations create, and `instance_counts` is set to match.
import { openCore } from '../../dist/server.js';
import { TOKEN_COLUMNS, tokenRows } from './data.js';

const SQLITE_BATCH = 10_000;
const PG_BATCH = 10_000;

export async function seed({ database, tokens, log }) {
  const core = await openCore({ database, sqliteSynchronous: 'NORMAL' });
  let instance;
  let admin;
  try {
    ({ instance, admin } = await core.service.createInstance('bench'));
  } finally {
    await core.store.close();
  }
  const started = performance.now();
  const rows = { instanceId: instance.id, count: tokens, now: Date.now() };
  if (/^postgres(ql)?:\/\//i.test(database)) await seedPostgres(database, rows, log);
  else await seedSqlite(database, rows, log);
  const seconds = (performance.now() - started) / 1000;
  return { instanceId: instance.id, adminToken: admin.token, adminTokenId: admin.record.id, rows: tokens, seconds, rowsPerSecond: tokens / seconds };
}

function progress(log, done, total, started) {
  if (done % 100_000 === 0 || done === total) {
    const s = (performance.now() - started) / 1000;
    log(`  seeded ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} (${Math.round(done / s).toLocaleString('en-US')} rows/s)`);
  }
}

async function seedSqlite(file, spec, log) {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // A large page cache keeps the eleven indexes in memory while they grow (seeder only).
  db.pragma('cache_size = -262144');
  // Secondary indexes are dropped for the load and rebuilt afterwards from their own
  // stored definitions (so they are exactly the migrations' indexes): building an index
  // once from sorted data is far faster than growing eleven of them row by row.
  const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tokens' AND sql IS NOT NULL").all();
  for (const { name } of indexes) db.exec(`DROP INDEX "${name}"`);
  const insert = db.prepare(`INSERT INTO tokens (${TOKEN_COLUMNS.join(', ')}) VALUES (${TOKEN_COLUMNS.map(() => '?').join(', ')})`);
  const insertBatch = db.transaction((batch) => {
    for (const row of batch) insert.run(row);
  });
  const started = performance.now();
  let done = 0;
  for (const batch of tokenRows({ ...spec, batchSize: SQLITE_BATCH })) {
    insertBatch(batch);
    done += batch.length;
    progress(log, done, spec.count, started);
  }
  log(`  rebuilding ${indexes.length} indexes`);
  for (const { sql } of indexes) db.exec(sql);
  db.transaction(() => {
    db.prepare('DELETE FROM instance_counts WHERE instance_id = ?').run(spec.instanceId);
    db.prepare(
      'INSERT INTO instance_counts (instance_id, status, n) SELECT instance_id, status, COUNT(*) FROM tokens WHERE instance_id = ? GROUP BY instance_id, status',
    ).run(spec.instanceId);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

const PG_TYPES = {
  created_at: 'bigint', updated_at: 'bigint', expiration_sort: 'bigint', last_used: 'bigint',
};

async function seedPostgres(url, spec, log) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // One array parameter per column, unnested into rows: one round trip per batch.
    const columns = TOKEN_COLUMNS.map((c, i) => `$${i + 1}::${PG_TYPES[c] ?? 'text'}[]`).join(', ');
    const text = `INSERT INTO tokens (${TOKEN_COLUMNS.join(', ')}) SELECT * FROM unnest(${columns})`;
    // As for SQLite: drop the secondary indexes, load, rebuild them from their definitions.
    const { rows: indexes } = await client.query(
      "SELECT i.indexname AS name, i.indexdef AS sql FROM pg_indexes i WHERE i.schemaname = current_schema() AND i.tablename = 'tokens' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
    );
    for (const { name } of indexes) await client.query(`DROP INDEX "${name}"`);
    const started = performance.now();
    let done = 0;
    for (const batch of tokenRows({ ...spec, batchSize: PG_BATCH })) {
      const arrays = TOKEN_COLUMNS.map((_, c) => batch.map((row) => row[c]));
      await client.query(text, arrays);
      done += batch.length;
      progress(log, done, spec.count, started);
    }
    log(`  rebuilding ${indexes.length} indexes`);
    await client.query("SET maintenance_work_mem = '256MB'");
    for (const { sql } of indexes) await client.query(sql);
    await client.query('BEGIN');
    await client.query('DELETE FROM instance_counts WHERE instance_id = $1', [spec.instanceId]);
    await client.query(
      'INSERT INTO instance_counts (instance_id, status, n) SELECT instance_id, status, COUNT(*) FROM tokens WHERE instance_id = $1 GROUP BY instance_id, status',
      [spec.instanceId],
    );
    await client.query('COMMIT');
    // What autovacuum would do soon after a bulk load: planner statistics and the visibility map.
    log('  VACUUM ANALYZE tokens');
    await client.query('VACUUM ANALYZE tokens');
  } finally {
    await client.end();
  }
}
