// Composition root: config → store → keys → service → HTTP app. Used by `tessera serve`
// and by the tests, which start the real server on a real port.
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import { rateLimitPlugin } from './http/rate-limit.js';
import { buildApp, logSerializers, REDACT_PATHS, type AppOptions } from './http/app.js';
import { TokenService, type Created } from './service/token-service.js';
import { openStore } from './store/open.js';
import type { InstanceRecord, TokenStore } from './store/types.js';
import { Authenticator } from './tokens/authenticator.js';
import { KeyRing } from './tokens/keys.js';
import { LastUsedRecorder } from './tokens/last-used.js';

export const KEY_REFRESH_MS = 1000;

export interface Bootstrap {
  instance: InstanceRecord;
  admin: Created;
}

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  port: number;
  store: TokenStore;
  service: TokenService;
  keys: KeyRing;
  /** Present when this start created the `default` instance on an empty database. */
  bootstrap?: Bootstrap;
  close(): Promise<void>;
}

export interface Core {
  store: TokenStore;
  keys: KeyRing;
  service: TokenService;
}

/** Opens and migrates the database and loads the signing keys (server and CLI alike). */
export async function openCore(config: Pick<Config, 'database' | 'sqliteSynchronous'>): Promise<Core> {
  const store = openStore(config.database, { synchronous: config.sqliteSynchronous });
  try {
    await store.migrate();
    const keys = new KeyRing(store);
    // Locked, so replicas starting together on an empty database create one first key.
    await store.runExclusive('signing-keys', () => keys.init());
    return { store, keys, service: new TokenService(store, keys) };
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}

export function createLogger(level: Config['logLevel']): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, serializers: logSerializers });
}

export async function startServer(
  config: Config,
  options: { logger?: Logger; plugins?: AppOptions['plugins'] } = {},
): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const { store, keys, service } = await openCore(config);
  let releaseServeLock: () => void;
  try {
    releaseServeLock = store.claimForServing();
  } catch (err) {
    await store.close();
    throw err;
  }

  // Under a database-wide lock: replicas starting together on an empty database must
  // create one `default` instance, not one each.
  const bootstrap: Bootstrap | undefined = await store.runExclusive('bootstrap', async () =>
    (await store.listInstances()).length === 0 ? service.createInstance('default') : undefined,
  );

  const lastUsed = new LastUsedRecorder(store, (err) => logger.warn({ err }, 'could not record lastUsed'));
  const authenticator = new Authenticator(keys, store, lastUsed);
  const app = await buildApp(
    { service, authenticator, store },
    {
      loggerInstance: logger,
      requestTimeoutMs: config.requestTimeoutMs,
      authFailureLimitPerMinute: config.authFailureLimitPerMinute,
      headersTimeoutMs: config.headersTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      plugins: [rateLimitPlugin(config.rateLimitPerMinute), ...(options.plugins ?? [])],
    },
  );
  const keyRefresh = setInterval(() => {
    keys.reload().catch((err) => logger.warn({ err }, 'could not refresh signing keys'));
  }, KEY_REFRESH_MS);
  keyRefresh.unref();
  // Keys changed by another replica or the CLI (PostgreSQL NOTIFY): reload now instead of
  // at the next tick. The second reload starts after any already in flight, so it reads
  // the committed change.
  store.onChange((change) => {
    if (change !== 'signingKeys') return;
    keys
      .reload()
      .finally(() => keys.reload())
      .catch((err) => logger.warn({ err }, 'could not reload signing keys after a change notice'));
  });
  lastUsed.start();

  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    clearInterval(keyRefresh);
    await app.close().catch(() => {});
    await lastUsed.stop().catch(() => {});
    await store.close().catch(() => {});
    releaseServeLock();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(keyRefresh);
      await app.close();
      await lastUsed.stop();
      await store.close();
      releaseServeLock();
    })());

  return { app, url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`, port, store, service, keys, bootstrap, close };
}
