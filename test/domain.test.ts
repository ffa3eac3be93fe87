// Pure domain rules: scope grants and coverage (SPEC 3.2) and list-query parsing
// (SPEC 2.2), checked against the reference data rather than against themselves.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApiProblem } from '../src/domain/errors.js';
import { halFlag, parseListQuery } from '../src/domain/list-query.js';
import { ACTION_GRANTS, INSTANCE_SCOPES, READ_ACTIONS, covers, firstUncovered, grants, isInstanceScope } from '../src/domain/scopes.js';

// The repository's copy of the reference data (src/domain/instance-scopes.json).
const reference = JSON.parse(readFileSync(new URL('../src/domain/instance-scopes.json', import.meta.url), 'utf8')) as {
  scopes: string[];
  actions: Record<string, string[]>;
};

describe('scope tables', () => {
  it('match the reference instance-scopes.json exactly', () => {
    expect([...INSTANCE_SCOPES]).toEqual(reference.scopes);
    expect(ACTION_GRANTS).toEqual(reference.actions);
  });

  it('all.User and all.User.read are not instance scopes', () => {
    expect(isInstanceScope('all.User')).toBe(false);
    expect(isInstanceScope('all.User.read')).toBe(false);
    expect(isInstanceScope('all.Instance.read')).toBe(true);
  });

  it('read actions are exactly those all.Instance.read grants, and none of them writes', () => {
    expect(READ_ACTIONS.has('instanceApiTokens.get')).toBe(true);
    expect(READ_ACTIONS.has('instanceApiToken.get')).toBe(true);
    expect(READ_ACTIONS.has('instance.get')).toBe(true);
    for (const a of ['instanceApiTokens.post', 'instanceApiToken.patch', 'instanceApiToken.delete', 'instance.patch']) {
      expect(READ_ACTIONS.has(a), a).toBe(false);
    }
    for (const [action, granting] of Object.entries(reference.actions)) {
      expect(READ_ACTIONS.has(action), action).toBe(granting.includes('all.Instance.read'));
    }
  });

  it('grants: any one granting scope suffices; wildcards are only those listed', () => {
    expect(grants(['instance.get', 'instanceApiTokens.get'], 'instanceApiTokens.get')).toBe(true);
    expect(grants(['all.User.read'], 'instanceApiToken.get')).toBe(true);
    expect(grants(['all.User.read'], 'instanceApiToken.delete')).toBe(false);
    expect(grants(['instanceApiTokens.*'], 'instanceApiToken.get')).toBe(false);
    expect(grants(['instanceApiToken.*'], 'instanceApiTokens.get')).toBe(false);
    expect(grants([], 'instanceApiTokens.get')).toBe(false);
  });
});

describe('coverage (SPEC 3.2)', () => {
  it('a scope covers itself', () => {
    for (const s of INSTANCE_SCOPES) expect(covers([s], s), s).toBe(true);
  });

  it('all.Instance and all.User cover every instance scope', () => {
    for (const s of INSTANCE_SCOPES) {
      expect(covers(['all.Instance'], s), s).toBe(true);
      expect(covers(['all.User'], s), s).toBe(true);
    }
  });

  it('all.Instance.read covers itself and the read actions only', () => {
    for (const s of INSTANCE_SCOPES) {
      const expected = s === 'all.Instance.read' || (reference.actions[s] ?? []).includes('all.Instance.read');
      expect(covers(['all.Instance.read'], s), s).toBe(expected);
    }
    expect(covers(['all.Instance.read'], 'instanceApiTokens.get')).toBe(true);
    expect(covers(['all.Instance.read'], 'instanceApiTokens.*')).toBe(false);
    expect(covers(['all.Instance.read'], 'all.Instance')).toBe(false);
    expect(covers(['all.Instance.read'], 'instanceApiTokens.post')).toBe(false);
  });

  it('all.User.read covers nothing beyond itself (it is not all.Instance.read)', () => {
    expect(covers(['all.User.read'], 'instanceApiTokens.get')).toBe(false);
  });

  it('R.* covers R.v and R.*, and nothing of another resource', () => {
    expect(covers(['instanceApiTokens.*'], 'instanceApiTokens.get')).toBe(true);
    expect(covers(['instanceApiTokens.*'], 'instanceApiTokens.post')).toBe(true);
    expect(covers(['instanceApiTokens.*'], 'instanceApiTokens.*')).toBe(true);
    expect(covers(['instanceApiTokens.*'], 'instanceApiToken.get')).toBe(false);
    expect(covers(['instance.*'], 'instanceOrg.get')).toBe(false);
    expect(covers(['instance.*'], 'instance.generateReport')).toBe(true);
    expect(covers(['instanceOrg.*'], 'instanceOrgs.get')).toBe(false);
  });

  it('R.v covers neither R.* nor a sibling verb, and wildcards never cover all.*', () => {
    expect(covers(['instanceApiTokens.get'], 'instanceApiTokens.*')).toBe(false);
    expect(covers(['instanceApiTokens.get'], 'instanceApiTokens.post')).toBe(false);
    expect(covers([...INSTANCE_SCOPES].filter((s) => s.endsWith('.*')), 'all.Instance')).toBe(false);
    expect(covers([...INSTANCE_SCOPES].filter((s) => s.endsWith('.*')), 'all.Instance.read')).toBe(false);
  });

  it('firstUncovered names the first scope in request order', () => {
    expect(firstUncovered(['instance.*'], ['instance.get', 'instanceOrg.get', 'instanceOrgs.get'])).toBe('instanceOrg.get');
    expect(firstUncovered(['instance.*'], ['instance.get'])).toBeUndefined();
    expect(firstUncovered([], ['instance.get'])).toBe('instance.get');
  });
});

