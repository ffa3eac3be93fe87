// SPEC 2.2 ordering: for every sort field and direction, walking all pages with a small
// perPage yields every token exactly once, in the order computed here independently
// (case-insensitive names, undated tokens last ascending and first descending, ties
// broken by id ascending). Runs on SQLite and on PostgreSQL (a database of its own,
// dropped afterwards; see helpers/postgres.ts for when PostgreSQL is skipped).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/domain/ids.js';
import { SORT_FIELDS, type SortField } from '../src/schema/api.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './helpers/postgres.js';
import { startTestServer, type Api, type TestServer } from './helpers/server.js';

const DIALECTS = ['sqlite', ...((await postgresAvailable('sorting-paging')) ? ['postgres'] : [])] as const;

const NAMES = ['alpha', 'Alpha', 'ALPHA', 'Bravo', 'bravo', 'charlie', 'delta', 'Delta', 'echo', 'émile', 'Zoë', 'zulu',
  '_under', '%pct', '10', '9', 'ｆullwidth', '😀 smile', 'a b', 'a-b', 'a.b', 'aB', 'Ab'];
const T0 = Date.parse('2026-06-01T00:00:00.000Z');

/** UTF-8 byte order, which is code-point order (what SQLite BINARY and PostgreSQL "C" give). */
const bytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

interface Item {
  id: string;
  name: string;
  status: string;
  creationDate: string;
  lastUpdated: string;
  expirationDate?: string;
}

function keyOf(item: Item, field: SortField): string | number {
  switch (field) {
    case 'name':
      return item.name.toLowerCase();
    case 'status':
      return item.status;
    case 'id':
      return item.id;
    case 'creationDate':
      return Date.parse(item.creationDate);
    case 'lastUpdated':
      return Date.parse(item.lastUpdated);
    case 'expirationDate':
      return item.expirationDate === undefined ? Infinity : Date.parse(item.expirationDate);
  }
}

function expectedOrder(items: Item[], field: SortField, direction: 'asc' | 'desc'): string[] {
  const sign = direction === 'asc' ? 1 : -1;
  return [...items]
    .sort((a, b) => {
      const ka = keyOf(a, field);
      const kb = keyOf(b, field);
      const c = typeof ka === 'string' ? bytes(ka, kb as string) : ka === kb ? 0 : ka < (kb as number) ? -1 : 1;
      return c !== 0 ? sign * c : bytes(a.id, b.id);
    })
    .map((i) => i.id);
}

