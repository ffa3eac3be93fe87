// Maps every failure to the one error body of the catalogue. Nothing reaches the client
// as a bare framework error, and a 500 never carries internals.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiProblem, ERROR_STATUS, type ErrorType } from '../domain/errors.js';
import { validationMessage } from './validation-message.js';

const BY_CODE: Record<string, (err: FastifyError) => ApiProblem> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new ApiProblem('PayloadTooLarge', 'Request body is larger than the limit of 256 KiB'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (err) =>
    new ApiProblem('UnsupportedMediaType', `Content-Type must be application/json${err.message.includes(':') ? `, not ${err.message.split(':').slice(1).join(':').trim()}` : ''}`),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => new ApiProblem('Validation', 'Content-Length does not match the length of the body'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new ApiProblem('Validation', 'body must be a JSON object'),
  FST_ERR_CTP_INVALID_TYPE: () => new ApiProblem('Validation', 'Content-Type header is invalid'),
  FST_ERR_BAD_URL: () => new ApiProblem('Validation', 'path is not a valid URL: it contains a malformed percent-encoding'),
  FST_ERR_MAX_PARAM_LENGTH: () => new ApiProblem('Validation', 'path has a segment longer than 200 characters'),
};

// The catalogue read backwards: a framework error's 4xx/503 status names its type.
const BY_STATUS: Partial<Record<number, ErrorType>> = Object.fromEntries(
  (Object.entries(ERROR_STATUS) as Array<[ErrorType, number]>)
    .filter(([type]) => type !== 'ServerError')
    .map(([type, status]) => [status, type]),
);

/** Errors from the database driver that mean "the database cannot be reached". */
export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  const message = String((err as Error)?.message ?? '');
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', '53300', 'SQLITE_BUSY', 'SQLITE_CANTOPEN'].includes(code) ||
    /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|database is locked/i.test(message)
  );
}

export function toProblem(err: unknown): ApiProblem | undefined {
  if (err instanceof ApiProblem) return err;
  const fe = err as FastifyError;
  if (fe && Array.isArray(fe.validation)) {
    return new ApiProblem('Validation', validationMessage(fe.validation, fe.validationContext ?? 'body'));
  }
  if (fe?.code && BY_CODE[fe.code]) return BY_CODE[fe.code](fe);
  if (isUnavailable(err)) return new ApiProblem('ServiceUnavailable', 'The database is unavailable; try again shortly');
  const status = fe?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ApiProblem(BY_STATUS[status] ?? 'Validation', fe.message || 'Bad request');
  }
  return undefined;
}

/**
 * Fastify's `frameworkErrors` option: errors the router raises before any route (a bad
 * percent-encoding, an over-long path segment) would otherwise bypass the error handler
 * and reply with Fastify's own body instead of the catalogue's.
 */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const problem = toProblem(err) ?? new ApiProblem('Validation', 'Bad request');
  reply.code(problem.statusCode).send(problem.toBody());
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const problem = toProblem(err);
    if (problem) {
      if (problem.statusCode >= 500) request.log.warn({ err }, 'request failed: database unavailable');
      return reply.code(problem.statusCode).headers(problem.headers).send(problem.toBody());
    }
    request.log.error({ err }, 'unhandled error');
    return reply.code(ERROR_STATUS.ServerError).send({ type: 'ServerError', message: 'Internal server error' });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ type: 'NotFound', message: `No route for ${request.method} ${request.url.split('?')[0].slice(0, 200)}` });
  });
}
