// The Fastify application: JSON only, 256 KiB bodies, schema validation without type
// coercion or silent stripping, one error body, structured logs without secrets.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import secureJson from 'secure-json-parse';
import { validation } from '../domain/errors.js';
import type { TokenService } from '../service/token-service.js';
import type { TokenStore } from '../store/types.js';
import type { Authenticator } from '../tokens/authenticator.js';
import { AuthFailureLimiter } from './auth-failures.js';
import { registerAuth } from './auth.js';
import { frameworkErrors, registerErrorHandling } from './errors.js';
import { healthRoutes } from './health.js';
import { openapiRoutes } from './openapi.js';
import { tokensRoutes } from './tokens-routes.js';

export const BODY_LIMIT = 256 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export interface AppDeps {
  service: TokenService;
  authenticator: Authenticator;
  store: TokenStore;
}

export interface AppOptions {
  /** A pino logger; absent means no logging (tests). */
  loggerInstance?: FastifyBaseLogger;
  requestTimeoutMs?: number;
  headersTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** Failed authentications per client address per minute before 429 (0: no limit). */
  authFailureLimitPerMinute?: number;
  /** Extra plugins registered before the routes (rate limiting, OpenAPI, …). */
  plugins?: Array<(app: FastifyInstance) => Promise<void> | void>;
}

// A JWT-shaped run (header.payload.signature) anywhere in a URL: a client that puts its
// token in the query string or path must not get it written to the logs.
const JWT_LIKE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

/** Log serializers that cannot leak a token: no headers, no bodies, tokens cut from URLs. */
export const logSerializers = {
  req(req: { method: string; url: string; id: string; ip?: string }) {
    return { method: req.method, url: req.url.replace(JWT_LIKE, '[redacted]'), id: req.id, remoteAddress: req.ip };
  },
  res(res: { statusCode: number }) {
    return { statusCode: res.statusCode };
  },
};

export const REDACT_PATHS = ['req.headers.authorization', 'headers.authorization', 'authorization', 'token', '*.token'];

/** How often Node sweeps connections for missed header/request deadlines. */
export function connectionsCheckMs(opts: Pick<AppOptions, 'headersTimeoutMs' | 'requestTimeoutMs'>): number {
  const tightest = Math.min(opts.headersTimeoutMs ?? 10_000, opts.requestTimeoutMs ?? 30_000);
  return Math.max(50, Math.min(1_000, Math.floor(tightest / 4)));
}

export async function buildApp(deps: AppDeps, opts: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(opts.loggerInstance ? { loggerInstance: opts.loggerInstance } : { logger: false }),
    bodyLimit: BODY_LIMIT,
    requestTimeout: opts.requestTimeoutMs ?? 30_000,
    connectionTimeout: 0,
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? 5_000,
    // Node checks header and request deadlines only every connectionsCheckingInterval
    // (30 s by default), so a client trickling its headers could hold a socket far past
    // headersTimeout; check often enough that the deadline is kept to within a second.
    http: { connectionsCheckingInterval: connectionsCheckMs(opts) },
    return503OnClosing: true,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: false },
    frameworkErrors,
    ajv: {
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false, verbose: true },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  if (opts.headersTimeoutMs) app.server.headersTimeout = opts.headersTimeoutMs;

  // JSON is the only body type. An empty body counts as no body (the official clients
  // send none, or `{}`, on DELETE); __proto__ and constructor.prototype keys are refused.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (err) {
      const reason = err instanceof SyntaxError ? err.message : 'it contains a forbidden __proto__ or constructor.prototype key';
      done(validation(`body is not valid JSON: ${reason}`), undefined);
    }
  });

  // While shutting down, ask keep-alive clients to hang up after their response, so
  // draining does not wait out the keep-alive timeout of connections that just went idle.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
  });

  registerErrorHandling(app);
  // Plugins (the rate limit) run before authentication, so failed guesses count too.
  for (const plugin of opts.plugins ?? []) await plugin(app);
  registerAuth(app, deps.authenticator, new AuthFailureLimiter(opts.authFailureLimitPerMinute ?? 0));
  await app.register(healthRoutes(deps.store));
  await app.register(openapiRoutes);
  await app.register(tokensRoutes(deps.service));
  return app;
}
