// Limits a hostile or broken client runs into: body size (413), content type (415),
// slow clients cut off by the header and request deadlines, and the per-token rate
// limit (429 with Retry-After). Everything over real sockets against the real server.
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { connectionsCheckMs } from '../src/http/app.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const KiB = 1024;

/** Sends a raw request with a streamed (chunked) body of `size` bytes. */
function chunkedPost(url: string, path: string, token: string, size: number): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    const chunk = `{"name":"${'x'.repeat(size)}"}`;
    for (let i = 0; i < chunk.length; i += 16 * KiB) req.write(chunk.slice(i, i + 16 * KiB));
    req.end();
  });
}

/**
 * Opens a socket and trickles `text` one byte every `everyMs`; resolves when the server
 * closes the connection, with what it sent and how long the socket stayed open.
 */
function trickle(port: number, text: string, everyMs: number, giveUpMs: number): Promise<{ closedByServer: boolean; received: string; openMs: number; sent: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket: Socket = connect(port, '127.0.0.1');
    let received = '';
    let sent = 0;
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ closedByServer, received, openMs: Date.now() - started, sent });
    };
    const timer = setInterval(() => {
      if (sent < text.length && socket.writable) socket.write(text[sent++]);
    }, everyMs);
    const giveUp = setTimeout(() => finish(false), giveUpMs);
    socket.setEncoding('utf8');
    socket.on('data', (d) => (received += d));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

describe('body size and content type', () => {
  let t: TestServer;
  let base: string;
  beforeAll(async () => {
    t = await startTestServer();
    base = `/instances/${t.instanceId}/tokens`;
  });
  afterAll(async () => t?.close());

  it('refuses a body over 256 KiB with 413 PayloadTooLarge, and accepts one just under', async () => {
    const admin = t.api(t.adminToken);
    const over = await admin('POST', base, JSON.stringify({ name: 'big', description: 'x'.repeat(257 * KiB) }));
    expect(over.status).toBe(413);
    expect(over.body).toEqual({ type: 'PayloadTooLarge', message: expect.stringContaining('256 KiB') });

    // Under the size limit the body reaches validation: a field rule is named instead.
    const under = await admin('POST', base, JSON.stringify({ name: 'big', description: 'x'.repeat(200 * KiB) }));
    expect(under.status).toBe(400);
    expect(under.body.type).toBe('Validation');
    expect(under.body.message).toContain('body.description');

    // Same limit for PATCH.
    const patch = await admin('PATCH', `${base}/${t.adminTokenId}`, JSON.stringify({ description: 'y'.repeat(300 * KiB) }));
    expect(patch.status).toBe(413);
    expect(patch.body.type).toBe('PayloadTooLarge');
  });

  it('refuses an oversized chunked body (no Content-Length) with 413', async () => {
    const res = await chunkedPost(t.url, base, t.adminToken, 400 * KiB);
    expect(res.status).toBe(413);
    expect(res.body.type).toBe('PayloadTooLarge');
  });

  it('refuses a non-JSON content type with 415 UnsupportedMediaType', async () => {
    const admin = t.api(t.adminToken);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonx']) {
      const res = await admin('POST', base, '{"name":"ct"}', { 'content-type': type });
      expect(res.status, type).toBe(415);
      expect(res.body.type, type).toBe('UnsupportedMediaType');
      expect(res.body.message, type).toContain('application/json');
    }
    // A charset parameter on JSON is fine.
    const ok = await admin('POST', base, '{"name":"ct"}', { 'content-type': 'application/json; charset=utf-8' });
    expect(ok.status).toBe(201);
    expect((await admin('DELETE', `${base}/${ok.body.id}`, {})).status).toBe(200);
  });

  it('the server still answers after all of the above', async () => {
    const res = await t.api(t.adminToken)('GET', base);
    expect(res.status).toBe(200);
  });
});

