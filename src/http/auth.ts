// Authentication and authorization hook for the API routes: 401 for a bad token, 400
// for a malformed instance id, 403 for another instance or a missing scope. Each route
// names its action in `config.action`.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { validation } from '../domain/errors.js';
import { isId } from '../domain/ids.js';
import type { ServedAction } from '../domain/scopes.js';
import { authorize } from '../service/token-service.js';
import type { Authenticator, Caller } from '../tokens/authenticator.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    action?: ServedAction;
  }
  interface FastifyRequest {
    caller?: Caller;
  }
}

export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new Error('route without authentication');
  return request.caller;
}

export function registerAuth(app: FastifyInstance, authenticator: Authenticator): void {
  app.decorateRequest('caller', undefined);
  app.addHook('onRequest', async (request) => {
    const action = request.routeOptions.config.action;
    if (!action) return;
    const caller = await authenticator.authenticate(request.headers.authorization);
    request.caller = caller;
    const { instanceId } = request.params as { instanceId?: string };
    if (!isId(instanceId)) throw validation('path.instanceId must be a 24-character hexadecimal id');
    authorize(caller, instanceId, action);
  });
}
