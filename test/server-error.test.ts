// SPEC 5: a failure inside the server is a 500 ServerError whose body carries no
// internals (no message, stack or path of the underlying error), and the server stays up.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';

describe('500 ServerError', () => {
  let dir: string;
  let server: RunningServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-500-'));
    const config = loadConfig({ port: 0, host: '127.0.0.1', database: join(dir, 'tessera.db'), logLevel: 'silent' }, {});
    // A route that fails the way a bug would, registered through the app's plugin hook.
    const failing = (app: FastifyInstance) => {
      app.get('/test-failure', async () => {
        throw new TypeError(`cannot read properties of undefined (reading 'x') at ${dir}/internal.js:12`);
      });
    };
    server = await startServer(config, { plugins: [failing] });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers {type: ServerError} with a generic message, and keeps serving', async () => {
    const res = await fetch(`${server.url}/test-failure`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ type: 'ServerError', message: 'Internal server error' });
    expect(text).not.toContain('internal.js');
    expect(text).not.toContain('undefined');
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
