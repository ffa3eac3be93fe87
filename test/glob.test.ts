// SPEC 2.2 glob filters: `*` any run, `?` exactly one character, everything else
// literal (`%`, `_`, `\`, `[`, regex characters), case-insensitive, whole value.
// First the pure module, then the same cases end to end through the API and the store,
// on SQLite and on PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileGlob, prefixUpperBound } from '../src/domain/glob.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './helpers/postgres.js';
import { startTestServer, type Api, type TestServer } from './helpers/server.js';

const DIALECTS = ['sqlite', ...((await postgresAvailable('glob')) ? ['postgres'] : [])] as const;

// [glob, matches, does not match]
const CASES: Array<[string, string[], string[]]> = [
  ['*', ['', 'anything', 'a\nb', '%_\\['], []],
  ['a*', ['a', 'abc', 'A-b'], ['ba', '']],
  ['*c', ['c', 'abc', 'a.c'], ['ca', 'abcd']],
  ['a*c', ['ac', 'abc', 'a_c', 'a%c', 'a\\c'], ['abcd', 'bac']],
  ['a?c', ['abc', 'a_c', 'a%c', 'a.c', 'aéc', 'a😀c'], ['ac', 'abbc']],
  ['??', ['ab', 'é😀'], ['a', 'abc']],
  ['100%', ['100%'], ['1000', '100', '100%x']],
  ['%', ['%'], ['', 'a', '%%']],
  ['a_c', ['a_c', 'A_C'], ['abc', 'ac']],
  ['_', ['_'], ['a']],
  ['a\\b', ['a\\b'], ['ab', 'a\\\\b', 'a/b']],
  ['a\\*', ['a\\', 'a\\xyz'], ['a', 'axyz']],
  ['\\', ['\\'], ['', '\\\\']],
  ['[abc]', ['[abc]', '[ABC]'], ['a', 'b', 'abc']],
  ['[a-c]*', ['[a-c]', '[a-c]x'], ['b', 'a-c']],
  ['a.c', ['a.c'], ['abc']],
  ['(x)+|^$', ['(x)+|^$'], ['x', 'xx', '']],
  ['{1}', ['{1}'], ['1']],
  ['x-y', ['x-y', 'X-Y'], ['xy', 'x_y']],
  ['ALPHA', ['alpha', 'Alpha', 'aLpHa'], ['alphabet', 'alph']],
  ['Émile*', ['émile', 'ÉMILE zola'], ['emile']],
  ['alp', [], ['alpha']],
  ['pha', [], ['alpha']],
];

describe('compileGlob (pure)', () => {
  for (const [glob, yes, no] of CASES) {
    it(`${JSON.stringify(glob)} matches ${JSON.stringify(yes)} and not ${JSON.stringify(no)}`, () => {
      const g = compileGlob(glob);
      for (const v of yes) expect(g.test(v), v).toBe(true);
      for (const v of no) expect(g.test(v), v).toBe(false);
    });
  }

  it('splits out the literal prefix and the LIKE pattern with escapes', () => {
    expect(compileGlob('CI*')).toMatchObject({ prefix: 'ci', prefixOnly: true, exact: false, like: 'ci%' });
    expect(compileGlob('ci*x')).toMatchObject({ prefix: 'ci', prefixOnly: false, exact: false });
    expect(compileGlob('ci**')).toMatchObject({ prefix: 'ci', prefixOnly: true });
    expect(compileGlob('Exact')).toMatchObject({ prefix: 'exact', exact: true, prefixOnly: false });
    expect(compileGlob('?x')).toMatchObject({ prefix: '', exact: false, prefixOnly: false, like: '_x' });
    expect(compileGlob('a%_\\*?').like).toBe('a\\%\\_\\\\%_');
    expect(compileGlob('a%_\\*').prefix).toBe('a%_\\');
  });

  it('prefixUpperBound is the next string in code-point order', () => {
    expect(prefixUpperBound('ab')).toBe('ac');
    expect(prefixUpperBound('a\u{10ffff}')).toBe('b');
    expect(prefixUpperBound('\ud7ff')).toBe('\ue000');
    expect(prefixUpperBound('')).toBeUndefined();
    expect(prefixUpperBound('\u{10ffff}')).toBeUndefined();
    for (const p of ['ab', 'z', 'é', '😀']) {
      const upper = prefixUpperBound(p)!;
      expect(Buffer.compare(Buffer.from(p + '\u{10ffff}'), Buffer.from(upper))).toBe(-1);
    }
  });
});

