// The typed Tessera client, shaped like the official Losant clients:
//   const client = createClient({ url, accessToken });
//   await client.instanceApiTokens.get({ instanceId });
// It imports nothing at runtime from the server side (types only), uses the platform's
// fetch, and has no dependencies, so it also runs in a browser.
import { send, seg } from './http.js';
import type {
  ApiToken,
  ApiTokenCreated,
  ApiTokens,
  ClientOptions,
  InstanceApiTokenActions,
  InstanceApiTokensActions,
  ListParams,
  RequestFlags,
  Success,
  TesseraClient,
} from './types.js';

export { ApiError } from './api-error.js';
export type { ApiErrorType, ClientErrorType } from './api-error.js';
export type * from './types.js';

const flagsOf = (p: RequestFlags): RequestFlags => ({
  losantdomain: p.losantdomain,
  _actions: p._actions,
  _links: p._links,
  _embedded: p._embedded,
});

const listQuery = (p: ListParams) => ({
  sortField: p.sortField,
  sortDirection: p.sortDirection,
  page: p.page,
  perPage: p.perPage,
  filterField: p.filterField,
  filter: p.filter,
});

const tokensPath = (instanceId: string) => `/instances/${seg(instanceId)}/tokens`;
const tokenPath = (instanceId: string, apiTokenId: string) => `${tokensPath(instanceId)}/${seg(apiTokenId)}`;

export function createClient(initial: ClientOptions): TesseraClient {
  const options: ClientOptions = { ...initial };
  const effective = (opts?: Partial<ClientOptions>): ClientOptions => ({ ...options, ...opts });

  const instanceApiTokens: InstanceApiTokensActions = {
    get: (params, opts) =>
      send<ApiTokens>(effective(opts), { method: 'GET', path: tokensPath(params.instanceId), query: listQuery(params), flags: flagsOf(params) }),
    post: (params, opts) =>
      send<ApiTokenCreated>(effective(opts), {
        method: 'POST',
        path: tokensPath(params.instanceId),
        flags: flagsOf(params),
        body: params.apiToken,
      }),
    async *iterate(params, opts) {
      // Pages are fetched only as the loop consumes them; ordering is total on the
      // server (ties broken by id), so consecutive pages neither overlap nor skip.
      let page = params.page ?? 0;
      for (;;) {
        const res = await instanceApiTokens.get({ ...params, page }, opts);
        yield* res.items;
        if (res.items.length === 0 || (page + 1) * res.perPage >= res.totalCount) return;
        page += 1;
      }
    },
  };

  const instanceApiToken: InstanceApiTokenActions = {
    get: (params, opts) =>
      send<ApiToken>(effective(opts), { method: 'GET', path: tokenPath(params.instanceId, params.apiTokenId), flags: flagsOf(params) }),
    patch: (params, opts) =>
      send<ApiToken>(effective(opts), {
        method: 'PATCH',
        path: tokenPath(params.instanceId, params.apiTokenId),
        flags: flagsOf(params),
        body: params.apiToken ?? {},
      }),
    delete: (params, opts) =>
      send<Success>(effective(opts), { method: 'DELETE', path: tokenPath(params.instanceId, params.apiTokenId), flags: flagsOf(params) }),
  };

  const client: TesseraClient = {
    instanceApiTokens,
    instanceApiToken,
    setOption(name, value) {
      options[name] = value;
      return client;
    },
    getOption: (name) => options[name],
  };
  return client;
}
