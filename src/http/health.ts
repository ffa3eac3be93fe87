import type { FastifyPluginAsync } from 'fastify';
import type { TokenStore } from '../store/types.js';

const PING_TIMEOUT_MS = 2000;

/** GET /health: liveness and database reachability (503 while the database is down). */
export const healthRoutes =
  (store: TokenStore): FastifyPluginAsync =>
  async (app) => {
    app.get('/health', async (_request, reply) => {
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const reachable = await Promise.race([
        store.ping().then(() => true, () => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      const database = { dialect: store.dialect, reachable, latencyMs: Date.now() - started };
      if (!reachable) return reply.code(503).send({ status: 'unavailable', type: 'ServiceUnavailable', message: 'The database is unreachable', database });
      return { status: 'ok', database };
    });
  };