for (const dialect of DIALECTS) describe(`glob filters through the API (${dialect})`, () => {
  let t: TestServer;
  let admin: Api;
  let base: string;
  let pgDatabase: TestDatabase | undefined;
  const NAMES = ['100%', '1000', 'a_c', 'abc', 'a\\b', 'ab', '[abc]', 'a', 'b', 'a.c', 'ALPHA', 'alpha', 'alphabet', 'x-y', 'éa', 'Éb', '😀x', 'multi\nline'];
  const INACTIVE = new Set(['abc', 'alpha', '1000']);

  beforeAll(async () => {
    if (dialect === 'postgres') pgDatabase = await createTestDatabase();
    t = await startTestServer(pgDatabase ? { database: pgDatabase.url } : {});
    admin = t.api(t.adminToken);
    base = `/instances/${t.instanceId}/tokens`;
    for (const name of NAMES) {
      const res = await admin('POST', base, { name, scope: ['instance.get'], status: INACTIVE.has(name) ? 'inactive' : 'active' });
      expect(res.status).toBe(201);
    }
  });
  afterAll(async () => {
    await t?.close();
    await pgDatabase?.drop();
  });

  async function names(query: string): Promise<string[]> {
    const res = await admin('GET', `${base}?perPage=1000&${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.totalCount).toBe(res.body.items.length);
    return res.body.items.map((i: { name: string }) => i.name).filter((n: string) => n !== 'default admin').sort();
  }
  const q = (glob: string, field = '') => `filter=${encodeURIComponent(glob)}${field ? `&filterField=${field}` : ''}`;
  const sorted = (xs: string[]) => [...xs].sort();

  const E2E: Array<[string, string[]]> = [
    ['*', NAMES],
    ['a*', ['a_c', 'abc', 'a\\b', 'ab', 'a', 'a.c', 'ALPHA', 'alpha', 'alphabet']],
    ['a?c', ['a_c', 'abc', 'a.c']],
    ['a_c', ['a_c']],
    ['100%', ['100%']],
    ['%', []],
    ['1*%', ['100%']],
    ['*%', ['100%']],
    ['*_c', ['a_c']],
    ['*\\b', ['a\\b']],
    ['?\\?', ['a\\b']],
    ['_', []],
    ['a\\b', ['a\\b']],
    ['a\\*', ['a\\b']],
    ['[abc]', ['[abc]']],
    ['[*', ['[abc]']],
    ['a.c', ['a.c']],
    ['x-y', ['x-y']],
    ['alpha', ['ALPHA', 'alpha']],
    ['ALPHA*', ['ALPHA', 'alpha', 'alphabet']],
    ['alp', []],
    ['*pha', ['ALPHA', 'alpha']],
    ['é?', ['éa', 'Éb']],
    ['?x', ['😀x']],
    ['multi?line', ['multi\nline']],
    ['*b', ['a\\b', 'ab', 'b', 'Éb']],
  ];
  for (const [glob, expected] of E2E) {
    it(`name filter ${JSON.stringify(glob)}`, async () => {
      expect(await names(q(glob))).toEqual(sorted(expected));
      expect(await names(q(glob, 'name'))).toEqual(sorted(expected));
    });
  }

  it('echoes filter and filterField, and filter without filterField applies to name', async () => {
    const res = await admin('GET', `${base}?${q('a?c')}`);
    expect(res.body).toMatchObject({ filter: 'a?c', filterField: 'name', totalCount: 3, count: 3 });
  });

  it('an empty filter, an empty filterField, or filterField alone means no filtering', async () => {
    const all = NAMES.length + 1;
    expect((await admin('GET', `${base}?filter=`)).body.totalCount).toBe(all);
    expect((await admin('GET', `${base}?filterField=name`)).body.totalCount).toBe(all);
    expect((await admin('GET', `${base}?filterField=status`)).body.totalCount).toBe(all);
    const blankField = await admin('GET', `${base}?filterField=&filter=ab`);
    expect(blankField.body.totalCount).toBe(all);
    expect(blankField.body.filter).toBeUndefined();
    expect((await admin('GET', `${base}?filter=ab`)).body.totalCount).toBe(1);
  });

  const STATUS: Array<[string, 'active' | 'inactive' | 'both' | 'none']> = [
    ['active', 'active'],
    ['ACTIVE', 'active'],
    ['?ctive', 'active'],
    ['inact*', 'inactive'],
    ['Inactive', 'inactive'],
    ['*active', 'both'],
    ['*', 'both'],
    ['*ive', 'both'],
    ['act', 'none'],
    ['a%', 'none'],
    ['active_', 'none'],
    ['[a]*', 'none'],
  ];
  for (const [glob, which] of STATUS) {
    it(`status filter ${JSON.stringify(glob)} selects ${which}`, async () => {
      const res = await admin('GET', `${base}?perPage=1000&${q(glob, 'status')}`);
      expect(res.status).toBe(200);
      const inactive = INACTIVE.size;
      const active = NAMES.length - inactive + 1;
      const expected = { active, inactive, both: active + inactive, none: 0 }[which];
      expect(res.body.totalCount).toBe(expected);
      expect(res.body.items.length).toBe(expected);
      if (which === 'active' || which === 'inactive') for (const i of res.body.items) expect(i.status).toBe(which);
      expect(res.body).toMatchObject({ filterField: 'status', filter: glob });
    });
  }
});
