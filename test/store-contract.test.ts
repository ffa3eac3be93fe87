// One store contract, every database: the same assertions run against a real SQLite
// file and against the real PostgreSQL server (a fresh database per run). Set
// TESSERA_TEST_DIALECTS=sqlite (or postgres) to narrow the list.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileGlob } from '../src/domain/glob.js';
import { newId } from '../src/domain/ids.js';
import { SORT_FIELDS, SORT_DIRECTIONS, type SortDirection, type SortField, type TokenStatus } from '../src/schema/api.js';
import { openPostgresStore } from '../src/store/postgres.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { Dialect, ListSpec, NewToken, TokenRecord, TokenStore } from '../src/store/types.js';
import { tempDir } from './helpers/server.js';
import { createTestDatabase, postgresAvailable, query, type TestDatabase } from './helpers/postgres.js';

interface Target {
  dialect: Dialect;
  setup(): Promise<void>;
  open(): TokenStore;
  teardown(): Promise<void>;
}

function sqliteTarget(): Target {
  let dir = '';
  return {
    dialect: 'sqlite',
    async setup() {
      dir = tempDir('tessera-store-');
    },
    open: () => openSqliteStore(join(dir, 'store.db')),
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresTarget(): Target {
  let db: TestDatabase | undefined;
  return {
    dialect: 'postgres',
    async setup() {
      db = await createTestDatabase();
    },
    open: () => openPostgresStore(db!.url, { poolSize: 4 }),
    async teardown() {
      await db?.drop();
    },
  };
}

const wanted = (process.env.TESSERA_TEST_DIALECTS ?? 'sqlite,postgres').split(',').map((d) => d.trim());
const TARGETS: Target[] = [];
if (wanted.includes('sqlite')) TARGETS.push(sqliteTarget());
if (wanted.includes('postgres') && (await postgresAvailable('store contract'))) TARGETS.push(postgresTarget());

let clock = Date.UTC(2026, 0, 1);
const tick = () => (clock += 1000);

function token(instanceId: string, fields: Partial<NewToken> = {}): NewToken {
  const now = tick();
  return {
    id: newId(now),
    instanceId,
    name: 'token',
    scope: ['all.Instance'],
    status: 'active',
    creationDate: now,
    lastUpdated: now,
    creatorType: 'user',
    creatorName: 'cli',
    tokenHash: 'ab'.repeat(32),
    ...fields,
  };
}

const view = ({ tokenHash: _hash, ...record }: NewToken): TokenRecord => record;

/** Byte (code point) order, as the `C` collation of name_lower compares. */
const bytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

function expectedOrder(tokens: TokenRecord[], field: SortField, direction: SortDirection): string[] {
  const key = (t: TokenRecord): string | number =>
    field === 'name'
      ? t.name.toLowerCase()
      : field === 'status'
        ? t.status
        : field === 'id'
          ? t.id
          : field === 'creationDate'
            ? t.creationDate
            : field === 'lastUpdated'
              ? t.lastUpdated
              : (t.expirationDate ?? Number.MAX_SAFE_INTEGER);
  const sign = direction === 'asc' ? 1 : -1;
  return [...tokens]
    .sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      const c = typeof ka === 'string' ? bytes(ka, kb as string) : ka - (kb as number);
      return c !== 0 ? sign * c : bytes(a.id, b.id);
    })
    .map((t) => t.id);
}

const list = (over: Partial<ListSpec> = {}): ListSpec => ({ sortField: 'name', sortDirection: 'asc', offset: 0, limit: 1000, ...over });

