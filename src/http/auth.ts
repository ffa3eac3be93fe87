// Authentication and authorization hook for the API routes: 401 for a bad token, 400
// for a malformed instance id, 403 for another instance or a missing scope. Each route
// names its action in `config.action`.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiProblem, validation } from '../domain/errors.js';
import { isId } from '../domain/ids.js';
import type { ServedAction } from '../domain/scopes.js';
import { authorize } from '../service/token-service.js';
import type { Authenticator, Caller } from '../tokens/authenticator.js';
import type { AuthFailureLimiter } from './auth-failures.js';

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

export function registerAuth(app: FastifyInstance, authenticator: Authenticator, failures: AuthFailureLimiter): void {
  app.decorateRequest('caller', undefined);
  app.addHook('onRequest', async (request) => {
    const action = request.routeOptions.config.action;
    if (!action) return;
    const authorization = request.headers.authorization;
    if (failures.enabled && !authenticator.recognizes(authorization)) failures.check(request.ip);
    let caller: Caller;
    try {
      caller = await authenticator.authenticate(authorization);
    } catch (err) {
      if (failures.enabled && err instanceof ApiProblem && err.type === 'Unauthorized') failures.noteFailure(request.ip);
      throw err;
    }
    request.caller = caller;
    const { instanceId } = request.params as { instanceId?: string };
    if (!isId(instanceId)) throw validation('path.instanceId must be a 24-character hexadecimal id');
    authorize(caller, instanceId, action);
  });
}
