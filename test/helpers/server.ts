// Starts the real server on a real port with a real SQLite file (or the PostgreSQL URL
// given), and offers a small fetch wrapper for the tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';

export interface TestServer {
  server: RunningServer;
  url: string;
  instanceId: string;
  adminToken: string;
  adminTokenId: string;
  dir: string;
  database: string;
  api: (token: string | undefined) => Api;
  close(): Promise<void>;
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export type Api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<ApiResponse>;

export function tempDir(prefix = 'tessera-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function makeApi(url: string, token: string | undefined): Api {
  return async (method, path, body, headers = {}) => {
    const h: Record<string, string> = { ...headers };
    if (token !== undefined) h.authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    const res = await fetch(url + path, { method, headers: h, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // leave as text; tests assert on JSON where it matters
    }
    return { status: res.status, body: parsed as any, headers: res.headers };
  };
}

export async function startTestServer(overrides: Partial<Config> = {}): Promise<TestServer> {
  const dir = tempDir();
  const database = overrides.database ?? join(dir, 'tessera.db');
  // The rate limits are off unless a test asks for one.
  const base = loadConfig(
    { port: 0, host: '127.0.0.1', database, logLevel: 'silent', rateLimitPerMinute: 0, authFailureLimitPerMinute: 0 },
    {},
  );
  const config = { ...base, ...overrides, database };
  const server = await startServer(config);
  let instanceId: string;
  let adminToken: string;
  let adminTokenId: string;
  if (server.bootstrap) {
    instanceId = server.bootstrap.instance.id;
    adminToken = server.bootstrap.admin.token;
    adminTokenId = server.bootstrap.admin.record.id;
  } else {
    const created = await server.service.createInstance(`test-${Date.now()}`);
    instanceId = created.instance.id;
    adminToken = created.admin.token;
    adminTokenId = created.admin.record.id;
  }
  return {
    server,
    url: server.url,
    instanceId,
    adminToken,
    adminTokenId,
    dir,
    database,
    api: (token) => makeApi(server.url, token),
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
