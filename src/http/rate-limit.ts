// Per-token rate limit: requests are counted by the SHA-256 of the Authorization header
// (so the limit follows the token, and the token itself is never a map key), or by
// client address when no header is sent. Over the limit: 429 TooManyRequests with
// Retry-After. Counters are per server process.
import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { ApiProblem } from '../domain/errors.js';

export function rateLimitPlugin(perMinute: number) {
  return async (app: FastifyInstance) => {
    if (perMinute <= 0) return;
    // Not `global: true`: that attaches the check as a route-level hook, which runs after
    // the app-level authentication hook, so failed guesses (401/403) were never counted.
    // An app-level hook added here, before registerAuth, runs first.
    await app.register(rateLimit, {
      global: false,
      max: perMinute,
      timeWindow: 60_000,
      hook: 'onRequest',
      cache: 100_000,
      keyGenerator: (req) => {
        const auth = req.headers.authorization;
        return typeof auth === 'string' && auth.length > 0
          ? `t:${createHash('sha256').update(auth).digest('base64url')}`
          : `ip:${req.ip}`;
      },
      allowList: (req) => req.url === '/health',
      errorResponseBuilder: (_req, context) =>
        new ApiProblem('TooManyRequests', `Rate limit of ${context.max} requests per minute exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`, {
          'retry-after': String(Math.ceil(context.ttl / 1000)),
        }),
    });
    app.addHook('onRequest', app.rateLimit());
  };
}
