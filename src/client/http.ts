// One request over the platform's fetch. Nothing here is Node-specific, so the same
// code runs in a browser.
import { ApiError, errorFromResponse } from './api-error.js';
import type { ClientOptions, RequestFlags } from './types.js';

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  flags: RequestFlags;
  body?: unknown;
}

const FLAG_NAMES = ['_actions', '_links', '_embedded'] as const;

function buildUrl(base: string, path: string, query: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) search.set(k, String(v));
  const qs = search.toString();
  return `${base.replace(/\/+$/, '')}${path}${qs ? `?${qs}` : ''}`;
}

/** Encodes a path segment; ids are hex, but a caller's typo must not change the route. */
export const seg = (value: string) => encodeURIComponent(String(value));

export async function send<T>(options: ClientOptions, spec: RequestSpec): Promise<T> {
  if (!options.url) throw new ApiError(0, 'NetworkError', 'client option "url" is not set');
  const query: Record<string, string | number | boolean | undefined> = { ...spec.query };
  for (const f of FLAG_NAMES) query[f] = spec.flags[f];
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.accessToken) headers.authorization = `Bearer ${options.accessToken}`;
  if (spec.flags.losantdomain !== undefined) headers.losantdomain = spec.flags.losantdomain;
  let body: string | undefined;
  if (spec.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(spec.body);
  }
  const url = buildUrl(options.url, spec.path, query);
  const signal = options.timeout && options.timeout > 0 ? AbortSignal.timeout(options.timeout) : undefined;

  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { method: spec.method, headers, body, signal });
    text = await res.text();
  } catch (err) {
    const name = (err as { name?: string })?.name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new ApiError(0, 'Timeout', `${spec.method} ${spec.path} did not complete within ${options.timeout} ms`);
    }
    const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
    const detail = cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
    throw new ApiError(0, 'NetworkError', `could not reach ${options.url}: ${detail}`);
  }

  let parsed: unknown;
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      if (res.ok) throw new ApiError(res.status, 'InvalidResponse', `${spec.method} ${spec.path} returned a body that is not JSON`);
    }
  }
  if (!res.ok) throw errorFromResponse(res.status, parsed, res.statusText);
  return parsed as T;
}
