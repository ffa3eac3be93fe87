// The store compiles each read query's SQL once per shape and reuses the text with new
// values, and reads shallow pages with a plain query but deep ones with a deferred
// join. These tests call every shape twice with different values, and page across the
// switch, on SQLite and on PostgreSQL: a reused text bound to the wrong values, a shape
// key that misses a condition, or two paths that disagree on order fail here.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileGlob } from '../src/domain/glob.js';
import { newId } from '../src/domain/ids.js';
import type { TokenStatus } from '../src/schema/api.js';
import { openPostgresStore } from '../src/store/postgres.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { ListSpec, NewToken, TokenStore } from '../src/store/types.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './helpers/postgres.js';
import { tempDir } from './helpers/server.js';

const NAMES: Array<[string, TokenStatus]> = [
  ['alpha one', 'active'],
  ['Alpha two', 'inactive'],
  ['beta one', 'active'],
  ['BETA two', 'active'],
  ['gamma 50%_x', 'inactive'],
  ['delta', 'active'],
];

interface Opened {
  store: TokenStore;
  instances: [string, string];
  close(): Promise<void>;
}

async function seed(store: TokenStore): Promise<[string, string]> {
  await store.migrate();
  const instances: [string, string] = [newId(), newId()];
  let at = Date.UTC(2026, 0, 1);
  for (const instanceId of instances) {
    await store.createInstance({ id: instanceId, name: 'shapes', creationDate: at });
    for (const [name, status] of NAMES) {
      at += 1000;
      const t: NewToken = {
        id: newId(at),
        instanceId,
        name: instanceId === instances[0] ? name : `${name} (second)`,
        scope: ['all.Instance'],
        status,
        creationDate: at,
        lastUpdated: at,
        creatorType: 'user',
        tokenHash: 'ab'.repeat(32),
      };
      await store.insertToken(t);
    }
  }
  return instances;
}

