// Cross-instance isolation and the scope rules of SPEC section 3, checked against a model
// kept by the test itself. Several instances, a caller token for every relevant scope
// in each, every action against every instance (the instance's own and the others),
// on targets that exist and targets that do not, then random sequences of the same.
// The expected answer is computed here from the SPEC tables, not from src/domain.
// Every response is also searched for ids of another instance (no leak through items,
// totalCount or messages), and a 403 must read the same whether the target exists.
// Runs on SQLite and on the real PostgreSQL server (the queries differ per dialect).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiTokenPost } from '../src/schema/api.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './helpers/postgres.js';
import { shapeProblem, type Route } from './helpers/spec-shapes.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// SPEC 3.2, the table of granting scopes, written out again on purpose.
const GRANTS: Record<string, string[]> = {
  'instanceApiTokens.get': ['all.Instance', 'all.Instance.read', 'all.User', 'all.User.read', 'instanceApiTokens.*', 'instanceApiTokens.get'],
  'instanceApiTokens.post': ['all.Instance', 'all.User', 'instanceApiTokens.*', 'instanceApiTokens.post'],
  'instanceApiToken.get': ['all.Instance', 'all.Instance.read', 'all.User', 'all.User.read', 'instanceApiToken.*', 'instanceApiToken.get'],
  'instanceApiToken.patch': ['all.Instance', 'all.User', 'instanceApiToken.*', 'instanceApiToken.patch'],
  'instanceApiToken.delete': ['all.Instance', 'all.User', 'instanceApiToken.*', 'instanceApiToken.delete'],
};
// "Read actions are exactly those that all.Instance.read grants in instance-scopes.json."
const SCOPE_DATA = JSON.parse(readFileSync(new URL('../src/domain/instance-scopes.json', import.meta.url), 'utf8')) as {
  actions: Record<string, string[]>;
};
const READ = new Set(Object.entries(SCOPE_DATA.actions).filter(([, g]) => g.includes('all.Instance.read')).map(([a]) => a));

function covered(held: string[], s: string): boolean {
  if (held.includes(s) || held.includes('all.Instance') || held.includes('all.User')) return true;
  if (held.includes('all.Instance.read') && (s === 'all.Instance.read' || READ.has(s))) return true;
  const dot = s.lastIndexOf('.');
  if (!s.startsWith('all.') && dot > 0 && held.includes(`${s.slice(0, dot)}.*`)) return true;
  return false;
}

type Action = keyof typeof GRANTS;
const ACTIONS = Object.keys(GRANTS) as Action[];
const ROUTE: Record<Action, Route> = {
  'instanceApiTokens.get': 'list',
  'instanceApiTokens.post': 'create',
  'instanceApiToken.get': 'get',
  'instanceApiToken.patch': 'patch',
  'instanceApiToken.delete': 'delete',
};

const CALLER_SCOPES: string[][] = [
  ['all.Instance'],
  ['all.Instance.read'],
  ['instanceApiTokens.*'],
  ['instanceApiTokens.get'],
  ['instanceApiTokens.post'],
  ['instanceApiToken.*'],
  ['instanceApiToken.get'],
  ['instanceApiToken.patch'],
  ['instanceApiToken.delete'],
  ['instanceApiTokens.post', 'instanceApiToken.get'],
  ['instance.get', 'instanceOrgs.*'],
];
// Scopes a POST may ask for, some covered by some callers and not by others.
const REQUESTABLE = ['all.Instance', 'all.Instance.read', 'instanceApiTokens.get', 'instanceApiTokens.post', 'instanceApiToken.*', 'instanceApiToken.delete', 'instance.get', 'instanceOrgs.*', 'instanceAuditLogs.get'];

interface ModelToken {
  id: string;
  name: string;
  scope: string[];
  status: 'active' | 'inactive';
}
interface Caller {
  token: string;
  id: string;
  instance: number;
  scope: string[];
}

let t: TestServer;
let pgDatabase: TestDatabase | undefined;
const instances: string[] = [];
const model: Array<Map<string, ModelToken>> = [];
const callers: Caller[] = [];
let requests = 0;
let leaksChecked = 0;

const HEX24 = /[0-9a-fA-F]{24}/g;
const DIALECTS = ['sqlite', ...((await postgresAvailable('isolation')) ? ['postgres'] : [])] as const;

