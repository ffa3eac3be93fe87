// The one error the client throws. Server errors keep the server's `type` and
// `message`; failures that never reached a response get a client-side type and
// statusCode 0, so callers handle every failure through the same three fields.
import type { ErrorType } from '../domain/errors.js';

export type ClientErrorType = 'Timeout' | 'NetworkError' | 'InvalidResponse';
// `string & {}` keeps editor completion for the known names while admitting a type a
// newer server might add.
export type ApiErrorType = ErrorType | ClientErrorType | (string & {});

export class ApiError extends Error {
  readonly statusCode: number;
  readonly type: ApiErrorType;

  constructor(statusCode: number, type: ApiErrorType, message: string) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.type = type;
  }
}

// Used only when an error response has no JSON body (a proxy in front, say).
const TYPE_BY_STATUS: Record<number, ErrorType> = {
  400: 'Validation',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  429: 'TooManyRequests',
  500: 'ServerError',
  503: 'ServiceUnavailable',
};

export function errorFromResponse(status: number, body: unknown, statusText: string): ApiError {
  const b = body as { type?: unknown; message?: unknown } | undefined;
  const type = typeof b?.type === 'string' ? b.type : (TYPE_BY_STATUS[status] ?? (status >= 500 ? 'ServerError' : 'Validation'));
  const message = typeof b?.message === 'string' ? b.message : `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  return new ApiError(status, type, message);
}
