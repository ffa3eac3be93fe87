// The PostgreSQL database a bench run seeds must be new or empty: the bench never
// writes into a database holding someone's tokens. `--reset` drops and re-creates it.
export async function prepareDatabase(url, { reset, log }) {
  if (!/^postgres(ql)?:\/\//i.test(url)) return;
  const { default: pg } = await import('pg');
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name || name === 'postgres') throw new Error('give the bench its own database, e.g. postgres://…/tessera_bench (it is seeded with a million rows)');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const quoted = `"${name.replace(/"/g, '""')}"`;
    const exists = (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount > 0;
    if (exists && reset) {
      log(`Dropping database ${name} (--reset)`);
      await client.query(`DROP DATABASE ${quoted} WITH (FORCE)`);
    }
    if (!exists || reset) {
      await client.query(`CREATE DATABASE ${quoted}`);
      return;
    }
  } finally {
    await client.end();
  }
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'");
    if (rows[0].n > 0) throw new Error(`database ${name} is not empty; pass --reset to drop and re-create it`);
  } finally {
    await db.end();
  }
}