describe('slow clients', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ headersTimeoutMs: 1_500, requestTimeoutMs: 3_000 });
  });
  afterAll(async () => t?.close());

  it('sweeps connections often enough to keep the deadlines (not Node’s 30 s default)', () => {
    expect(connectionsCheckMs({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 })).toBeLessThanOrEqual(1_000);
    expect(connectionsCheckMs({ headersTimeoutMs: 1_500, requestTimeoutMs: 3_000 })).toBeLessThanOrEqual(375);
  });

  it('cuts off a client that sends its headers one byte a second', async () => {
    // The whole request would take ~60 s at this rate; the headers deadline is 1.5 s.
    const headers = `GET /instances/${t.instanceId}/tokens HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${t.adminToken}\r\n\r\n`;
    const result = await trickle(t.server.port, headers, 1_000, 20_000);
    expect(result.closedByServer).toBe(true);
    // Closed long before the request could have been completed (no tight timing bound).
    expect(result.sent).toBeLessThan(headers.length / 2);
    if (result.received) expect(result.received).toMatch(/^HTTP\/1\.1 408/);
  }, 30_000);

  it('cuts off a client that sends a body one byte a second', async () => {
    const body = JSON.stringify({ name: 'slow body', description: 'z'.repeat(100) });
    const head =
      `POST /instances/${t.instanceId}/tokens HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${t.adminToken}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const socket = connect(t.server.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(head);
    const started = Date.now();
    let sent = 0;
    const outcome = await new Promise<{ closed: boolean; received: string }>((resolve) => {
      let received = '';
      const timer = setInterval(() => {
        if (sent < body.length && socket.writable) socket.write(body[sent++]);
      }, 1_000);
      const giveUp = setTimeout(() => finish(false), 20_000);
      const finish = (closed: boolean) => {
        clearInterval(timer);
        clearTimeout(giveUp);
        socket.destroy();
        resolve({ closed, received });
      };
      socket.setEncoding('utf8');
      socket.on('data', (d) => (received += d));
      socket.on('close', () => finish(true));
      socket.on('error', () => finish(true));
    });
    expect(outcome.closed).toBe(true);
    expect(sent).toBeLessThan(body.length);
    expect(Date.now() - started).toBeLessThan(20_000);
    // The half-sent create was never stored.
    const list = await t.api(t.adminToken)('GET', `/instances/${t.instanceId}/tokens?filter=slow*`);
    expect(list.body.totalCount).toBe(0);
  }, 30_000);

  it('serves normal clients while and after slow ones are cut off', async () => {
    const slow = trickle(t.server.port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n', 1_000, 20_000);
    const res = await t.api(t.adminToken)('GET', `/instances/${t.instanceId}/tokens`);
    expect(res.status).toBe(200);
    expect((await slow).closedByServer).toBe(true);
  }, 30_000);
});

describe('per-token rate limit', () => {
  let t: TestServer;
  let base: string;
  const LIMIT = 5;
  beforeAll(async () => {
    t = await startTestServer({ rateLimitPerMinute: LIMIT });
    base = `/instances/${t.instanceId}/tokens`;
  });
  afterAll(async () => t?.close());

  it('defaults to 6000 requests per minute per token, configurable by TESSERA_RATE_LIMIT (0 = off)', () => {
    expect(loadConfig({}, {}).rateLimitPerMinute).toBe(6000);
    expect(loadConfig({}, { TESSERA_RATE_LIMIT: '120' }).rateLimitPerMinute).toBe(120);
    expect(loadConfig({}, { TESSERA_RATE_LIMIT: '0' }).rateLimitPerMinute).toBe(0);
    expect(() => loadConfig({}, { TESSERA_RATE_LIMIT: '-1' })).toThrow(/rateLimitPerMinute/);
  });

  it('answers 429 TooManyRequests with Retry-After once a token exceeds its limit', async () => {
    // A second token, made directly through the service so it does not use up the admin's budget.
    const other = await t.server.service.createByOperator(t.instanceId, { name: 'other', scope: ['instanceApiTokens.get'] });
    const admin = t.api(t.adminToken);
    for (let i = 0; i < LIMIT; i++) expect((await admin('GET', base)).status).toBe(200);
    const limited = await admin('GET', base);
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ type: 'TooManyRequests', message: expect.stringContaining(`${LIMIT} requests per minute`) });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Every verb counts, writes included: a limited token cannot create.
    const post = await admin('POST', base, { name: 'after limit' });
    expect(post.status).toBe(429);

    // The limit follows the token: another token is unaffected.
    expect((await t.api(other.token)('GET', base)).status).toBe(200);
    // Health checks are never limited.
    expect((await admin('GET', '/health')).status).toBe(200);
    // The refused create stored nothing.
    const count = await t.server.store.listTokens(t.instanceId, { sortField: 'name', sortDirection: 'asc', offset: 0, limit: 10 });
    expect(count.items.map((r) => r.name).sort()).toEqual(['default admin', 'other']);
  });

  it('limits repeated guesses with the same bad token too (before authentication)', async () => {
    const guess = t.api('not-a-token');
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i++) statuses.push((await guess('GET', base)).status);
    expect(statuses.slice(0, LIMIT).every((s) => s === 401)).toBe(true);
    expect(statuses[LIMIT]).toBe(429);
  });
});