async function walk(admin: Api, base: string, query: string, perPage: number) {
  const ids: string[] = [];
  const pages: any[] = [];
  for (let page = 0; page < 100; page++) {
    const res = await admin('GET', `${base}?${query}&perPage=${perPage}&page=${page}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    pages.push(res.body);
    if (res.body.items.length === 0) break;
    ids.push(...res.body.items.map((i: Item) => i.id));
  }
  return { ids, pages };
}

for (const dialect of DIALECTS) {
  describe(`sorting and paging (${dialect})`, () => {
    let t: TestServer;
    let admin: Api;
    let base: string;
    let items: Item[];
    let pgDatabase: TestDatabase | undefined;

    beforeAll(async () => {
      let database: string | undefined;
      if (dialect === 'postgres') {
        pgDatabase = await createTestDatabase();
        database = pgDatabase.url;
      }
      t = await startTestServer(database ? { database } : {});
      admin = t.api(t.adminToken);
      base = `/instances/${t.instanceId}/tokens`;

      // Rows with deliberate ties on every field, written through the real store.
      for (let i = 0; i < 46; i++) {
        const creationDate = T0 + (i % 5) * 1000;
        const record = {
          id: newId(),
          instanceId: t.instanceId,
          name: NAMES[i % NAMES.length],
          scope: ['instance.get'],
          status: (i % 3 === 0 ? 'inactive' : 'active') as 'active' | 'inactive',
          creationDate,
          lastUpdated: creationDate + (i % 4) * 500,
          creatorType: 'user' as const,
          creatorName: 'cli',
          ...(i % 4 === 0 ? {} : { expirationDate: Date.parse('2030-01-01T00:00:00.000Z') + (i % 3) * 86_400_000 }),
        };
        await t.server.store.insertToken({ ...record, tokenHash: randomBytes(32).toString('hex') });
      }
      // And some through the API, with real clocks (same-millisecond ties are likely).
      for (let i = 0; i < 8; i++) {
        const res = await admin('POST', base, {
          name: NAMES[(i * 7) % NAMES.length],
          scope: ['instance.get'],
          ...(i % 2 ? { expirationDate: '2030-01-01T00:00:00.000Z', status: 'inactive' } : {}),
        });
        expect(res.status).toBe(201);
      }
      items = (await admin('GET', `${base}?perPage=1000&sortField=id`)).body.items;
      expect(items.length).toBe(46 + 8 + 1);
    });

    afterAll(async () => {
      await t?.close();
      await pgDatabase?.drop();
    });

    for (const field of SORT_FIELDS) {
      for (const direction of ['asc', 'desc'] as const) {
        it(`${field} ${direction}: every token exactly once, in order`, async () => {
          const { ids, pages } = await walk(admin, base, `sortField=${field}&sortDirection=${direction}`, 7);
          expect(new Set(ids).size).toBe(ids.length);
          expect(ids).toEqual(expectedOrder(items, field, direction));
          for (const p of pages) {
            expect(p).toMatchObject({ totalCount: items.length, perPage: 7, sortField: field, sortDirection: direction });
            expect(p.count).toBe(p.items.length);
          }
          expect(pages.at(-2).count).toBe(items.length % 7 || 7);
        });
      }
    }

    it('default order is name ascending, case-insensitive (alpha, Bravo, charlie)', async () => {
      const res = await admin('GET', `${base}?filter=[abc]*`);
      expect(res.body.items).toEqual([]);
      const all = (await admin('GET', base)).body.items.map((i: Item) => i.name.toLowerCase());
      const firsts = all.filter((n: string) => ['alpha', 'bravo', 'charlie'].includes(n));
      expect(firsts).toEqual([...firsts].sort());
      expect((await admin('GET', base)).body.items.map((i: Item) => i.id)).toEqual(expectedOrder(items, 'name', 'asc').slice(0, 100));
    });

    it('paging a filtered list (status=inactive, by lastUpdated desc) is consistent with the filter', async () => {
      const { ids, pages } = await walk(admin, base, 'filterField=status&filter=inactive&sortField=lastUpdated&sortDirection=desc', 4);
      const inactive = items.filter((i) => i.status === 'inactive');
      expect(ids).toEqual(expectedOrder(inactive, 'lastUpdated', 'desc'));
      expect(pages[0]).toMatchObject({ totalCount: inactive.length, filterField: 'status', filter: 'inactive' });
    });

    it('paging a name glob (a*, by expirationDate asc) yields exactly the matching tokens', async () => {
      const { ids, pages } = await walk(admin, base, 'filter=a*&sortField=expirationDate', 3);
      const matching = items.filter((i) => i.name.toLowerCase().startsWith('a'));
      expect(ids).toEqual(expectedOrder(matching, 'expirationDate', 'asc'));
      expect(pages[0].totalCount).toBe(matching.length);
    });

    it('perPage=1 walks one at a time; perPage larger than the total returns everything', async () => {
      const { ids } = await walk(admin, base, 'sortField=creationDate&sortDirection=desc', 1);
      expect(ids).toEqual(expectedOrder(items, 'creationDate', 'desc'));
      const big = await admin('GET', `${base}?perPage=1000&sortField=status`);
      expect(big.body.items.map((i: Item) => i.id)).toEqual(expectedOrder(items, 'status', 'asc'));
      expect(big.body.count).toBe(items.length);
    });
  });
}
