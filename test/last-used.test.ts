// SPEC 2.1 lastUsed: absent until the first successful authentication, then the time
// of a recent use, lagging by at most 60 s, written at most once a minute per token.
// End to end on the real server, then the recorder's rules on a real SQLite store
// with synthetic clocks (so no test waits a minute).
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/domain/ids.js';
import { openStore } from '../src/store/open.js';
import type { TokenStore } from '../src/store/types.js';
import { LAG_MS, LastUsedRecorder } from '../src/tokens/last-used.js';
import { mintToken } from './helpers/security-checks.js';
import { startTestServer, tempDir, type TestServer } from './helpers/server.js';

describe('lastUsed through the API', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t?.close());

  const getAsAdmin = async (id: string) => (await t.api(t.adminToken)('GET', `/instances/${t.instanceId}/tokens/${id}`)).body;

  async function waitForLastUsed(id: string, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const body = await getAsAdmin(id);
      if (body.lastUsed !== undefined) return body.lastUsed;
      if (Date.now() > deadline) throw new Error('lastUsed never appeared');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('is absent for a token never used, appears after a use, and holds the time of that use', async () => {
    const tok = await mintToken(t, ['instanceApiTokens.get']);
    expect((await getAsAdmin(tok.id)).lastUsed).toBeUndefined();
    const before = Date.now();
    expect((await t.api(tok.token)('GET', `/instances/${t.instanceId}/tokens`)).status).toBe(200);
    const after = Date.now();
    const lastUsed = Date.parse(await waitForLastUsed(tok.id));
    expect(lastUsed).toBeGreaterThanOrEqual(before);
    expect(lastUsed).toBeLessThanOrEqual(after);
  });

  it('failed authentications do not count; a successful one refused for scope (403) does', async () => {
    const tok = await mintToken(t, ['instanceApiTokens.get'], { status: 'inactive' });
    expect((await t.api(tok.token)('GET', `/instances/${t.instanceId}/tokens`)).status).toBe(401);
    const noScope = await mintToken(t, ['instance.get']);
    expect((await t.api(noScope.token)('GET', `/instances/${t.instanceId}/tokens/${noScope.id}`)).status).toBe(403);
    await waitForLastUsed(noScope.id);
    expect((await getAsAdmin(tok.id)).lastUsed).toBeUndefined();
  });

  it('further uses within the minute do not rewrite it', async () => {
    const tok = await mintToken(t, ['instanceApiTokens.get']);
    const use = () => t.api(tok.token)('GET', `/instances/${t.instanceId}/tokens`);
    await use();
    const first = await waitForLastUsed(tok.id);
    for (let i = 0; i < 5; i++) expect((await use()).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await getAsAdmin(tok.id)).lastUsed).toBe(first);
  });
});

describe('LastUsedRecorder on a real SQLite store', () => {
  const dir = tempDir('tessera-lastused-');
  const file = join(dir, 'lu.db');
  let store: TokenStore;
  const instanceId = newId();
  const T = Date.parse('2026-12-03T10:00:00.000Z');

  beforeAll(async () => {
    store = openStore(file);
    await store.migrate();
    await store.createInstance({ id: instanceId, name: 'lu', creationDate: T });
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function newToken(): Promise<string> {
    const id = newId();
    await store.insertToken({
      id,
      instanceId,
      name: id,
      scope: ['instance.get'],
      status: 'active',
      creationDate: T,
      lastUpdated: T,
      creatorType: 'user',
      tokenHash: id.padEnd(64, '0'),
    });
    return id;
  }
  const stored = async (id: string) => (await store.getToken(instanceId, id))!.lastUsed;

  /** Simulates one authenticated request at `now`: reads the record, notes the use. */
  async function use(rec: LastUsedRecorder, id: string, now: number) {
    rec.note(instanceId, id, await stored(id), now);
  }

  it('writes the first use, skips uses within 60 s, writes again after', async () => {
    const rec = new LastUsedRecorder(store, (e) => {
      throw e;
    });
    const id = await newToken();
    await use(rec, id, T);
    await rec.flush();
    expect(await stored(id)).toBe(T);
    await use(rec, id, T + 30_000);
    await use(rec, id, T + LAG_MS - 1);
    await rec.flush();
    expect(await stored(id)).toBe(T);
    await use(rec, id, T + LAG_MS);
    await rec.flush();
    expect(await stored(id)).toBe(T + LAG_MS);
  });

  it('a fresh recorder (after a restart, or on another replica) honours the stored value', async () => {
    const id = await newToken();
    const first = new LastUsedRecorder(store, (e) => {
      throw e;
    });
    await use(first, id, T);
    await first.flush();
    const second = new LastUsedRecorder(store, (e) => {
      throw e;
    });
    await use(second, id, T + LAG_MS - 1000);
    await second.flush();
    expect(await stored(id)).toBe(T);
    await use(second, id, T + LAG_MS + 1000);
    await second.flush();
    expect(await stored(id)).toBe(T + LAG_MS + 1000);
  });

  it('over any sequence of uses: lag at most 60 s and at most one write per minute', async () => {
    const rec = new LastUsedRecorder(store, (e) => {
      throw e;
    });
    const id = await newToken();
    const writes: number[] = [];
    let now = T;
    let seed = 7;
    for (let i = 0; i < 400; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      now += seed % 5000;
      await use(rec, id, now);
      if (i % 3 === 0) await rec.flush();
      else continue;
      const value = (await stored(id))!;
      expect(value).toBeLessThanOrEqual(now);
      expect(now - value).toBeLessThanOrEqual(LAG_MS);
      if (writes.at(-1) !== value) writes.push(value);
    }
    for (let i = 1; i < writes.length; i++) expect(writes[i] - writes[i - 1]).toBeGreaterThanOrEqual(LAG_MS);
  });

  it('a use read before an in-flight write commits does not cause a second write within the minute', async () => {
    const rec = new LastUsedRecorder(store, (e) => {
      throw e;
    });
    const id = await newToken();
    const staleRead = await stored(id); // a request that read the record before the first write
    await use(rec, id, T);
    const flushing = rec.flush();
    rec.note(instanceId, id, staleRead, T + 10);
    await flushing;
    await rec.flush();
    expect(await stored(id)).toBe(T);
  });

  it('a failed write is retried on the next use, not a minute later', async () => {
    const errors: unknown[] = [];
    const rec = new LastUsedRecorder(store, (e) => errors.push(e));
    const id = await newToken();
    // A real write failure: a trigger, installed through a second connection, aborts it.
    const other = new Database(file);
    try {
      other.exec(`CREATE TRIGGER refuse_last_used BEFORE UPDATE OF last_used ON tokens BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
      await use(rec, id, T);
      await rec.flush();
      expect(errors).toHaveLength(1);
      expect(await stored(id)).toBeUndefined();
      other.exec('DROP TRIGGER refuse_last_used');
    } finally {
      other.close();
    }
    await use(rec, id, T + 1000);
    await rec.flush();
    expect(await stored(id)).toBe(T + 1000);
  });

  it('the store never moves lastUsed backwards', async () => {
    const id = await newToken();
    await store.recordLastUsed([{ instanceId, id, at: T + 5000 }]);
    await store.recordLastUsed([{ instanceId, id, at: T }]);
    expect(await stored(id)).toBe(T + 5000);
  });
});
