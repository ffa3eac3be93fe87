// Secrets leave once (SPEC 2.1, 6): a token string appears in its 201 create response
// and nowhere else — not in the server's logs (at trace level, with failing and
// hostile requests too), not in the database file or its WAL, not in any other
// response. The stored form is the SHA-256 hash.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createInstance, startServerProcess, stopServerProcess, type ServerProcess } from '../scripts/soak.mjs';
import { tempDir } from './helpers/server.js';

interface Exchange {
  label: string;
  status: number;
  text: string;
  headers: string;
}

describe('secrets never leak', () => {
  const dir = tempDir('tessera-secrets-');
  const database = join(dir, 'tessera.db');
  let server: ServerProcess | undefined;
  afterAll(async () => {
    if (server) await stopServerProcess(server.child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('no token string in logs, database bytes or any non-create response', async () => {
    const { instanceId, token: admin } = createInstance(database, 'secrets');
    server = await startServerProcess(database, { LOG_LEVEL: 'trace' });
    const url = server.url;
    const base = `/instances/${instanceId}/tokens`;
    const secrets: string[] = [admin];
    const responses: Exchange[] = [];
    const send = async (label: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown) => {
      const res = await fetch(url + path, {
        method,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      const headerText: string[] = [];
      res.headers.forEach((v, k) => headerText.push(`${k}: ${v}`));
      const exchange = { label, status: res.status, text, headers: headerText.join('\n') };
      responses.push(exchange);
      return { ...exchange, body: text ? JSON.parse(text) : undefined };
    };
    const as = (token: string) => ({ authorization: `Bearer ${token}` });

    // Ordinary use: create tokens, then list, get, patch, use and delete them.
    const created: Array<{ id: string; token: string }> = [];
    for (let i = 0; i < 6; i++) {
      const res = await send('create', 'POST', base, as(admin), { name: `secret-${i}`, scope: i % 2 ? ['all.Instance'] : ['instanceApiTokens.get'] });
      expect(res.status).toBe(201);
      expect(res.body.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      created.push({ id: res.body.id, token: res.body.token });
      secrets.push(res.body.token);
    }
    const createIdx = new Set(responses.map((r, i) => (r.label === 'create' ? i : -1)));
    for (const { id, token } of created) {
      await send('list', 'GET', `${base}?_actions=true`, as(admin));
      await send('get', 'GET', `${base}/${id}`, as(admin));
      await send('self-use', 'GET', base, as(token));
      await send('patch', 'PATCH', `${base}/${id}`, as(admin), { description: 'rotated' });
    }
    // Hostile and mistaken uses of real tokens: wrong scheme, altered, in the URL, in a body.
    const [victim, other] = created;
    await send('basic', 'GET', base, { authorization: `Basic ${victim.token}` });
    await send('no-scheme', 'GET', base, { authorization: victim.token });
    await send('altered', 'GET', base, as(`${victim.token}x`));
    await send('truncated', 'GET', base, as(victim.token.slice(0, -3)));
    await send('doubled', 'GET', base, { authorization: `Bearer ${victim.token} ${other.token}` });
    await send('other-instance', 'GET', `/instances/${'a'.repeat(24)}/tokens`, as(victim.token));
    await send('no-scope', 'POST', base, as(victim.token), { name: 'escalate', scope: ['all.Instance'] });
    await send('query', 'GET', `${base}?access_token=${victim.token}`, as(admin));
    await send('bad-body', 'POST', base, as(admin), `{"name": "x", "token": "${victim.token}"`);
    await send('inactive', 'PATCH', `${base}/${other.id}`, as(admin), { status: 'inactive' });
    await send('inactive-use', 'GET', base, as(other.token));
    await send('delete', 'DELETE', `${base}/${victim.id}`, as(admin), {});
    await send('deleted-use', 'GET', base, as(victim.token));
    await send('health', 'GET', '/health');

    // The database bytes (main file, WAL and shared memory) while the server runs…
    const dbBytes = () => ['', '-wal', '-shm'].map((s) => database + s).filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('\n');
    const live = dbBytes();
    expect(await stopServerProcess(server.child)).toBe(0);
    // …and after a clean shutdown (checkpointed into the main file).
    const stopped = dbBytes();
    const logs = `${server.logs.join('\n')}\n${server.stderr()}`;
    server = undefined;

    // The logs are real and detailed, so finding nothing in them means something.
    expect(logs).toContain('incoming request');
    expect(logs).toContain('access_token');

    for (const secret of secrets) {
      const signature = secret.split('.')[2];
      for (const needle of [secret, signature]) {
        expect(logs.includes(needle), 'a token appears in the logs').toBe(false);
        expect(live.includes(needle), 'a token appears in the live database files').toBe(false);
        expect(stopped.includes(needle), 'a token appears in the database file').toBe(false);
        responses.forEach((r, i) => {
          if (createIdx.has(i) && r.text.includes(`"token":"${secret}"`)) return; // its own 201: the one place it belongs
          expect(r.text.includes(needle) || r.headers.includes(needle), `a token appears in the ${r.label} response`).toBe(false);
        });
      }
    }
    // Each create response carries exactly its own token and no other.
    responses.filter((_, i) => createIdx.has(i)).forEach((r, k) => {
      for (const secret of secrets) expect(r.text.includes(secret)).toBe(secret === created[k].token);
    });

    // What is stored is the SHA-256 of the token, nothing recoverable.
    const db = new BetterSqlite3(database, { readonly: true });
    try {
      const stored = db.prepare('SELECT id, token_hash FROM tokens').all() as Array<{ id: string; token_hash: string }>;
      const byId = new Map(stored.map((r) => [r.id, r.token_hash]));
      for (const { id, token } of created.slice(1)) {
        expect(byId.get(id)).toBe(createHash('sha256').update(token).digest('hex'));
      }
    } finally {
      db.close();
    }
  }, 60_000);
});
