// The typed client against a real server on a real port, imported through the package's
// own `tessera/client` export (the compiled dist/, as users get it).
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiError, createClient, type ApiTokenItem, type TesseraClient } from 'tessera/client';
import { startTestServer, type TestServer } from './helpers/server.js';

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

/** A plain HTTP server for failures a Tessera server never produces. */
async function rawServer(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
const closeRaw = (s: Server) =>
  new Promise<void>((resolve) => {
    s.closeAllConnections();
    s.close(() => resolve());
  });

describe('tessera/client against a real server', () => {
  let t: TestServer;
  let client: TesseraClient;
  let instanceId: string;

  beforeAll(async () => {
    t = await startTestServer();
    instanceId = t.instanceId;
    client = createClient({ url: t.url, accessToken: t.adminToken, timeout: 10_000 });
  });
  afterAll(async () => t?.close());

  it('post returns the token string once, and it authenticates', async () => {
    const created = await client.instanceApiTokens.post({
      instanceId,
      apiToken: { name: 'client-post', description: 'made by the client test', scope: ['instanceApiTokens.get'] },
    });
    expect(created.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(created).toMatchObject({ name: 'client-post', scope: ['instanceApiTokens.get'], status: 'active', _type: 'apiToken', creatorType: 'apiToken' });

    const narrow = createClient({ url: t.url, accessToken: created.token });
    const page = await narrow.instanceApiTokens.get({ instanceId, filter: 'client-post' });
    expect(page.items.map((i) => i.id)).toEqual([created.id]);
    expect('token' in page.items[0]).toBe(false);
  });

  it('get lists one page with the query parameters applied', async () => {
    for (const name of ['list-b', 'LIST-a', 'list-c']) await client.instanceApiTokens.post({ instanceId, apiToken: { name } });
    const page = await client.instanceApiTokens.get({ instanceId, filter: 'list-*', sortField: 'name', sortDirection: 'desc', perPage: 2 });
    expect(page).toMatchObject({ count: 2, totalCount: 3, page: 0, perPage: 2, sortField: 'name', sortDirection: 'desc', filterField: 'name', filter: 'list-*', _type: 'apiTokens' });
    expect(page.items.map((i) => i.name)).toEqual(['list-c', 'list-b']);
    const second = await client.instanceApiTokens.get({ instanceId, filter: 'list-*', sortField: 'name', sortDirection: 'desc', perPage: 2, page: 1 });
    expect(second.items.map((i) => i.name)).toEqual(['LIST-a']);
  });

  it('sends the HAL flags and the losantdomain header', async () => {
    const withActions = await client.instanceApiTokens.get({ instanceId, perPage: 1, _actions: true, _links: false });
    expect(withActions._actions).toMatchObject({ get: { method: 'GET' }, post: { method: 'POST' } });
    expect(withActions._links).toBeUndefined();
    const withLinks = await client.instanceApiTokens.get({ instanceId, perPage: 1, losantdomain: 'example.com' });
    expect(withLinks._links?.self.href).toBe(`/instances/${instanceId}/tokens`);
    const err = await rejection(client.instanceApiTokens.get({ instanceId, losantdomain: 'not a hostname' }));
    expect(err.statusCode).toBe(400);
    expect(err.message).toMatch(/losantdomain/);
  });

  it('iterate walks every page lazily, in order, without overlap', async () => {
    const names = Array.from({ length: 7 }, (_, i) => `iter-${String(i).padStart(2, '0')}`);
    for (const name of names) await client.instanceApiTokens.post({ instanceId, apiToken: { name } });

    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    try {
      const seen: ApiTokenItem[] = [];
      for await (const token of client.instanceApiTokens.iterate({ instanceId, filter: 'iter-*', perPage: 2 })) seen.push(token);
      expect(seen.map((s) => s.name)).toEqual(names);
      expect(new Set(seen.map((s) => s.id)).size).toBe(7);
      expect(fetchSpy).toHaveBeenCalledTimes(4); // pages of 2, 2, 2, 1

      fetchSpy.mockClear();
      for await (const token of client.instanceApiTokens.iterate({ instanceId, filter: 'iter-*', perPage: 2 })) {
        expect(token.name).toBe('iter-00');
        break;
      }
      expect(fetchSpy).toHaveBeenCalledTimes(1); // stopping early fetches no further page

      fetchSpy.mockClear();
      const none: ApiTokenItem[] = [];
      for await (const token of client.instanceApiTokens.iterate({ instanceId, filter: 'nothing-matches-*' })) none.push(token);
      expect(none).toEqual([]);
      expect(fetchSpy).toHaveBeenCalledTimes(1);
    } finally {
      fetchSpy.mockRestore();
    }
  });

  it('instanceApiToken get, patch and delete', async () => {
    const created = await client.instanceApiTokens.post({ instanceId, apiToken: { name: 'single', scope: ['all.Instance.read'] } });
    const apiTokenId = created.id;

    const got = await client.instanceApiToken.get({ instanceId, apiTokenId });
    expect(got).toMatchObject({ id: apiTokenId, name: 'single', scope: ['all.Instance.read'] });
    expect('token' in got).toBe(false);

    const renamed = await client.instanceApiToken.patch({ instanceId, apiTokenId, apiToken: { name: 'single-renamed', description: 'now described' } });
    expect(renamed).toMatchObject({ name: 'single-renamed', description: 'now described', status: 'active' });

    const off = await client.instanceApiToken.patch({ instanceId, apiTokenId, apiToken: { status: 'inactive' } });
    expect(off.status).toBe('inactive');
    const asIt = createClient({ url: t.url, accessToken: created.token });
    expect((await rejection(asIt.instanceApiTokens.get({ instanceId }))).type).toBe('Unauthorized');

    const unchanged = await client.instanceApiToken.patch({ instanceId, apiTokenId, apiToken: {} });
    expect(unchanged.name).toBe('single-renamed');

    expect(await client.instanceApiToken.delete({ instanceId, apiTokenId })).toEqual({ success: true });
    const gone = await rejection(client.instanceApiToken.get({ instanceId, apiTokenId }));
    expect(gone).toMatchObject({ statusCode: 404, type: 'NotFound' });
  });

  it('setOption and getOption change the client like the official ones', async () => {
    const c = createClient({ url: t.url });
    expect(c.getOption('url')).toBe(t.url);
    expect(c.getOption('accessToken')).toBeUndefined();
    expect((await rejection(c.instanceApiTokens.get({ instanceId }))).type).toBe('Unauthorized');
    expect(c.setOption('accessToken', t.adminToken)).toBe(c);
    expect(c.getOption('accessToken')).toBe(t.adminToken);
    expect((await c.instanceApiTokens.get({ instanceId, perPage: 1 })).perPage).toBe(1);
    // a per-call override, as the official clients' second argument
    expect((await rejection(c.instanceApiTokens.get({ instanceId }, { accessToken: 'not-a-jwt' }))).type).toBe('Unauthorized');
    c.setOption('url', `${t.url}/`);
    expect((await c.instanceApiTokens.get({ instanceId, perPage: 1 })).count).toBe(1);
  });

  describe('errors are ApiError with statusCode, type and message', () => {
    it('Validation (400) names the field', async () => {
      const err = await rejection(client.instanceApiTokens.post({ instanceId, apiToken: { name: '' } }));
      expect(err).toMatchObject({ statusCode: 400, type: 'Validation', name: 'ApiError' });
      expect(err.message).toMatch(/name/);
      const patch = await rejection(
        client.instanceApiToken.patch({ instanceId, apiTokenId: t.adminTokenId, apiToken: { scope: ['all.Instance'] } as never }),
      );
      expect(patch).toMatchObject({ statusCode: 400, type: 'Validation' });
      expect(patch.message).toMatch(/scope cannot be changed/);
      const badId = await rejection(client.instanceApiToken.get({ instanceId, apiTokenId: 'nope' }));
      expect(badId).toMatchObject({ statusCode: 400, type: 'Validation' });
    });

    it('Unauthorized (401)', async () => {
      const c = createClient({ url: t.url, accessToken: 'aaa.bbb.ccc' });
      const err = await rejection(c.instanceApiTokens.get({ instanceId }));
      expect(err).toMatchObject({ statusCode: 401, type: 'Unauthorized' });
      expect(err.message).not.toContain('aaa.bbb.ccc');
    });

    it('Forbidden (403): missing scope, escalation, other instance', async () => {
      const reader = await client.instanceApiTokens.post({ instanceId, apiToken: { name: 'reader', scope: ['instanceApiTokens.get'] } });
      const c = createClient({ url: t.url, accessToken: reader.token });
      const noScope = await rejection(c.instanceApiToken.get({ instanceId, apiTokenId: reader.id }));
      expect(noScope).toMatchObject({ statusCode: 403, type: 'Forbidden' });
      const poster = await client.instanceApiTokens.post({ instanceId, apiToken: { name: 'poster', scope: ['instanceApiTokens.post'] } });
      const escalate = await rejection(
        createClient({ url: t.url, accessToken: poster.token }).instanceApiTokens.post({ instanceId, apiToken: { name: 'x', scope: ['all.Instance'] } }),
      );
      expect(escalate).toMatchObject({ statusCode: 403, type: 'Forbidden' });
      expect(escalate.message).toMatch(/all\.Instance/);
      const other = await rejection(client.instanceApiTokens.get({ instanceId: 'aaaaaaaaaaaaaaaaaaaaaaaa' }));
      expect(other).toMatchObject({ statusCode: 403, type: 'Forbidden' });
    });

    it('NotFound (404)', async () => {
      const err = await rejection(client.instanceApiToken.delete({ instanceId, apiTokenId: 'bbbbbbbbbbbbbbbbbbbbbbbb' }));
      expect(err).toMatchObject({ statusCode: 404, type: 'NotFound' });
    });

    it('PayloadTooLarge (413)', async () => {
      const err = await rejection(client.instanceApiTokens.post({ instanceId, apiToken: { name: 'big', description: 'x'.repeat(300 * 1024) } }));
      expect(err).toMatchObject({ statusCode: 413, type: 'PayloadTooLarge' });
    });

    it('TooManyRequests (429)', async () => {
      const limited = await startTestServer({ rateLimitPerMinute: 2 });
      try {
        const c = createClient({ url: limited.url, accessToken: limited.adminToken });
        await c.instanceApiTokens.get({ instanceId: limited.instanceId });
        await c.instanceApiTokens.get({ instanceId: limited.instanceId });
        const err = await rejection(c.instanceApiTokens.get({ instanceId: limited.instanceId }));
        expect(err).toMatchObject({ statusCode: 429, type: 'TooManyRequests' });
      } finally {
        await limited.close();
      }
    });

    it('an error response that is not JSON still gets a type from its status', async () => {
      const raw = await rawServer((_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>'));
      try {
        const err = await rejection(createClient({ url: raw.url }).instanceApiTokens.get({ instanceId }));
        expect(err).toMatchObject({ statusCode: 502, type: 'ServerError', message: 'HTTP 502 Bad Gateway' });
      } finally {
        await closeRaw(raw.server);
      }
    });

    it('Timeout when the server does not answer in time', async () => {
      const raw = await rawServer(() => {
        // never answers
      });
      try {
        const err = await rejection(createClient({ url: raw.url, timeout: 200 }).instanceApiTokens.get({ instanceId }));
        expect(err).toMatchObject({ statusCode: 0, type: 'Timeout' });
      } finally {
        await closeRaw(raw.server);
      }
    });

    it('NetworkError when nothing listens', async () => {
      const raw = await rawServer(() => undefined);
      const url = raw.url;
      await closeRaw(raw.server);
      const err = await rejection(createClient({ url }).instanceApiTokens.get({ instanceId }));
      expect(err).toMatchObject({ statusCode: 0, type: 'NetworkError' });
      expect(err.message).toMatch(/ECONNREFUSED/);
    });
  });
});

describe('the compiled client', () => {
  const dir = new URL('../dist/client/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.js'));

  it('imports only its own files: no packages, nothing Node-only', () => {
    expect(files).toContain('index.js');
    for (const file of files) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      const specifiers = [...source.matchAll(/\b(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]|\bimport\s+['"]([^'"]+)['"]/g)].map(
        (m) => m[1] ?? m[2] ?? m[3],
      );
      for (const s of specifiers) expect(s, `${file} imports ${s}`).toMatch(/^\.\/[\w-]+\.js$/);
      expect(source, file).not.toMatch(/\brequire\(|\bprocess\.|\bBuffer\b|node:/);
    }
  });

  it('the import check sees imports (so it can fail)', () => {
    const source = readFileSync(new URL('index.js', dir), 'utf8');
    expect(source).toMatch(/from '\.\/http\.js'/);
  });
});
