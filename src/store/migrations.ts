// Schema migrations, run by Kysely's Migrator on start. On PostgreSQL the Migrator holds
// an advisory lock, so replicas starting together migrate once. Each migration is plain
// SQL; where the dialects differ, the difference is a named piece below.
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from './types.js';

interface DialectSql {
  /** Column type of name_lower: byte-order collation so LIKE prefixes can use the index. */
  nameLowerType: string;
}

const DIALECT_SQL: Record<Dialect, DialectSql> = {
  sqlite: { nameLowerType: 'TEXT' },
  postgres: { nameLowerType: 'TEXT COLLATE "C"' },
};

// Each sort field gets two indexes: (field, id) serves ascending order, and
// (field, id DESC) read backwards serves descending order with ties still on id ASC.
const SORT_COLUMNS = ['name_lower', 'status', 'created_at', 'updated_at', 'expiration_sort'];

function initial(dialect: Dialect): string[] {
  const d = DIALECT_SQL[dialect];
  const statements = [
    `CREATE TABLE instances (
       id TEXT PRIMARY KEY,
       name TEXT NOT NULL,
       created_at BIGINT NOT NULL
     )`,
    `CREATE TABLE tokens (
       id TEXT PRIMARY KEY,
       instance_id TEXT NOT NULL REFERENCES instances(id),
       name TEXT NOT NULL,
       name_lower ${d.nameLowerType} NOT NULL,
       description TEXT,
       scope TEXT NOT NULL,
       status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
       created_at BIGINT NOT NULL,
       updated_at BIGINT NOT NULL,
       expiration_sort BIGINT NOT NULL,
       last_used BIGINT,
       creator_id TEXT,
       creator_type TEXT NOT NULL,
       creator_name TEXT,
       token_hash TEXT NOT NULL
     )`,
    `CREATE TABLE instance_counts (
       instance_id TEXT NOT NULL REFERENCES instances(id),
       status TEXT NOT NULL,
       n BIGINT NOT NULL,
       PRIMARY KEY (instance_id, status)
     )`,
    `CREATE TABLE signing_keys (
       kid TEXT PRIMARY KEY,
       algorithm TEXT NOT NULL,
       public_jwk TEXT NOT NULL,
       private_jwk TEXT NOT NULL,
       created_at BIGINT NOT NULL
     )`,
    `CREATE INDEX tokens_by_id ON tokens (instance_id, id)`,
  ];
  for (const col of SORT_COLUMNS) {
    statements.push(`CREATE INDEX tokens_by_${col} ON tokens (instance_id, ${col}, id)`);
    statements.push(`CREATE INDEX tokens_by_${col}_desc ON tokens (instance_id, ${col}, id DESC)`);
  }
  return statements;
}

const MIGRATIONS: Record<string, (dialect: Dialect) => string[]> = {
  '0001_initial': initial,
};

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, statementsFor] of Object.entries(MIGRATIONS)) {
        out[name] = {
          async up(db: Kysely<any>) {
            for (const statement of statementsFor(dialect)) await sql.raw(statement).execute(db);
          },
        };
      }
      return out;
    },
  };
}
