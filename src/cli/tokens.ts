// `tessera tokens list|create|get|update|delete`: talks to a running server through the
// typed client, like any other script would. Tables for people, --json for scripts.
// Exit codes are decided by the CLI entry point from `tokensExitCode`.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ApiError, createClient, type ApiToken, type ApiTokenPatch, type ApiTokenPost, type ListParams, type TesseraClient } from '../client/index.js';
import { FILTER_FIELDS, SORT_DIRECTIONS, SORT_FIELDS, TOKEN_STATUSES } from '../schema/api.js';
import { table } from './table.js';

export const DEFAULT_URL = 'http://127.0.0.1:3000';

/** A mistake in how the command was called (exit 2), as opposed to an API error (exit 1). */
export class TokensUsageError extends Error {}

interface ConnectionOpts {
  url: string;
  token?: string;
  instance?: string;
  timeout: number;
  json?: boolean;
}

const integer = (min: number) => (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(`must be an integer >= ${min}`);
  }
  return Number(value);
};

function connectionOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <url>', 'server URL').env('TESSERA_URL').default(DEFAULT_URL))
    .addOption(new Option('--token <token>', 'API token to authenticate with (prefer the env var: arguments show up in ps and shell history)').env('TESSERA_TOKEN'))
    .addOption(new Option('--instance <id>', "instance id (default: the instance the token belongs to, read from the token's sub claim)").env('TESSERA_INSTANCE'))
    .addOption(new Option('--timeout <ms>', 'request timeout in milliseconds').argParser(integer(1)).default(30_000))
    .option('--json', 'print the JSON response and nothing else on stdout');
}

/** The instance a token was issued for: its `sub` claim, read without verifying (the server verifies). */
export function instanceFromToken(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown };
    return typeof claims.sub === 'string' ? claims.sub : undefined;
  } catch {
    return undefined;
  }
}

function connect(opts: ConnectionOpts): { client: TesseraClient; instanceId: string } {
  if (!opts.token) throw new TokensUsageError('no API token: set TESSERA_TOKEN or pass --token');
  const instanceId = opts.instance || instanceFromToken(opts.token);
  if (!instanceId) throw new TokensUsageError('cannot tell the instance from the token: pass --instance or set TESSERA_INSTANCE');
  return { client: createClient({ url: opts.url, accessToken: opts.token, timeout: opts.timeout }), instanceId };
}

const out = (text: string): void => {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
};
const printJson = (value: unknown): void => out(JSON.stringify(value, null, 2));
// ISO without milliseconds: the table stays narrow, the --json output keeps full precision.
const when = (iso: string | undefined, none = 'never') => (iso ? iso.replace(/\.\d{3}Z$/, 'Z') : none);

function tokenTable(items: readonly ApiToken[]): string {
  return table(
    ['ID', 'NAME', 'STATUS', 'SCOPE', 'EXPIRES', 'LAST USED'],
    items.map((t) => [t.id, t.name, t.status, t.scope.join(','), when(t.expirationDate), when(t.lastUsed)]),
  );
}

function tokenDetails(t: ApiToken): string {
  const creator = [t.creatorType, t.creatorName, t.creatorId && `(${t.creatorId})`].filter(Boolean).join(' ');
  return table(
    ['FIELD', 'VALUE'],
    [
      ['id', t.id],
      ['name', t.name],
      ['description', t.description ?? ''],
      ['status', t.status],
      ['scope', t.scope.join(', ')],
      ['created', when(t.creationDate)],
      ['updated', when(t.lastUpdated)],
      ['expires', when(t.expirationDate)],
      ['last used', when(t.lastUsed)],
      ['creator', creator],
    ],
  )
    .split('\n')
    .slice(1)
    .join('\n');
}