for (const target of TARGETS) {
  describe(`store contract on ${target.dialect}`, () => {
    let store: TokenStore;
    const newInstance = async (name = 'inst') => {
      const instance = { id: newId(tick()), name, creationDate: clock };
      await store.createInstance(instance);
      return instance.id;
    };

    beforeAll(async () => {
      await target.setup();
      store = target.open();
      await store.migrate();
    });
    afterAll(async () => {
      await store?.close();
      await target.teardown();
    });

    it('migrates idempotently and answers ping', async () => {
      await store.migrate();
      await expect(store.ping()).resolves.toBeUndefined();
      const again = target.open();
      await again.migrate();
      await again.close();
    });

    it('runs exclusive work, returning its value and releasing the lock on failure', async () => {
      await expect(store.runExclusive('contract', async () => 42)).resolves.toBe(42);
      await expect(store.runExclusive('contract', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      await expect(store.runExclusive('contract', async () => 'again')).resolves.toBe('again');
    });

    it('creates, gets and lists instances in creation order', async () => {
      const a = await newInstance('first');
      const b = await newInstance('second');
      expect(await store.getInstance(a)).toMatchObject({ id: a, name: 'first' });
      expect(await store.getInstance('ffffffffffffffffffffffff')).toBeUndefined();
      const ids = (await store.listInstances()).map((i) => i.id);
      expect(ids.indexOf(a)).toBeGreaterThanOrEqual(0);
      expect(ids.indexOf(a)).toBeLessThan(ids.indexOf(b));
      await expect(store.createInstance({ id: a, name: 'dup', creationDate: clock })).rejects.toThrow();
    });

    it('round-trips every field and scopes tokens by instance', async () => {
      const a = await newInstance();
      const b = await newInstance();
      const full = token(a, {
        name: 'Full Ünïcode 名前',
        description: 'with "quotes" and \\ backslash',
        scope: ['instanceApiTokens.get', 'instanceApiToken.patch'],
        status: 'inactive',
        expirationDate: clock + 86_400_000,
        lastUsed: clock - 5,
        creatorId: newId(clock),
        creatorType: 'apiToken',
        creatorName: 'creator',
        tokenHash: 'cd'.repeat(32),
      });
      const bare = token(a, { creatorName: undefined });
      delete bare.creatorName;
      await store.insertToken(full);
      await store.insertToken(bare);

      expect(await store.getToken(a, full.id)).toEqual(view(full));
      expect(await store.getToken(a, bare.id)).toEqual(view(bare));
      const auth = await store.getAuthRecord(a, full.id);
      expect(auth).toEqual({ ...view(full), tokenHash: full.tokenHash });
      expect(await store.getToken(a, full.id)).not.toHaveProperty('tokenHash');

      // Another instance's token is simply not found, by any method.
      expect(await store.getToken(b, full.id)).toBeUndefined();
      expect(await store.getAuthRecord(b, full.id)).toBeUndefined();
      expect(await store.updateToken(b, full.id, { name: 'stolen', lastUpdated: tick() })).toBeUndefined();
      expect(await store.deleteToken(b, full.id)).toBe(false);
      expect((await store.listTokens(b, list())).items).toEqual([]);
      expect((await store.listTokens(b, list())).totalCount).toBe(0);
      expect((await store.getToken(a, full.id))?.name).toBe(full.name);

      await expect(store.insertToken({ ...bare })).rejects.toThrow();
    });

    describe('listing', () => {
      let inst: string;
      let all: TokenRecord[];
      const names = ['bravo', 'Alpha', 'charlie', 'alpha', 'ALPHA', 'delta', 'Écho', 'zulu', '日本', 'émoji 😀', '100%', '1000', 'a_c', 'abc', 'back\\slash', 'backXslash', 'X-Ray (v1.0) [a+b]'];

      beforeAll(async () => {
        inst = await newInstance('lists');
        const base = clock;
        const made: NewToken[] = [];
        names.forEach((name, i) => {
          made.push(
            token(inst, {
              name,
              status: i % 3 === 0 ? 'inactive' : 'active',
              // Ties on dates, so the id tie-break is exercised on every field.
              creationDate: base + Math.floor(i / 3) * 1000,
              lastUpdated: base + Math.floor(i / 4) * 1000,
              expirationDate: i % 4 === 0 ? undefined : base + 1e9 + (i % 5) * 1000,
            }),
          );
        });
        for (const t of made) {
          if (t.expirationDate === undefined) delete t.expirationDate;
          await store.insertToken(t);
        }
        all = made.map(view);
      });

      it('orders every sort field in both directions with ids breaking ties ascending', async () => {
        for (const sortField of SORT_FIELDS) {
          for (const sortDirection of SORT_DIRECTIONS) {
            const got = await store.listTokens(inst, list({ sortField, sortDirection }));
            expect(got.items.map((t) => t.id), `${sortField} ${sortDirection}`).toEqual(expectedOrder(all, sortField, sortDirection));
            expect(got.totalCount).toBe(all.length);
          }
        }
      });

      it('sorts names case-insensitively and undated tokens last ascending, first descending', async () => {
        const byName = (await store.listTokens(inst, list())).items.map((t) => t.name);
        expect(byName.slice(0, 3).map((n) => n.toLowerCase())).toEqual(['100%', '1000', 'a_c']);
        expect(byName.indexOf('bravo')).toBeLessThan(byName.indexOf('charlie'));
        expect(byName.indexOf('Alpha')).toBeLessThan(byName.indexOf('bravo'));
        const asc = (await store.listTokens(inst, list({ sortField: 'expirationDate' }))).items;
        const undated = asc.filter((t) => t.expirationDate === undefined).length;
        expect(undated).toBeGreaterThan(0);
        expect(asc.slice(-undated).every((t) => t.expirationDate === undefined)).toBe(true);
        const desc = (await store.listTokens(inst, list({ sortField: 'expirationDate', sortDirection: 'desc' }))).items;
        expect(desc.slice(0, undated).every((t) => t.expirationDate === undefined)).toBe(true);
      });

      it('pages without overlap or gaps, including deep and past-the-end offsets', async () => {
        for (const sortField of ['name', 'creationDate', 'expirationDate'] as const) {
          const seen: string[] = [];
          for (let offset = 0; offset < all.length + 6; offset += 3) {
            const page = await store.listTokens(inst, list({ sortField, sortDirection: 'desc', offset, limit: 3 }));
            expect(page.totalCount).toBe(all.length);
            seen.push(...page.items.map((t) => t.id));
          }
          expect(seen).toEqual(expectedOrder(all, sortField, 'desc'));
        }
        const past = await store.listTokens(inst, list({ offset: 10_000, limit: 10 }));
        expect(past).toEqual({ items: [], totalCount: all.length });
      });

      it('filters names by glob with literal % _ \\ and unicode, case-insensitively', async () => {
        const globs = ['alpha', 'ALPHA', 'a*', 'A?C', 'a_c', '100%', '100*', '1?00', '*%', 'back\\slash', 'back?slash', '*\\*', 'é*', 'ÉCHO', '日*', '*😀', '?', '*', '**', 'zulu*', '*a*', 'nomatch*', '%', '_*', 'x-ray*', '*(v1.0) [a+b]', '*.*', '*[*'];
        for (const g of globs) {
          const glob = compileGlob(g);
          const got = await store.listTokens(inst, list({ nameGlob: glob }));
          const expected = all.filter((t) => glob.test(t.name));
          expect(got.items.map((t) => t.name).sort(), g).toEqual(expected.map((t) => t.name).sort());
          expect(got.totalCount, g).toBe(expected.length);
        }
        // Spot checks that do not lean on the in-memory matcher.
        const names = async (g: string) => (await store.listTokens(inst, list({ nameGlob: compileGlob(g) }))).items.map((t) => t.name).sort();
        expect(await names('100%')).toEqual(['100%']);
        expect(await names('a_c')).toEqual(['a_c']);
        expect(await names('a?c')).toEqual(['a_c', 'abc']);
        expect(await names('back\\slash')).toEqual(['back\\slash']);
        expect(await names('alpha')).toEqual(['ALPHA', 'Alpha', 'alpha']);
        expect(await names('écho')).toEqual(['Écho']);
        expect(await names('%')).toEqual([]);
        expect(await names('x-ray (v1.0) [a+b]')).toEqual(['X-Ray (v1.0) [a+b]']);
      });

      it('filters by status and combines status, glob, sort and paging', async () => {
        for (const statuses of [['active'], ['inactive'], ['active', 'inactive']] as TokenStatus[][]) {
          const got = await store.listTokens(inst, list({ statuses }));
          const expected = all.filter((t) => statuses.includes(t.status));
          expect(got.items.map((t) => t.id)).toEqual(expectedOrder(expected, 'name', 'asc'));
          expect(got.totalCount).toBe(expected.length);
        }
        expect(await store.listTokens(inst, list({ statuses: [] }))).toEqual({ items: [], totalCount: 0 });
        const glob = compileGlob('a*');
        const expected = all.filter((t) => t.status === 'active' && glob.test(t.name));
        const page = await store.listTokens(inst, list({ statuses: ['active'], nameGlob: glob, sortField: 'id', sortDirection: 'desc', offset: 1, limit: 2 }));
        expect(page.items.map((t) => t.id)).toEqual(expectedOrder(expected, 'id', 'desc').slice(1, 3));
        expect(page.totalCount).toBe(expected.length);
      });
    });

    it('keeps counts exact through inserts, status changes, renames and deletes', async () => {
      const inst = await newInstance();
      const made: NewToken[] = [];
      for (let i = 0; i < 12; i++) {
        const t = token(inst, { name: `count-${i}`, status: i < 4 ? 'inactive' : 'active' });
        made.push(t);
        await store.insertToken(t);
      }
      const counts = async () => ({
        all: (await store.listTokens(inst, list({ limit: 1 }))).totalCount,
        active: (await store.listTokens(inst, list({ limit: 1, statuses: ['active'] }))).totalCount,
        inactive: (await store.listTokens(inst, list({ limit: 1, statuses: ['inactive'] }))).totalCount,
        glob: (await store.listTokens(inst, list({ limit: 1, nameGlob: compileGlob('count-1*') }))).totalCount,
      });
      expect(await counts()).toEqual({ all: 12, active: 8, inactive: 4, glob: 3 });

      await store.updateToken(inst, made[0].id, { status: 'active', lastUpdated: tick() });
      await store.updateToken(inst, made[0].id, { status: 'active', lastUpdated: tick() }); // no change
      await store.updateToken(inst, made[5].id, { status: 'inactive', name: 'renamed', lastUpdated: tick() });
      expect(await counts()).toEqual({ all: 12, active: 8, inactive: 4, glob: 3 });
      await store.updateToken(inst, made[6].id, { status: 'inactive', lastUpdated: tick() });
      expect(await counts()).toEqual({ all: 12, active: 7, inactive: 5, glob: 3 });

      expect(await store.deleteToken(inst, made[1].id)).toBe(true); // inactive, matches count-1*
      expect(await store.deleteToken(inst, made[10].id)).toBe(true); // active, matches count-1*
      expect(await store.deleteToken(inst, made[10].id)).toBe(false);
      expect(await store.deleteToken(inst, 'ffffffffffffffffffffffff')).toBe(false);
      expect(await counts()).toEqual({ all: 10, active: 6, inactive: 4, glob: 1 });
      const items = (await store.listTokens(inst, list())).items;
      expect(items).toHaveLength(10);
      expect(items.filter((t) => t.status === 'active')).toHaveLength(6);
    });

    it('keeps counts exact and never deadlocks under concurrent status flips and deletes', async () => {
      const inst = await newInstance();
      const made: NewToken[] = [];
      for (let i = 0; i < 20; i++) made.push(token(inst, { name: `race-${i}`, status: i % 2 ? 'active' : 'inactive' }));
      await Promise.all(made.map((t) => store.insertToken(t)));
      const ops: Promise<unknown>[] = [];
      for (let round = 0; round < 5; round++) {
        made.forEach((t, i) => {
          const status: TokenStatus = (i + round) % 2 ? 'inactive' : 'active';
          ops.push(store.updateToken(inst, t.id, { status, lastUpdated: tick() }));
        });
        ops.push(store.recordLastUsed(made.map((t) => ({ instanceId: inst, id: t.id, at: tick() }))));
        ops.push(store.recordLastUsed([...made].reverse().map((t) => ({ instanceId: inst, id: t.id, at: tick() }))));
      }
      ops.push(...made.slice(0, 5).map((t) => store.deleteToken(inst, t.id)));
      await Promise.all(ops);
      const items = (await store.listTokens(inst, list())).items;
      expect(items).toHaveLength(15);
      const active = items.filter((t) => t.status === 'active').length;
      expect((await store.listTokens(inst, list({ statuses: ['active'] }))).totalCount).toBe(active);
      expect((await store.listTokens(inst, list({ statuses: ['inactive'] }))).totalCount).toBe(15 - active);
      expect((await store.listTokens(inst, list())).totalCount).toBe(15);
    });

    it('updates name, description and status and returns the new record', async () => {
      const inst = await newInstance();
      const t = token(inst, { name: 'before', description: 'old' });
      await store.insertToken(t);
      const at = tick();
      const updated = await store.updateToken(inst, t.id, { name: 'After', description: '', status: 'inactive', lastUpdated: at });
      expect(updated).toEqual({ ...view(t), name: 'After', description: '', status: 'inactive', lastUpdated: at });
      expect(await store.getToken(inst, t.id)).toEqual(updated);
      expect((await store.listTokens(inst, list({ nameGlob: compileGlob('after') }))).items.map((x) => x.id)).toEqual([t.id]);
      expect((await store.listTokens(inst, list({ nameGlob: compileGlob('before') }))).items).toEqual([]);
      expect(await store.updateToken(inst, 'ffffffffffffffffffffffff', { name: 'x', lastUpdated: tick() })).toBeUndefined();
    });

    it('records lastUsed in batches, never moving it backwards or across instances', async () => {
      const a = await newInstance();
      const b = await newInstance();
      const t1 = token(a);
      const t2 = token(a, { lastUsed: 5_000 });
      await store.insertToken(t1);
      await store.insertToken(t2);
      await store.recordLastUsed([]);
      await store.recordLastUsed([
        { instanceId: a, id: t1.id, at: 10_000 },
        { instanceId: a, id: t2.id, at: 4_000 },
        { instanceId: b, id: t1.id, at: 99_000 },
        { instanceId: a, id: 'ffffffffffffffffffffffff', at: 1 },
      ]);
      expect((await store.getToken(a, t1.id))?.lastUsed).toBe(10_000);
      expect((await store.getToken(a, t2.id))?.lastUsed).toBe(5_000);
      await store.recordLastUsed([{ instanceId: a, id: t2.id, at: 6_000 }]);
      expect((await store.getToken(a, t2.id))?.lastUsed).toBe(6_000);
      // lastUsed is not an edit.
      expect((await store.getToken(a, t2.id))?.lastUpdated).toBe(t2.lastUpdated);
    });

    it('stores, lists in age order and removes signing keys', async () => {
      const before = await store.listSigningKeys();
      const k1 = { kid: `k1-${newId(tick())}`, algorithm: 'EdDSA' as const, publicJwk: '{"x":"1"}', privateJwk: '{"d":"1"}', createdAt: 9e12 };
      const k2 = { ...k1, kid: `k2-${newId(tick())}`, createdAt: 9e12 + 1 };
      await store.insertSigningKey(k2);
      await store.insertSigningKey(k1);
      const keys = await store.listSigningKeys();
      expect(keys.slice(-2)).toEqual([k1, k2]);
      expect(keys).toHaveLength(before.length + 2);
      await expect(store.insertSigningKey(k1)).rejects.toThrow();
      expect(await store.deleteSigningKey(k1.kid)).toBe(true);
      expect(await store.deleteSigningKey(k1.kid)).toBe(false);
      expect((await store.listSigningKeys()).map((k) => k.kid)).not.toContain(k1.kid);
      await store.deleteSigningKey(k2.kid);
    });
  });
}

// PostgreSQL-only properties of the deployment: replicas migrating at once, and the
// indexes that keep page 0 of every sort and prefix filters off full scans.
const postgres = TARGETS.find((t) => t.dialect === 'postgres');
describe.skipIf(!postgres)('postgres store', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  it('migrates safely when several replicas start at once', async () => {
    const stores = Array.from({ length: 4 }, () => openPostgresStore(db.url, { poolSize: 2 }));
    try {
      const results = await Promise.allSettled(stores.map((s) => s.migrate()));
      expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok', 'ok']);
      const applied = await query(db.url, 'SELECT name FROM kysely_migration ORDER BY name');
      expect(applied.rows.map((r) => r.name)).toEqual(['0001_initial']);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('runs exclusive sections of different processes one at a time', async () => {
    const stores = Array.from({ length: 3 }, () => openPostgresStore(db.url, { poolSize: 2 }));
    try {
      let inside = 0;
      let most = 0;
      await Promise.all(
        stores.flatMap((s) => [1, 2].map(() =>
          s.runExclusive('overlap', async () => {
            most = Math.max(most, ++inside);
            await new Promise((r) => setTimeout(r, 20));
            inside--;
          }),
        )),
      );
      expect(most).toBe(1);
      // The lock does not take a slot of the request pool, so the section can use it.
      const tiny = openPostgresStore(`${db.url}?pool_max=1`);
      stores.push(tiny);
      await expect(tiny.runExclusive('overlap', async () => (await tiny.listInstances()).length)).resolves.toBeGreaterThanOrEqual(0);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('discards a connection whose query timed out instead of lending it out again', async () => {
    const store = openPostgresStore(`${db.url}?pool_max=1&query_timeout_ms=300`);
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await store.migrate();
      const known = { id: newId(tick()), name: 'known', creationDate: clock };
      await store.createInstance(known);
      // Another session inserts the same id and keeps its transaction open, so a plain
      // (non-transactional) insert of that id waits until the client gives up on it ...
      const contested = { id: newId(tick()), name: 'contested', creationDate: clock };
      await locker.query('BEGIN');
      await locker.query('INSERT INTO instances (id, name, created_at) VALUES ($1, $2, $3)', [contested.id, 'other', clock]);
      await expect(store.createInstance(contested)).rejects.toThrow(/timeout/i);
      // ... and the pool's only slot gets a fresh connection, not the one still waiting.
      expect((await store.getInstance(known.id))?.name).toBe('known');
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
      await store.close();
    }
  });

  it('tells other processes about signing-key changes, and resyncs after losing the listener', async () => {
    const watcher = openPostgresStore(db.url, { poolSize: 1 });
    const writer = openPostgresStore(db.url, { poolSize: 1 });
    const heard: string[] = [];
    const waitFor = async (n: number) => {
      for (let i = 0; i < 500 && heard.length < n; i++) await new Promise((r) => setTimeout(r, 10));
      return heard.length;
    };
    try {
      await writer.migrate();
      watcher.onChange((c) => heard.push(c));
      // The LISTEN connection is up once it shows in pg_stat_activity.
      for (let i = 0; i < 500; i++) {
        const r = await query(db.url, "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'", [db.name]);
        if (r.rowCount) break;
        await new Promise((res) => setTimeout(res, 10));
      }
      const kid = `notify-${newId(tick())}`;
      await writer.insertSigningKey({ kid, algorithm: 'EdDSA', publicJwk: '{}', privateJwk: '{}', createdAt: 1 });
      expect(await waitFor(1)).toBe(1);
      expect(await writer.deleteSigningKey(kid)).toBe(true);
      expect(await waitFor(2)).toBe(2);
      expect(await writer.deleteSigningKey(kid)).toBe(false); // nothing changed, nothing announced
      expect(heard).toEqual(['signingKeys', 'signingKeys']);

      // Kill the LISTEN connection: the watcher reconnects and reports a possible change,
      // since notifications sent meanwhile are lost.
      const killed = await query(db.url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'", [db.name]);
      expect(killed.rowCount).toBe(1);
      expect(await waitFor(3)).toBe(3);
      await writer.insertSigningKey({ kid, algorithm: 'EdDSA', publicJwk: '{}', privateJwk: '{}', createdAt: 1 });
      expect(await waitFor(4)).toBe(4);
      await writer.deleteSigningKey(kid);
    } finally {
      await Promise.all([watcher.close(), writer.close()]);
    }
  });

  it('serves page 0 of every sort and prefix/case-insensitive filters from indexes', async () => {
    const captured: Array<{ sql: string; parameters: readonly unknown[] }> = [];
    const store = openPostgresStore(db.url, { poolSize: 2, onQuery: (e) => captured.push(e.query) });
    try {
      await store.migrate();
      // Two big instances, so the plans must narrow by instance as well as by order.
      const big = ['aaaaaaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbbbbbb'];
      for (const [n, id] of big.entries()) {
        await query(db.url, 'INSERT INTO instances (id, name, created_at) VALUES ($1, $2, 0)', [id, `big-${n}`]);
        await query(
          db.url,
          `INSERT INTO tokens (id, instance_id, name, name_lower, description, scope, status, created_at, updated_at,
                               expiration_sort, last_used, creator_id, creator_type, creator_name, token_hash)
           SELECT $2 || lpad(to_hex(g), 23, '0'), $1, 'Name-' || md5(g::text), 'name-' || md5(g::text), NULL, '["all.Instance"]',
                  CASE WHEN g % 3 = 0 THEN 'inactive' ELSE 'active' END, g * 7 % 20000, g * 11 % 20000,
                  CASE WHEN g % 4 = 0 THEN ${Number.MAX_SAFE_INTEGER} ELSE g END, NULL, NULL, 'user', 'cli', md5(g::text)
           FROM generate_series(1, 20000) AS g`,
          [id, String(n)],
        );
      }
      await query(db.url, 'ANALYZE tokens');

      const plans: string[] = [];
      const planOf = async (spec: ListSpec) => {
        captured.length = 0;
        const result = await store.listTokens(big[0], spec);
        expect(result.items.length).toBeGreaterThan(0);
        const text: string[] = [];
        for (const q of captured) {
          const explained = await query(db.url, `EXPLAIN ${q.sql}`, [...q.parameters]);
          text.push(explained.rows.map((r) => r['QUERY PLAN']).join('\n'));
        }
        return text.join('\n---\n');
      };

      for (const sortField of SORT_FIELDS) {
        for (const sortDirection of SORT_DIRECTIONS) {
          const plan = await planOf(list({ sortField, sortDirection, limit: 100 }));
          plans.push(`${sortField} ${sortDirection}:\n${plan}`);
          expect(plan, `${sortField} ${sortDirection}`).not.toMatch(/Seq Scan on tokens/);
          // The page is read in index order and stops at the limit: nothing below the
          // Limit node sorts the instance's rows.
          const belowLimit = plan.slice(plan.indexOf('Limit'));
          expect(belowLimit, `${sortField} ${sortDirection}`).toMatch(/^Limit[^\n]*\n\s*->  Index (Only )?Scan (Backward )?using tokens_/);
          expect(belowLimit.split('---')[0], `${sortField} ${sortDirection}`).not.toMatch(/Sort/);
        }
      }
      for (const g of ['NAME-a*', 'name-ab?d*', 'Name-00*']) {
        const plan = await planOf(list({ nameGlob: compileGlob(g), limit: 100 }));
        plans.push(`filter ${g}:\n${plan}`);
        expect(plan, g).not.toMatch(/Seq Scan on tokens/);
        expect(plan, g).toMatch(/Index Cond: .*name_lower >=/);
      }
      const statusPlan = await planOf(list({ statuses: ['inactive'], sortField: 'creationDate', limit: 100 }));
      plans.push(`status inactive:\n${statusPlan}`);
      expect(statusPlan).not.toMatch(/Seq Scan on tokens/);
      expect(statusPlan).toMatch(/instance_counts_pkey|Seq Scan on instance_counts/);
      if (process.env.TESSERA_TEST_SHOW_PLANS) console.log(plans.join('\n\n'));
    } finally {
      await store.close();
    }
  });
});