const targets: Array<{ dialect: string; open: () => Promise<Opened> }> = [
  {
    dialect: 'sqlite',
    async open() {
      const dir = tempDir('tessera-shapes-');
      const store = openSqliteStore(join(dir, 'shapes.db'));
      const instances = await seed(store);
      return { store, instances, close: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
    },
  },
];
if (await postgresAvailable('store shaped queries')) {
  targets.push({
    dialect: 'postgres',
    async open() {
      const db: TestDatabase = await createTestDatabase();
      const store = openPostgresStore(db.url, { poolSize: 2 });
      const instances = await seed(store);
      return { store, instances, close: async () => (await store.close(), await db.drop()) };
    },
  });
}

const spec = (fields: Partial<ListSpec> = {}): ListSpec => ({ sortField: 'name', sortDirection: 'asc', offset: 0, limit: 100, ...fields });

for (const target of targets) {
  describe(`reused query shapes on ${target.dialect}`, () => {
    let o: Opened;
    beforeAll(async () => {
      o = await target.open();
    });
    afterAll(async () => {
      await o?.close();
    });

    const names = async (instanceId: string, s: ListSpec) => {
      const r = await o.store.listTokens(instanceId, s);
      return { names: r.items.map((t) => t.name), totalCount: r.totalCount };
    };

    it('binds each call’s own instance, glob, statuses, limit and offset', async () => {
      const [a, b] = o.instances;
      // Each pair has the same shape and different values.
      const pairs: Array<[string, ListSpec, ListSpec]> = [
        ['no filter, page', spec({ limit: 2 }), spec({ limit: 3, offset: 1 })],
        ['prefix glob', spec({ nameGlob: compileGlob('alpha*') }), spec({ nameGlob: compileGlob('BETA*') })],
        ['exact glob', spec({ nameGlob: compileGlob('delta') }), spec({ nameGlob: compileGlob('ALPHA ONE') })],
        ['contains glob', spec({ nameGlob: compileGlob('*one*') }), spec({ nameGlob: compileGlob('*50%_*') })],
        ['prefix and like', spec({ nameGlob: compileGlob('a*two') }), spec({ nameGlob: compileGlob('b*one') })],
        ['one status', spec({ statuses: ['inactive'] }), spec({ statuses: ['active'] })],
        ['status and glob', spec({ statuses: ['active'], nameGlob: compileGlob('alpha*') }), spec({ statuses: ['inactive'], nameGlob: compileGlob('alpha*') })],
      ];
      const expected = (instanceId: string, s: ListSpec) => {
        const rows = NAMES.map(([n, status]) => ({ name: instanceId === a ? n : `${n} (second)`, status }))
          .filter((r) => (!s.statuses || s.statuses.includes(r.status)) && (!s.nameGlob || s.nameGlob.test(r.name)))
          .map((r) => r.name)
          .sort((x, y) => (x.toLowerCase() < y.toLowerCase() ? -1 : x.toLowerCase() > y.toLowerCase() ? 1 : 0));
        return { names: rows.slice(s.offset, s.offset + s.limit), totalCount: rows.length };
      };
      for (const [label, first, second] of pairs) {
        for (const instanceId of [a, b]) {
          for (const s of [first, second, first]) {
            expect(await names(instanceId, s), `${label} on instance ${instanceId === a ? 'a' : 'b'}`).toEqual(expected(instanceId, s));
          }
        }
      }
    });

    it('orders pages the same below and beyond the offset where deferred joins start', async () => {
      // 1,050 tokens: offsets under 1,000 are read with one plain query, from 1,000 on
      // with a deferred join; together they must give one consistent order.
      const instanceId = newId();
      await o.store.createInstance({ id: instanceId, name: 'deep', creationDate: Date.UTC(2026, 1, 1) });
      const all: NewToken[] = [];
      for (let i = 0; i < 1050; i++) {
        const at = Date.UTC(2026, 1, 1) + (i % 7) * 1000;
        const t: NewToken = {
          id: newId(at),
          instanceId,
          name: `deep ${(i * 7919) % 1050}`.padEnd(12, 'x'),
          scope: ['all.Instance'],
          status: i % 10 === 0 ? 'inactive' : 'active',
          creationDate: at,
          lastUpdated: at,
          creatorType: 'user',
          tokenHash: 'cd'.repeat(32),
        };
        all.push(t);
        await o.store.insertToken(t);
      }
      const cmp = (x: string | number, y: string | number) => (x < y ? -1 : x > y ? 1 : 0);
      const cases: Array<[ListSpec['sortField'], ListSpec['sortDirection'], (t: NewToken) => string | number]> = [
        ['name', 'asc', (t) => t.name.toLowerCase()],
        ['creationDate', 'desc', (t) => t.creationDate],
        ['status', 'asc', (t) => t.status],
      ];
      for (const [sortField, sortDirection, key] of cases) {
        const expected = [...all]
          .sort((x, y) => (sortDirection === 'asc' ? cmp(key(x), key(y)) : cmp(key(y), key(x))) || cmp(x.id, y.id))
          .map((t) => t.id);
        const page = async (offset: number, limit: number) =>
          (await o.store.listTokens(instanceId, spec({ sortField, sortDirection, offset, limit }))).items.map((t) => t.id);
        const got = [...(await page(0, 1000)), ...(await page(1000, 100))];
        expect(got, `${sortField} ${sortDirection}`).toEqual(expected);
        expect(await page(995, 10), `${sortField} ${sortDirection} across the boundary`).toEqual(expected.slice(995, 1005));
      }
    }, 60_000);

    it('reads single tokens of either instance by id after the shape is cached', async () => {
      const [a, b] = o.instances;
      const ofA = (await o.store.listTokens(a, spec())).items;
      const ofB = (await o.store.listTokens(b, spec())).items;
      for (const t of [...ofA, ...ofB]) {
        expect((await o.store.getToken(t.instanceId, t.id))?.name).toBe(t.name);
        expect((await o.store.getAuthRecord(t.instanceId, t.id))?.tokenHash).toBe('ab'.repeat(32));
      }
      // Another instance's id is simply not found, however warm the query is.
      expect(await o.store.getToken(b, ofA[0].id)).toBeUndefined();
      expect(await o.store.getAuthRecord(a, ofB[0].id)).toBeUndefined();
    });
  });
}
