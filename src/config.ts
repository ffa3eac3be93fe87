// Configuration: CLI flags over environment variables over defaults, parsed once through
// a schema into one typed object. A bad value is an error naming the setting.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export const ConfigSchema = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  host: Type.String({ minLength: 1 }),
  database: Type.String({ minLength: 1 }),
  logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
  sqliteSynchronous: Type.Union([Type.Literal('NORMAL'), Type.Literal('FULL')]),
  /** Requests per token per minute; 0 disables the limit. */
  rateLimitPerMinute: Type.Integer({ minimum: 0 }),
  /** Failed authentications per client address per minute; 0 disables the limit. */
  authFailureLimitPerMinute: Type.Integer({ minimum: 0 }),
  /** Milliseconds a client has to send a whole request. */
  requestTimeoutMs: Type.Integer({ minimum: 1 }),
  /** Milliseconds a client has to send the request headers. */
  headersTimeoutMs: Type.Integer({ minimum: 1 }),
  /** Milliseconds an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: Type.Integer({ minimum: 1 }),
});
export type Config = Static<typeof ConfigSchema>;

/** Each setting: its environment variable(s) and default. */
export const SETTINGS: Record<keyof Config, { env: string[]; default: string | number }> = {
  port: { env: ['PORT'], default: 3000 },
  host: { env: ['HOST'], default: '127.0.0.1' },
  database: { env: ['TESSERA_DATABASE', 'DATABASE_URL'], default: './data/tessera.db' },
  logLevel: { env: ['LOG_LEVEL'], default: 'info' },
  sqliteSynchronous: { env: ['TESSERA_SQLITE_SYNCHRONOUS'], default: 'NORMAL' },
  rateLimitPerMinute: { env: ['TESSERA_RATE_LIMIT'], default: 6000 },
  authFailureLimitPerMinute: { env: ['TESSERA_AUTH_FAILURE_LIMIT'], default: 300 },
  requestTimeoutMs: { env: ['TESSERA_REQUEST_TIMEOUT_MS'], default: 30_000 },
  headersTimeoutMs: { env: ['TESSERA_HEADERS_TIMEOUT_MS'], default: 10_000 },
  keepAliveTimeoutMs: { env: ['TESSERA_KEEP_ALIVE_TIMEOUT_MS'], default: 5_000 },
};

export class ConfigError extends Error {}

export function loadConfig(
  flags: Partial<Record<keyof Config, string | number | undefined>> = {},
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const raw: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS) as Array<[keyof Config, (typeof SETTINGS)[keyof Config]]>) {
    const fromEnv = setting.env.map((name) => env[name]).find((v) => v !== undefined && v !== '');
    raw[key] = flags[key] ?? fromEnv ?? setting.default;
  }
  if (typeof raw.sqliteSynchronous === 'string') raw.sqliteSynchronous = raw.sqliteSynchronous.toUpperCase();
  const converted = Value.Convert(ConfigSchema, raw);
  const first = Value.Errors(ConfigSchema, converted).First();
  if (first) {
    const key = first.path.replace(/^\//, '') as keyof Config;
    const setting = SETTINGS[key];
    const source = setting ? `${key} (flag or ${setting.env.join('/')})` : key;
    throw new ConfigError(`invalid setting ${source}: ${JSON.stringify(raw[key])} ${first.message.toLowerCase()}`);
  }
  return converted as Config;
}
