// Turns a schema validation failure into one sentence naming the field and the rule.
import type { FastifySchemaValidationError } from 'fastify';

const CONTEXT_NAME: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

const PATTERN_RULES: Record<string, string> = {
  instanceId: 'must be a 24-character hexadecimal id',
  apiTokenId: 'must be a 24-character hexadecimal id',
  _links: 'must be true, false, 1 or 0',
  _actions: 'must be true, false, 1 or 0',
  _embedded: 'must be true, false, 1 or 0',
  page: 'must be a non-negative integer',
  perPage: 'must be an integer from 1 to 1000',
  sortDirection: 'must be asc or desc',
  losantdomain: 'must be a hostname of at most 253 characters',
};

function fieldPath(context: string, instancePath: string): string {
  const base = CONTEXT_NAME[context] ?? context;
  const parts = instancePath.split('/').filter(Boolean);
  let out = base;
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`;
  return out;
}

function lastName(path: string): string {
  return path.replace(/\[\d+\]$/, '').split('.').at(-1) ?? path;
}

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

export function validationMessage(errors: FastifySchemaValidationError[], context: string): string {
  const chosen = errors.find((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf') ?? errors[0];
  if (!chosen) return `${CONTEXT_NAME[context] ?? context} is invalid`;
  const e = chosen as FastifySchemaValidationError & { data?: unknown };
  const field = fieldPath(context, e.instancePath);
  const name = lastName(field);
  const p = e.params as Record<string, any>;
  switch (e.keyword) {
    case 'required':
      return `${field}.${p.missingProperty} is required`;
    case 'additionalProperties':
      return `${field}.${p.additionalProperty} is not an allowed property`;
    case 'type':
      if (context === 'querystring' && Array.isArray(e.data)) return `${field} must be given at most once`;
      if (context === 'body' && e.instancePath === '') return 'body must be a JSON object';
      return `${field} must be ${article(String(p.type))}`;
    case 'enum':
      if (name === 'scope') return `${field} must be an instance scope such as all.Instance or instanceApiTokens.get; ${JSON.stringify(e.data)} is not one`;
      return `${field} must be one of: ${(p.allowedValues as unknown[]).map((v) => (v === '' ? '(empty)' : String(v))).join(', ')}`;
    case 'const':
      return `${field} must be ${JSON.stringify(p.allowedValue)}`;
    case 'pattern':
      return `${field} ${PATTERN_RULES[name] ?? `must match the pattern ${p.pattern}`}`;
    case 'minLength':
      return p.limit === 1 ? `${field} must not be empty` : `${field} must be at least ${p.limit} characters long`;
    case 'maxLength':
      // page and perPage are numbers sent as text: say so in numbers.
      if (context === 'querystring' && (name === 'page' || name === 'perPage')) {
        return `${field} ${PATTERN_RULES[name]} (at most ${p.limit} digits)`;
      }
      return `${field} must be at most ${p.limit} characters long`;
    case 'minItems':
      return p.limit === 1 ? `${field} must not be empty` : `${field} must have at least ${p.limit} items`;
    case 'maxItems':
      return `${field} must have at most ${p.limit} items`;
    case 'uniqueItems':
      return `${field} must not contain duplicates (items ${p.j} and ${p.i} are equal)`;
    case 'format':
      return `${field} must be ${p.format === 'date-time' ? 'an ISO 8601 date-time' : `a valid ${p.format}`}`;
    case 'anyOf':
    case 'oneOf':
      if (name === 'expirationDate') return `${field} must be an ISO 8601 date-time string or a number of milliseconds since the epoch`;
      return `${field} does not match any allowed form`;
    case 'minimum':
    case 'maximum':
      return `${field} must be ${e.keyword === 'minimum' ? '>=' : '<='} ${p.limit}`;
    default:
      return `${field} ${e.message ?? 'is invalid'}`;
  }
}
