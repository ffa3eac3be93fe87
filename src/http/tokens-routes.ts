// The five routes of the Instance API Tokens resource. Each parses, calls one service
// function and shapes the reply.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { validation } from '../domain/errors.js';
import { halFlag, parseListQuery, type HalFlagName } from '../domain/list-query.js';
import { collectionView, createdView, tokenView, type ViewOptions } from '../domain/token-view.js';
import {
  ApiToken,
  ApiTokenCreated,
  ApiTokenPatch,
  ApiTokenPost,
  ApiTokens,
  DomainHeaders,
  FlagsQuery,
  InstanceParams,
  ListQuery,
  Success,
  TokenParams,
} from '../schema/api.js';
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
    app.get(
      '/instances/:instanceId/tokens',
      {
        config: { action: 'instanceApiTokens.get' },
        schema: { params: InstanceParams, querystring: ListQuery, headers: DomainHeaders, response: { 200: ApiTokens } },
      },
      async (request) => {
        const caller = callerOf(request);
        const query = parseListQuery(request.query);
        const { items, totalCount } = await service.list(caller, request.params.instanceId, query);
        return collectionView(caller.instanceId, query, items, totalCount, viewOptions(request.query, caller));
      },
    );

    app.post(
      '/instances/:instanceId/tokens',
      {
        config: { action: 'instanceApiTokens.post' },
        schema: {
          params: InstanceParams,
          querystring: FlagsQuery,
          headers: DomainHeaders,
          body: ApiTokenPost,
          response: { 201: ApiTokenCreated },
        },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const { record, token } = await service.create(caller, request.params.instanceId, request.body);
        return reply.code(201).send(createdView(record, token, viewOptions(request.query, caller)));
      },
    );

    app.get(
      '/instances/:instanceId/tokens/:apiTokenId',
      {
        config: { action: 'instanceApiToken.get' },
        schema: { params: TokenParams, querystring: FlagsQuery, headers: DomainHeaders, response: { 200: ApiToken } },
      },
      async (request) => {
        const caller = callerOf(request);
        const record = await service.get(caller, request.params.instanceId, request.params.apiTokenId);
        return tokenView(record, viewOptions(request.query, caller));
      },
    );

    app.patch(
      '/instances/:instanceId/tokens/:apiTokenId',
      {
        config: { action: 'instanceApiToken.patch' },
        schema: {
          params: TokenParams,
          querystring: FlagsQuery,
          headers: DomainHeaders,
          body: ApiTokenPatch,
          response: { 200: ApiToken },
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

    app.delete(
      '/instances/:instanceId/tokens/:apiTokenId',
      {
        config: { action: 'instanceApiToken.delete' },
        schema: { params: TokenParams, querystring: FlagsQuery, headers: DomainHeaders, response: { 200: Success } },
      },
      async (request) => {
        const caller = callerOf(request);
        await service.delete(caller, request.params.instanceId, request.params.apiTokenId);
        return { success: true as const };
      },
    );
  };
