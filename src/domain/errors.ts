// The one error catalogue: every failure the API reports has a type from this table,
// and the type alone decides the HTTP status.
export const ERROR_STATUS = {
  Validation: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  TooManyRequests: 429,
  ServerError: 500,
  ServiceUnavailable: 503,
} as const;

export type ErrorType = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  type: ErrorType;
  message: string;
}

export class ApiProblem extends Error {
  readonly type: ErrorType;
  readonly headers: Record<string, string>;

  constructor(type: ErrorType, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiProblem';
    this.type = type;
    this.headers = headers;
  }

  get statusCode(): number {
    return ERROR_STATUS[this.type];
  }

  toBody(): ErrorBody {
    return { type: this.type, message: this.message };
  }
}

export const validation = (message: string) => new ApiProblem('Validation', message);
export const unauthorized = (message: string) => new ApiProblem('Unauthorized', message);
export const forbidden = (message: string) => new ApiProblem('Forbidden', message);
export const notFound = (message: string) => new ApiProblem('NotFound', message);
