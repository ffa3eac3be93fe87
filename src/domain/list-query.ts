// Turns the collection query (strings, already shape-checked by the schema) into typed
// values, applying the defaults and the range rules of SPEC 2.2.
import { validation } from './errors.js';
import { compileGlob, type CompiledGlob } from './glob.js';
import {
  PER_PAGE_DEFAULT,
  PER_PAGE_MAX,
  TOKEN_STATUSES,
  type FilterField,
  type ListQuery,
  type SortDirection,
  type SortField,
  type TokenStatus,
} from '../schema/api.js';

export interface ParsedListQuery {
  sortField: SortField;
  sortDirection: SortDirection;
  page: number;
  perPage: number;
  filterField?: FilterField;
  filter?: string;
  /** Derived from filter: which statuses a `status` glob admits. */
  statuses?: TokenStatus[];
  /** Derived from filter: the compiled `name` glob. */
  nameGlob?: CompiledGlob;
}

export function parseListQuery(q: ListQuery): ParsedListQuery {
  const sortField = q.sortField ?? 'name';
  const sortDirection = (q.sortDirection ? q.sortDirection.toLowerCase() : 'asc') as SortDirection;
  const page = q.page === undefined ? 0 : Number(q.page);
  const perPage = q.perPage === undefined ? PER_PAGE_DEFAULT : Number(q.perPage);
  if (!Number.isSafeInteger(perPage) || perPage < 1 || perPage > PER_PAGE_MAX) {
    throw validation(`query.perPage must be an integer from 1 to ${PER_PAGE_MAX}`);
  }
  if (!Number.isSafeInteger(page) || page * perPage > Number.MAX_SAFE_INTEGER) {
    throw validation('query.page must be a non-negative integer small enough that page * perPage is a safe integer');
  }
  const parsed: ParsedListQuery = { sortField, sortDirection, page, perPage };
  // SPEC 2.2: an empty filter or an explicitly empty filterField means no filtering;
  // a filter without any filterField applies to name.
  if (q.filter !== undefined && q.filter !== '' && q.filterField !== '') {
    const filterField: FilterField = q.filterField ?? 'name';
    const glob = compileGlob(q.filter);
    parsed.filterField = filterField;
    parsed.filter = q.filter;
    if (filterField === 'status') parsed.statuses = TOKEN_STATUSES.filter((s) => glob.test(s));
    else parsed.nameGlob = glob;
  }
  return parsed;
}

const FLAG_DEFAULTS = { _links: true, _actions: false, _embedded: true } as const;
export type HalFlagName = keyof typeof FLAG_DEFAULTS;

export function halFlag(q: Partial<Record<HalFlagName, string>>, name: HalFlagName): boolean {
  const v = q[name];
  if (v === undefined) return FLAG_DEFAULTS[name];
  return v === 'true' || v === '1';
}
