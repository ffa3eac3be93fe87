// The client's public types. Every shape here is derived from the schemas the server
// validates with (src/schema/api.ts), through type-only imports that vanish at compile
// time, so the client cannot drift from the server and ships no schema library.
import type {
  ApiToken,
  ApiTokenCreated,
  ApiTokenPatch,
  ApiTokenPost,
  ApiTokens,
  FilterField,
  SortDirection,
  SortField,
  TokenStatus,
} from '../schema/api.js';
import type { InstanceScope } from '../domain/instance-scopes.generated.js';
import type { ErrorType } from '../domain/errors.js';

export type { ApiToken, ApiTokenCreated, ApiTokenPatch, ApiTokenPost, ApiTokens, FilterField, SortDirection, SortField, TokenStatus, InstanceScope, ErrorType };

/** A listed or fetched token: the POST result is the only shape that carries `token`. */
export type ApiTokenItem = ApiTokens['items'][number];

export interface ClientOptions {
  /** Base URL of the Tessera server, e.g. `http://localhost:3000`. */
  url: string;
  /** The API token sent as `Authorization: Bearer …`. */
  accessToken?: string;
  /** Milliseconds before a request is abandoned with an `ApiError` of type `Timeout`. */
  timeout?: number;
}

/** Options accepted by every action, as in the official Losant clients. */
export interface RequestFlags {
  /** Domain scope of the request (rarely needed); sent as the `losantdomain` header. */
  losantdomain?: string;
  /** Return the `_actions` the caller may perform (default false). */
  _actions?: boolean;
  /** Return HAL `_links` (default true). */
  _links?: boolean;
  /** Return embedded resources (default true). */
  _embedded?: boolean;
}

export interface InstanceParams extends RequestFlags {
  instanceId: string;
}

export interface TokenParams extends InstanceParams {
  apiTokenId: string;
}

export interface ListParams extends InstanceParams {
  sortField?: SortField;
  sortDirection?: SortDirection;
  /** Page number, from 0. */
  page?: number;
  /** Items per page, 1..1000 (default 100). */
  perPage?: number;
  filterField?: FilterField;
  /** Glob: `*` any run of characters, `?` one character; case-insensitive, whole value. */
  filter?: string;
}

export type IterateParams = ListParams;

export interface PostParams extends InstanceParams {
  apiToken: ApiTokenPost;
}

export interface PatchParams extends TokenParams {
  apiToken: ApiTokenPatch;
}

export type DeleteParams = TokenParams;

export interface Success {
  success: true;
}

export interface InstanceApiTokensActions {
  /** GET /instances/{instanceId}/tokens: one page of tokens. */
  get(params: ListParams, opts?: Partial<ClientOptions>): Promise<ApiTokens>;
  /** POST /instances/{instanceId}/tokens: the result carries the token string, once. */
  post(params: PostParams, opts?: Partial<ClientOptions>): Promise<ApiTokenCreated>;
  /** Every matching token, fetching one page at a time as the loop asks for more. */
  iterate(params: IterateParams, opts?: Partial<ClientOptions>): AsyncGenerator<ApiTokenItem, void, undefined>;
}

export interface InstanceApiTokenActions {
  get(params: TokenParams, opts?: Partial<ClientOptions>): Promise<ApiToken>;
  patch(params: PatchParams, opts?: Partial<ClientOptions>): Promise<ApiToken>;
  delete(params: DeleteParams, opts?: Partial<ClientOptions>): Promise<Success>;
}

export interface TesseraClient {
  instanceApiTokens: InstanceApiTokensActions;
  instanceApiToken: InstanceApiTokenActions;
  setOption<K extends keyof ClientOptions>(name: K, value: ClientOptions[K]): TesseraClient;
  getOption<K extends keyof ClientOptions>(name: K): ClientOptions[K];
}
