// The five routes of the Instance API Tokens resource. Each parses, calls one service
// function and shapes the reply. Paths, actions and schemas come from the operation
// table in schema/routes.ts, which the OpenAPI document is generated from too.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { validation } from '../domain/errors.js';
import { halFlag, parseListQuery, type HalFlagName } from '../domain/list-query.js';
import { collectionView, createdView, tokenView, type ViewOptions } from '../domain/token-view.js';
import { DomainHeaders } from '../schema/api.js';
import { operation, routerPath } from '../schema/routes.js';
import type { TokenService } from '../service/token-service.js';
import { callerOf } from './auth.js';
import type { Caller } from '../tokens/authenticator.js';

const IMMUTABLE_FIELDS = ['scope', 'expirationDate'];

function viewOptions(query: Partial<Record<HalFlagName, string>>, caller: Caller): ViewOptions {
  return { links: halFlag(query, '_links'), actions: halFlag(query, '_actions'), callerScope: caller.scope };
}

export const tokensRoutes =
  (service: TokenService): FastifyPluginAsyncTypebox =>
  async (app) => {
    const list = operation('instanceApiTokens.get');
    app.get(
      routerPath(list.path),
      {
        config: { action: list.action },
        schema: { params: list.params, querystring: list.query, headers: DomainHeaders, response: { [list.success.status]: list.success.schema } },
      },
      async (request) => {
        const caller = callerOf(request);
        const query = parseListQuery(request.query);
        const { items, totalCount } = await service.list(caller, request.params.instanceId, query);
        return collectionView(caller.instanceId, query, items, totalCount, viewOptions(request.query, caller));
      },
    );

    const create = operation('instanceApiTokens.post');
    app.post(
      routerPath(create.path),
      {
        config: { action: create.action },
        schema: {
          params: create.params,
          querystring: create.query,
          headers: DomainHeaders,
          body: create.body.schema,
          response: { [create.success.status]: create.success.schema },
        },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const { record, token } = await service.create(caller, request.params.instanceId, request.body);
        return reply.code(create.success.status).send(createdView(record, token, viewOptions(request.query, caller)));
      },
    );

    const get = operation('instanceApiToken.get');
    app.get(
      routerPath(get.path),
      {
        config: { action: get.action },
        schema: { params: get.params, querystring: get.query, headers: DomainHeaders, response: { [get.success.status]: get.success.schema } },
      },
      async (request) => {
        const caller = callerOf(request);
        const record = await service.get(caller, request.params.instanceId, request.params.apiTokenId);
        return tokenView(record, viewOptions(request.query, caller));
      },
    );

    const patch = operation('instanceApiToken.patch');
    app.patch(
      routerPath(patch.path),
      {
        config: { action: patch.action },
        schema: {
          params: patch.params,
          querystring: patch.query,
          headers: DomainHeaders,
          body: patch.body.schema,
          response: { [patch.success.status]: patch.success.schema },
        },
        // Say plainly that scope and expiry are fixed, before the generic "not allowed".
        preValidation: async (request) => {
          const body = request.body as Record<string, unknown> | undefined;
          // No body at all is "no changes"; a JSON null is left to the schema (400).
          if (body === undefined) {
            request.body = {} as typeof request.body;
            return;
          }
          if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
          const fixed = IMMUTABLE_FIELDS.find((f) => Object.prototype.hasOwnProperty.call(body, f));
          if (fixed) {
            throw validation(`body.${fixed} cannot be changed after creation; create a new token instead (PATCH accepts name, description and status)`);
          }
        },
      },
      async (request) => {
        const caller = callerOf(request);
        const record = await service.patch(caller, request.params.instanceId, request.params.apiTokenId, request.body);
        return tokenView(record, viewOptions(request.query, caller));
      },
    );

    const remove = operation('instanceApiToken.delete');
    app.delete(
      routerPath(remove.path),
      {
        config: { action: remove.action },
        schema: { params: remove.params, querystring: remove.query, headers: DomainHeaders, response: { [remove.success.status]: remove.success.schema } },
      },
      async (request) => {
        const caller = callerOf(request);
        await service.delete(caller, request.params.instanceId, request.params.apiTokenId);
        return { success: true as const };
      },
    );
  };