function parseExpiration(value: string): string | number {
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

export function registerTokensCommands(program: Command): void {
  const tokens = program
    .command('tokens')
    .description('manage the API tokens of an instance through a running server (env TESSERA_URL, TESSERA_TOKEN, TESSERA_INSTANCE)')
    // Usage errors and --help surface as CommanderError, so the entry point picks the exit code.
    .exitOverride();

  connectionOptions(
    tokens
      .command('list')
      .description('list tokens (one page, or every page with --all)')
      .addOption(new Option('--sort-field <field>', 'field to sort by').choices(SORT_FIELDS).default('name'))
      .addOption(new Option('--sort-direction <dir>', 'sort direction').choices(SORT_DIRECTIONS).default('asc'))
      .addOption(new Option('--page <n>', 'page number, from 0').argParser(integer(0)))
      .addOption(new Option('--per-page <n>', 'tokens per page, 1..1000 (server default 100)').argParser(integer(1)))
      .addOption(new Option('--filter-field <field>', 'field the filter applies to (default name)').choices(FILTER_FIELDS))
      .option('--filter <glob>', 'glob: * any run of characters, ? one character; case-insensitive')
      .option('--all', 'fetch every page'),
  ).action(
    async (
      opts: ConnectionOpts & { sortField: ListParams['sortField']; sortDirection: ListParams['sortDirection']; page?: number; perPage?: number; filterField?: ListParams['filterField']; filter?: string; all?: boolean },
    ) => {
      const { client, instanceId } = connect(opts);
      const params: ListParams = {
        instanceId,
        sortField: opts.sortField,
        sortDirection: opts.sortDirection,
        page: opts.page,
        perPage: opts.perPage,
        filterField: opts.filterField,
        filter: opts.filter,
      };
      if (opts.all) {
        const items: ApiToken[] = [];
        for await (const t of client.instanceApiTokens.iterate(params)) items.push(t);
        if (opts.json) return printJson({ items, count: items.length });
        return out(`${tokenTable(items)}\n\n${items.length} token${items.length === 1 ? '' : 's'}`);
      }
      const page = await client.instanceApiTokens.get(params);
      if (opts.json) return printJson(page);
      const first = page.page * page.perPage;
      const range = page.count > 0 ? `${first + 1}-${first + page.count} of ${page.totalCount}` : `none of ${page.totalCount}`;
      const more = first + page.count < page.totalCount ? ` (next: --page ${page.page + 1}, or --all)` : '';
      return out(`${tokenTable(page.items)}\n\nShowing ${range}, page ${page.page}, ${page.perPage} per page${more}`);
    },
  );

  connectionOptions(
    tokens
      .command('create')
      .description('create a token and print its token string (shown only this once)')
      .requiredOption('--name <name>', 'token name, 1..255 characters')
      .option('--description <text>', 'free text')
      .option('--scope <scopes...>', 'scopes, space- or comma-separated (default all.Instance); must be covered by your own token')
      .option('--expiration-date <date>', 'ISO 8601 date-time or milliseconds since the epoch, in the future (default: never expires)')
      .addOption(new Option('--status <status>', 'initial status').choices(TOKEN_STATUSES)),
  ).action(async (opts: ConnectionOpts & { name: string; description?: string; scope?: string[]; expirationDate?: string; status?: ApiTokenPost['status'] }) => {
    const { client, instanceId } = connect(opts);
    const apiToken: ApiTokenPost = { name: opts.name };
    if (opts.description !== undefined) apiToken.description = opts.description;
    if (opts.scope) {
      // The server checks each scope against the vocabulary and names any it rejects.
      apiToken.scope = opts.scope.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean) as ApiTokenPost['scope'];
    }
    if (opts.expirationDate !== undefined) apiToken.expirationDate = parseExpiration(opts.expirationDate);
    if (opts.status) apiToken.status = opts.status;
    const created = await client.instanceApiTokens.post({ instanceId, apiToken });
    process.stderr.write('Warning: the token string is shown only this once and cannot be retrieved again; store it now.\n');
    if (opts.json) return printJson(created);
    return out(
      [
        `Created token "${created.name}" with id ${created.id} (scope ${created.scope.join(', ')}; expires ${when(created.expirationDate)}).`,
        '',
        created.token,
        '',
      ].join('\n'),
    );
  });

  connectionOptions(tokens.command('get').description('show one token').argument('<apiTokenId>', 'token id')).action(
    async (apiTokenId: string, opts: ConnectionOpts) => {
      const { client, instanceId } = connect(opts);
      const token = await client.instanceApiToken.get({ instanceId, apiTokenId });
      return opts.json ? printJson(token) : out(tokenDetails(token));
    },
  );

  connectionOptions(
    tokens
      .command('update')
      .description('change the name, description or status of a token (scope and expiry are fixed at creation)')
      .argument('<apiTokenId>', 'token id')
      .option('--name <name>', 'new name')
      .option('--description <text>', 'new description')
      .addOption(new Option('--status <status>', 'active re-enables, inactive disables at once').choices(TOKEN_STATUSES)),
  ).action(async (apiTokenId: string, opts: ConnectionOpts & ApiTokenPatch) => {
    const apiToken: ApiTokenPatch = {};
    if (opts.name !== undefined) apiToken.name = opts.name;
    if (opts.description !== undefined) apiToken.description = opts.description;
    if (opts.status !== undefined) apiToken.status = opts.status;
    if (Object.keys(apiToken).length === 0) throw new TokensUsageError('nothing to update: give --name, --description or --status');
    const { client, instanceId } = connect(opts);
    const token = await client.instanceApiToken.patch({ instanceId, apiTokenId, apiToken });
    return opts.json ? printJson(token) : out(`Updated token ${token.id}.\n${tokenDetails(token)}`);
  });

  connectionOptions(tokens.command('delete').description('delete a token for good; it stops working at once').argument('<apiTokenId>', 'token id')).action(
    async (apiTokenId: string, opts: ConnectionOpts) => {
      const { client, instanceId } = connect(opts);
      const result = await client.instanceApiToken.delete({ instanceId, apiTokenId });
      return opts.json ? printJson(result) : out(`Deleted token ${apiTokenId}.`);
    },
  );
}

/**
 * For the entry point: prints an error raised by a `tokens` command and returns the
 * exit code (1 for API errors, 2 for usage errors), or undefined if it is not one.
 */
export function tokensExitCode(err: unknown): number | undefined {
  if (err instanceof ApiError) {
    process.stderr.write(`Error ${err.type}: ${err.message}\n`);
    return 1;
  }
  if (err instanceof TokensUsageError) {
    process.stderr.write(`Error Usage: ${err.message}\n`);
    return 2;
  }
  // Commander has already printed its message (or the help).
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  return undefined;
}
