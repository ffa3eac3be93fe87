// The API's schemas, defined once. The server validates requests and serializes
// responses with them, the OpenAPI document is generated from them, and the client's
// types are derived from them (type-only imports, so the client ships no TypeBox).
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { INSTANCE_SCOPES, type InstanceScope } from '../domain/instance-scopes.generated.js';

export const ID_PATTERN = '^[A-Fa-f0-9]{24}$';
export const HOSTNAME_PATTERN =
  '^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?$';

export const SORT_FIELDS = ['name', 'status', 'id', 'creationDate', 'lastUpdated', 'expirationDate'] as const;
export type SortField = (typeof SORT_FIELDS)[number];
export const SORT_DIRECTIONS = ['asc', 'desc'] as const;
export type SortDirection = (typeof SORT_DIRECTIONS)[number];
export const FILTER_FIELDS = ['name', 'status'] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];
export const TOKEN_STATUSES = ['active', 'inactive'] as const;
export type TokenStatus = (typeof TOKEN_STATUSES)[number];
export const CREATOR_TYPES = ['apiToken', 'user', 'flow'] as const;

const StringEnum = <T extends readonly string[]>(values: T, options: Record<string, unknown> = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

export const Id = Type.String({ pattern: ID_PATTERN, description: '24-character hexadecimal id' });
export const DateTime = Type.String({ format: 'date-time' });
export const Scope = Type.Unsafe<InstanceScope>({ type: 'string', enum: [...INSTANCE_SCOPES] });

const Link = Type.Object({ href: Type.String() });
const ActionLink = Type.Object({ method: Type.String(), href: Type.String() });
export const Links = Type.Record(Type.String(), Link);
export const Actions = Type.Record(Type.String(), ActionLink);

export const ApiToken = Type.Object(
  {
    id: Id,
    apiTokenId: Id,
    instanceId: Id,
    name: Type.String({ minLength: 1, maxLength: 255 }),
    description: Type.Optional(Type.String({ maxLength: 32767 })),
    scope: Type.Array(Scope),
    status: StringEnum(TOKEN_STATUSES),
    creationDate: DateTime,
    lastUpdated: DateTime,
    expirationDate: Type.Optional(DateTime),
    lastUsed: Type.Optional(DateTime),
    creatorId: Type.Optional(Id),
    creatorType: StringEnum(CREATOR_TYPES),
    creatorName: Type.Optional(Type.String({ maxLength: 1024 })),
    _type: Type.Literal('apiToken'),
    _links: Type.Optional(Links),
    _actions: Type.Optional(Actions),
  },
  { title: 'API Token' },
);
export type ApiToken = Static<typeof ApiToken>;

export const ApiTokenCreated = Type.Composite(
  [ApiToken, Type.Object({ token: Type.String({ minLength: 1 }) })],
  { title: 'API Token (with its secret, returned once)' },
);
export type ApiTokenCreated = Static<typeof ApiTokenCreated>;

export const ApiTokens = Type.Object(
  {
    items: Type.Array(ApiToken),
    count: Type.Integer(),
    totalCount: Type.Integer(),
    page: Type.Integer(),
    perPage: Type.Integer(),
    sortField: StringEnum(SORT_FIELDS),
    sortDirection: StringEnum(SORT_DIRECTIONS),
    filterField: Type.Optional(StringEnum(FILTER_FIELDS)),
    filter: Type.Optional(Type.String()),
    instanceId: Id,
    _type: Type.Literal('apiTokens'),
    _links: Type.Optional(Links),
    _actions: Type.Optional(Actions),
  },
  { title: 'API Tokens' },
);
export type ApiTokens = Static<typeof ApiTokens>;

export const ApiTokenPost = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    description: Type.Optional(Type.String({ maxLength: 32767 })),
    expirationDate: Type.Optional(
      Type.Union([DateTime, Type.Integer({ description: 'milliseconds since the epoch' })]),
    ),
    scope: Type.Optional(Type.Array(Scope, { minItems: 1, uniqueItems: true })),
    status: Type.Optional(StringEnum(TOKEN_STATUSES)),
  },
  { additionalProperties: false, title: 'API Token Post' },
);
export type ApiTokenPost = Static<typeof ApiTokenPost>;

export const ApiTokenPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    description: Type.Optional(Type.String({ maxLength: 32767 })),
    status: Type.Optional(StringEnum(TOKEN_STATUSES)),
  },
  { additionalProperties: false, title: 'API Token Patch' },
);
export type ApiTokenPatch = Static<typeof ApiTokenPatch>;

export const ErrorBody = Type.Object(
  { type: Type.String(), message: Type.String() },
  { title: 'Error' },
);
export const Success = Type.Object({ success: Type.Literal(true) }, { title: 'Success' });

// Query strings arrive as text; the patterns below are the rules, and the list
// parser turns the accepted text into typed values.
const BOOL_FLAG = '^(true|false|1|0)$';
export const HalFlags = {
  _links: Type.Optional(Type.String({ pattern: BOOL_FLAG, description: 'true/false/1/0, default true' })),
  _actions: Type.Optional(Type.String({ pattern: BOOL_FLAG, description: 'true/false/1/0, default false' })),
  _embedded: Type.Optional(Type.String({ pattern: BOOL_FLAG, description: 'true/false/1/0, default true' })),
};
export const FlagsQuery = Type.Object(HalFlags);

export const ListQuery = Type.Object({
  sortField: Type.Optional(StringEnum(SORT_FIELDS, { description: 'Field to sort by (default name); ties are broken by id' })),
  sortDirection: Type.Optional(Type.String({ pattern: '^([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])?$', description: 'asc or desc, case-insensitive (default asc)' })),
  page: Type.Optional(Type.String({ pattern: '^[0-9]+$', maxLength: 15, description: 'Page number, from 0 (default 0)' })),
  perPage: Type.Optional(Type.String({ pattern: '^[0-9]+$', maxLength: 15, description: 'Items per page, 1..1000 (default 100)' })),
  filterField: Type.Optional(Type.Unsafe<FilterField | ''>({ type: 'string', enum: [...FILTER_FIELDS, ''], description: 'Field the filter applies to (default name); empty means no filtering' })),
  filter: Type.Optional(Type.String({ maxLength: 1024, description: 'Glob: * any run of characters, ? exactly one; case-insensitive, whole value; empty means no filtering' })),
  ...HalFlags,
});
export type ListQuery = Static<typeof ListQuery>;

export const InstanceParams = Type.Object({ instanceId: Id });
export const TokenParams = Type.Object({ instanceId: Id, apiTokenId: Id });
export const DomainHeaders = Type.Object({
  losantdomain: Type.Optional(Type.String({ maxLength: 253, pattern: HOSTNAME_PATTERN })),
});

export const PER_PAGE_MAX = 1000;
export const PER_PAGE_DEFAULT = 100;

export const SCHEMAS: Record<string, TSchema> = { ApiToken, ApiTokenCreated, ApiTokens, ApiTokenPost, ApiTokenPatch, ErrorBody, Success };