/** Ids the given instance may legitimately show: its own, its tokens', their creators'. */
function idsOwnedBy(i: number): Set<string> {
  const own = new Set<string>([instances[i]]);
  for (const id of model[i].keys()) own.add(id);
  return own;
}
const idsOfOthers = (i: number) => {
  const out = new Set<string>();
  instances.forEach((_, j) => {
    if (j !== i) for (const id of idsOwnedBy(j)) out.add(id);
  });
  return out;
};
const namesOfOthers = (i: number) => {
  const out = new Set<string>();
  model.forEach((m, j) => {
    if (j !== i) for (const tok of m.values()) out.add(tok.name);
  });
  return out;
};

async function call(caller: Caller, method: string, path: string, body?: unknown) {
  requests++;
  const res = await fetch(t.url + path, {
    method,
    headers: { authorization: `Bearer ${caller.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) };
}

/** No id or token name of another instance appears anywhere in a response. */
function expectNoLeak(caller: Caller, text: string, where: string) {
  leaksChecked++;
  const others = idsOfOthers(caller.instance);
  for (const id of text.match(HEX24) ?? []) expect(others.has(id.toLowerCase()), `${where}: leaked id ${id}`).toBe(false);
  for (const name of namesOfOthers(caller.instance)) expect(text.includes(`"${name}"`), `${where}: leaked name ${name}`).toBe(false);
}

let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}`;

/** Makes a fresh target token in instance i (directly, as the operator would). */
async function addTarget(i: number, scope: string[], status: 'active' | 'inactive' = 'active'): Promise<ModelToken> {
  const name = unique(`target-i${i}`);
  const made = await t.server.service.createByOperator(instances[i], { name, scope: scope as ApiTokenPost['scope'], status });
  const tok: ModelToken = { id: made.record.id, name, scope, status };
  model[i].set(tok.id, tok);
  return tok;
}

function missingId(): string {
  // Well-formed, but not a token of any instance.
  for (;;) {
    const id = [...Array(24)].map(() => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
    if (!instances.some((_, i) => model[i].has(id))) return id;
  }
}

interface Attempt {
  caller: Caller;
  action: Action;
  instance: number;
  /** For single-token actions: an existing token of `instance`, or a missing id. */
  target?: { id: string; exists: boolean };
  body?: Record<string, unknown>;
}

/** SPEC section 3 (and 2.3/2.4 for the rest), computed from the model. */
function expected(a: Attempt): { status: number; type?: string } {
  if (a.caller.instance !== a.instance) return { status: 403, type: 'Forbidden' };
  if (!GRANTS[a.action].some((s) => a.caller.scope.includes(s))) return { status: 403, type: 'Forbidden' };
  switch (a.action) {
    case 'instanceApiTokens.get':
      return { status: 200 };
    case 'instanceApiTokens.post': {
      const wanted = (a.body?.scope as string[] | undefined) ?? ['all.Instance'];
      return wanted.every((s) => covered(a.caller.scope, s)) ? { status: 201 } : { status: 403, type: 'Forbidden' };
    }
    default: {
      if (!a.target?.exists) return { status: 404, type: 'NotFound' };
      const tok = model[a.instance].get(a.target.id)!;
      if (a.action === 'instanceApiToken.patch' && a.body?.status === 'active' && tok.status === 'inactive') {
        if (!tok.scope.every((s) => covered(a.caller.scope, s))) return { status: 403, type: 'Forbidden' };
      }
      return { status: 200 };
    }
  }
}

function request(a: Attempt): [string, string, unknown] {
  const base = `/instances/${instances[a.instance]}/tokens`;
  switch (a.action) {
    case 'instanceApiTokens.get':
      return ['GET', `${base}?perPage=1000`, undefined];
    case 'instanceApiTokens.post':
      return ['POST', base, a.body];
    case 'instanceApiToken.get':
      return ['GET', `${base}/${a.target!.id}`, undefined];
    case 'instanceApiToken.patch':
      return ['PATCH', `${base}/${a.target!.id}`, a.body ?? {}];
    case 'instanceApiToken.delete':
      return ['DELETE', `${base}/${a.target!.id}`, {}];
  }
  throw new Error('unreachable');
}

/** Performs the attempt, checks it against the model, and updates the model on success. */
async function attempt(a: Attempt): Promise<void> {
  const [method, path, body] = request(a);
  const want = expected(a);
  const res = await call(a.caller, method, path, body);
  const where = `caller ${a.caller.scope.join('+')}@i${a.caller.instance} ${method} ${path} ${JSON.stringify(body ?? null)} → ${res.status} ${res.text.slice(0, 200)}`;
  expect(res.status, where).toBe(want.status);
  if (want.type) expect(res.body.type, where).toBe(want.type);
  expect(shapeProblem(ROUTE[a.action], res.status, res.body), where).toBeUndefined();
  expectNoLeak(a.caller, res.text, where);

  if (res.status === 403 && a.caller.instance !== a.instance && a.target) {
    // Existence must not show: the same request on an id that surely does not exist
    // (or, for a missing target, on a token that surely does) reads exactly the same.
    const other = a.target.exists ? missingId() : [...model[a.instance].keys()][0];
    const [m2, p2, b2] = request({ ...a, target: { id: other, exists: !a.target.exists } });
    const twin = await call(a.caller, m2, p2, b2);
    expect(twin.status, where).toBe(403);
    expect(twin.text, `${where}: 403 differs by existence`).toBe(res.text);
  }
  if (res.status === 403 && a.caller.instance !== a.instance) {
    expect(res.body.message).not.toMatch(HEX24);
  }

  if (res.status === 200 && a.action === 'instanceApiTokens.get') {
    const own = model[a.instance];
    expect(res.body.totalCount, where).toBe(own.size);
    expect(new Set(res.body.items.map((x: any) => x.id)), where).toEqual(new Set(own.keys()));
    for (const item of res.body.items) expect(item.instanceId).toBe(instances[a.instance]);
  }
  if (res.status === 200 && a.action === 'instanceApiToken.get') {
    const tok = model[a.instance].get(a.target!.id)!;
    expect({ id: res.body.id, name: res.body.name, status: res.body.status, scope: res.body.scope }).toEqual(tok);
  }
  if (res.status === 201) {
    const scope = (a.body?.scope as string[] | undefined) ?? ['all.Instance'];
    expect(res.body.instanceId).toBe(instances[a.instance]);
    expect(res.body.scope).toEqual(scope);
    expect(res.body.creatorId).toBe(a.caller.id);
    model[a.instance].set(res.body.id, { id: res.body.id, name: res.body.name, scope, status: res.body.status });
  }
  if (res.status === 200 && a.action === 'instanceApiToken.patch') {
    const tok = model[a.instance].get(a.target!.id)!;
    if (typeof a.body?.name === 'string') tok.name = a.body.name;
    if (a.body?.status === 'active' || a.body?.status === 'inactive') tok.status = a.body.status;
    expect({ id: res.body.id, name: res.body.name, status: res.body.status, scope: res.body.scope }).toEqual(tok);
  }
  if (res.status === 200 && a.action === 'instanceApiToken.delete') {
    model[a.instance].delete(a.target!.id);
  }
}

async function setUp(dialect: (typeof DIALECTS)[number]): Promise<void> {
  instances.length = 0;
  model.length = 0;
  callers.length = 0;
  requests = 0;
  leaksChecked = 0;
  if (dialect === 'postgres') pgDatabase = await createTestDatabase();
  t = await startTestServer(pgDatabase ? { database: pgDatabase.url } : {});
  // The bootstrap instance plus two more; every instance gets one caller per scope set.
  instances.push(t.instanceId);
  model.push(new Map([[t.adminTokenId, { id: t.adminTokenId, name: 'default admin', scope: ['all.Instance'], status: 'active' }]]));
  for (const name of ['second', 'third']) {
    const made = await t.server.service.createInstance(name);
    instances.push(made.instance.id);
    model.push(new Map([[made.admin.record.id, { id: made.admin.record.id, name: `${name} admin`, scope: ['all.Instance'], status: 'active' }]]));
  }
  for (let i = 0; i < instances.length; i++) {
    for (const scope of CALLER_SCOPES) {
      const name = unique(`caller-i${i}-${scope.join('+')}`);
      const made = await t.server.service.createByOperator(instances[i], { name, scope: scope as ApiTokenPost['scope'] });
      model[i].set(made.record.id, { id: made.record.id, name, scope, status: 'active' });
      callers.push({ token: made.token, id: made.record.id, instance: i, scope });
    }
    await addTarget(i, ['instanceApiTokens.get']);
    await addTarget(i, ['all.Instance'], 'inactive');
  }
}

describe.each(DIALECTS)('isolation across instances and scopes (SPEC 3) on %s', (dialect) => {
  beforeAll(async () => setUp(dialect));
  afterAll(async () => {
    await t?.close();
    await pgDatabase?.drop();
    pgDatabase = undefined;
    console.log(`isolation on ${dialect}: ${requests} requests, ${leaksChecked} responses searched for other instances' ids and names`);
  });

  it('every caller scope × every action × every instance × existing and missing targets', async () => {
    for (const caller of callers) {
      for (let i = 0; i < instances.length; i++) {
        await attempt({ caller, action: 'instanceApiTokens.get', instance: i });
        await attempt({ caller, action: 'instanceApiTokens.post', instance: i, body: { name: unique('made'), scope: ['instanceApiTokens.get'] } });
        for (const action of ['instanceApiToken.get', 'instanceApiToken.patch', 'instanceApiToken.delete'] as const) {
          // A fresh, disposable target each time, so a permitted delete has something to remove.
          const target = await addTarget(i, ['instanceApiToken.get']);
          await attempt({ caller, action, instance: i, target: { id: target.id, exists: true }, body: action === 'instanceApiToken.patch' ? { description: 'touched' } : undefined });
          await attempt({ caller, action, instance: i, target: { id: missingId(), exists: false }, body: action === 'instanceApiToken.patch' ? {} : undefined });
        }
      }
    }
  }, 120_000);

  it('no escalation: every caller asking for every requestable scope', async () => {
    for (const caller of callers) {
      for (const scope of REQUESTABLE) {
        await attempt({ caller, action: 'instanceApiTokens.post', instance: caller.instance, body: { name: unique('esc'), scope: [scope] } });
      }
    }
  }, 60_000);

  it('random sequences of actions, callers, instances, bodies', async () => {
    const actionArb = fc.constantFrom(...ACTIONS);
    const step = fc.record({
      caller: fc.nat({ max: callers.length - 1 }),
      action: actionArb,
      instance: fc.nat({ max: 2 }),
      exists: fc.boolean(),
      pick: fc.nat(),
      scope: fc.option(fc.uniqueArray(fc.constantFrom(...REQUESTABLE), { minLength: 1, maxLength: 3 }), { nil: undefined }),
      patch: fc.record({ name: fc.option(fc.constantFrom('renamed', 'Renamed again'), { nil: undefined }), status: fc.option(fc.constantFrom('active', 'inactive'), { nil: undefined }) }, { requiredKeys: [] }),
    });
    await fc.assert(
      fc.asyncProperty(step, async (s) => {
        const caller = callers[s.caller];
        const a: Attempt = { caller, action: s.action, instance: s.instance };
        if (s.action === 'instanceApiTokens.post') {
          a.body = { name: unique('rand'), ...(s.scope ? { scope: s.scope } : {}) };
        } else if (s.action !== 'instanceApiTokens.get') {
          // Targets never include the callers themselves, so the matrix stays intact.
          const callerIds = new Set(callers.map((c) => c.id));
          const pool = [...model[s.instance].keys()].filter((id) => !callerIds.has(id));
          if (s.exists && pool.length === 0) await addTarget(s.instance, ['instanceApiTokens.get']);
          const fresh = [...model[s.instance].keys()].filter((id) => !callerIds.has(id));
          a.target = s.exists ? { id: fresh[s.pick % fresh.length], exists: true } : { id: missingId(), exists: false };
          if (s.action === 'instanceApiToken.patch') {
            a.body = {};
            if (s.patch.name) a.body.name = unique(s.patch.name);
            if (s.patch.status) a.body.status = s.patch.status;
          }
        }
        await attempt(a);
      }),
      { numRuns: 400, endOnFailure: true },
    );
  }, 120_000);

  it('totalCount of every instance is its own count, whatever the filter', async () => {
    for (let i = 0; i < instances.length; i++) {
      const caller = callers.find((c) => c.instance === i && c.scope[0] === 'all.Instance.read')!;
      for (const filter of ['*', 'target*', 'caller*', '?*']) {
        const res = await call(caller, 'GET', `/instances/${instances[i]}/tokens?filter=${encodeURIComponent(filter)}&perPage=1`);
        const re = new RegExp(`^${filter.replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
        const mine = [...model[i].values()].filter((tok) => re.test(tok.name)).length;
        expect(res.body.totalCount).toBe(mine);
        expectNoLeak(caller, res.text, `filter ${filter}`);
      }
    }
  });
});
