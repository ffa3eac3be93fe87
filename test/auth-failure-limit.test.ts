// Failed authentications are limited per client address, so rotating forged tokens
// (each a fresh per-token allowance) cannot make the server check signatures without
// end; tokens the server has already verified keep working past the limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';

describe('failed-authentication limit per address', () => {
  let t: TestServer;
  let base: string;
  beforeAll(async () => {
    t = await startTestServer({ authFailureLimitPerMinute: 5 });
    base = `/instances/${t.instanceId}/tokens`;
  });
  afterAll(async () => t?.close());

  it('answers 429 with Retry-After past the limit, and still serves a token verified before', async () => {
    const admin = t.api(t.adminToken);
    expect((await admin('GET', base)).status).toBe(200); // the admin token is now known

    const unused = await admin('POST', base, { name: 'never used yet', scope: ['instanceApiTokens.get'] });
    expect(unused.status).toBe(201);

    const forged = (i: number) => `eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4${i}In0.c2lnbmF0dXJl${i}`;
    for (let i = 0; i < 5; i++) {
      const res = await t.api(forged(i))('GET', base);
      expect(res.status).toBe(401);
    }
    const limited = await t.api(forged(99))('GET', base);
    expect(limited.status).toBe(429);
    expect(limited.body.type).toBe('TooManyRequests');
    expect(limited.body.message).toMatch(/failed authentications/);
    const retry = Number(limited.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);

    // Already verified: not held up by the address's failures.
    expect((await admin('GET', base)).status).toBe(200);
    // Not verified yet: refused until the window passes (documented trade-off).
    expect((await t.api(unused.body.token)('GET', base)).status).toBe(429);
    // Requests without a token are failures too, and are refused the same way.
    expect((await t.api(undefined)('GET', base)).status).toBe(429);
    // Health is not an authenticated route.
    expect((await t.api(undefined)('GET', '/health')).status).toBe(200);
  });
});