describe('parseListQuery (SPEC 2.2)', () => {
  it('applies the defaults', () => {
    expect(parseListQuery({})).toEqual({ sortField: 'name', sortDirection: 'asc', page: 0, perPage: 100 });
  });

  it('reads numbers, lower-cases the direction, and treats empty as default', () => {
    expect(parseListQuery({ sortField: 'expirationDate', sortDirection: 'DESC', page: '3', perPage: '25' })).toMatchObject({
      sortField: 'expirationDate',
      sortDirection: 'desc',
      page: 3,
      perPage: 25,
    });
    expect(parseListQuery({ sortDirection: '' }).sortDirection).toBe('asc');
    expect(parseListQuery({ page: '007' }).page).toBe(7);
  });

  it('filter without filterField applies to name; an empty filter or an empty filterField means none', () => {
    const q = parseListQuery({ filter: 'Ci*' });
    expect(q.filterField).toBe('name');
    expect(q.nameGlob?.test('ci-deploy')).toBe(true);
    expect(q.statuses).toBeUndefined();
    const blankField = parseListQuery({ filter: 'x', filterField: '' });
    expect(blankField.filterField).toBeUndefined();
    expect(blankField.nameGlob).toBeUndefined();
    const none = parseListQuery({ filter: '', filterField: 'status' });
    expect(none.filter).toBeUndefined();
    expect(none.filterField).toBeUndefined();
    expect(none.statuses).toBeUndefined();
  });

  it('a status glob becomes the set of statuses it admits', () => {
    expect(parseListQuery({ filterField: 'status', filter: '*active' }).statuses).toEqual(['active', 'inactive']);
    expect(parseListQuery({ filterField: 'status', filter: 'IN*' }).statuses).toEqual(['inactive']);
    expect(parseListQuery({ filterField: 'status', filter: 'act' }).statuses).toEqual([]);
  });

  it('rejects out-of-range numbers with a Validation problem naming the field', () => {
    for (const [q, field] of [
      [{ perPage: '0' }, 'query.perPage'],
      [{ perPage: '1001' }, 'query.perPage'],
      [{ page: '9007199254740993' }, 'query.page'],
      [{ page: '900719925474099', perPage: '1000' }, 'query.page'],
    ] as const) {
      let err: unknown;
      try {
        parseListQuery(q);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ApiProblem);
      expect((err as ApiProblem).type).toBe('Validation');
      expect((err as ApiProblem).message).toContain(field);
    }
  });

  it('HAL flags: defaults and the accepted spellings', () => {
    expect(halFlag({}, '_links')).toBe(true);
    expect(halFlag({}, '_actions')).toBe(false);
    expect(halFlag({}, '_embedded')).toBe(true);
    expect(halFlag({ _links: '0' }, '_links')).toBe(false);
    expect(halFlag({ _actions: '1' }, '_actions')).toBe(true);
    expect(halFlag({ _actions: 'true' }, '_actions')).toBe(true);
    expect(halFlag({ _links: 'false' }, '_links')).toBe(false);
  });
});
