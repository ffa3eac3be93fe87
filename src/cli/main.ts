// The `tessera` command. Only this entry point decides exit codes.
import { Command, Option } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import type { openCore as OpenCore } from '../server.js';
import { table } from './table.js';
import { registerTokensCommands, tokensExitCode } from './tokens.js';

const iso = (ms: number) => new Date(ms).toISOString();

class CliError extends Error {}

function databaseOption() {
  return new Option('--database <path-or-url>', 'SQLite file or postgres:// URL (env TESSERA_DATABASE or DATABASE_URL; default ./data/tessera.db)');
}

// The server modules (Fastify, database drivers, crypto) load only for the commands
// that use them, so `tessera tokens …`, which talks HTTP, starts quickly.
const server = () => import('../server.js');

async function withCore<T>(database: string | undefined, fn: (core: Awaited<ReturnType<typeof OpenCore>>) => Promise<T>): Promise<T> {
  const config = loadConfig({ database });
  const core = await (await server()).openCore(config);
  try {
    return await fn(core);
  } finally {
    await core.store.close();
  }
}

export function buildProgram(): Command {
  const program = new Command('tessera')
    .description('Tessera: a self-hosted token authority implementing the Losant Instance API Tokens API')
    .showHelpAfterError()
    .configureOutput({ outputError: (str, write) => write(str) });

  program
    .command('serve')
    .description('run the HTTP server (creates instance "default" and prints its admin token on an empty database)')
    .option('--port <n>', 'port to listen on (env PORT; default 3000)')
    .option('--host <host>', 'address to bind (env HOST; default 127.0.0.1)')
    .addOption(databaseOption())
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env LOG_LEVEL; default info)')
    .action(async (opts: { port?: string; host?: string; database?: string; logLevel?: string }) => {
      const config = loadConfig({ port: opts.port, host: opts.host, database: opts.database, logLevel: opts.logLevel });
      const { startServer } = await server();
      const running = await startServer(config);
      if (running.bootstrap) {
        const { instance, admin } = running.bootstrap;
        process.stdout.write(
          [
            '',
            `Created instance "${instance.name}" with id ${instance.id}.`,
            'Its admin token (scope all.Instance) is shown only this once; store it now:',
            '',
            admin.token,
            '',
            '',
          ].join('\n'),
        );
      }
      running.app.log.info({ url: running.url, database: running.store.location, dialect: running.store.dialect }, 'tessera listening');
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        running.app.log.info({ signal }, 'shutting down: draining in-flight requests');
        running.close().then(
          () => process.exit(0),
          (err) => {
            running.app.log.error({ err }, 'error during shutdown');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });

  const instances = program.command('instances').description('manage instances (directly in the database)');
  instances
    .command('create')
    .description('create an instance and print its id and an admin token (shown once)')
    .requiredOption('--name <name>', 'instance name')
    .option('--json', 'print {"instance": {...}, "token": "..."} and nothing else')
    .addOption(databaseOption())
    .action(async (opts: { name: string; json?: boolean; database?: string }) => {
      const name = opts.name.trim();
      if (name.length === 0 || name.length > 255) throw new CliError('--name must be 1 to 255 characters');
      await withCore(opts.database, async ({ service }) => {
        const { instance, admin } = await service.createInstance(name);
        const view = { id: instance.id, name: instance.name, creationDate: iso(instance.creationDate) };
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ instance: view, token: admin.token })}\n`);
        } else {
          process.stdout.write(
            `Created instance "${view.name}" with id ${view.id}.\nIts admin token (scope all.Instance) is shown only this once:\n\n${admin.token}\n`,
          );
        }
      });
    });
  instances
    .command('list')
    .description('list instances')
    .option('--json', 'print JSON')
    .addOption(databaseOption())
    .action(async (opts: { json?: boolean; database?: string }) => {
      await withCore(opts.database, async ({ store }) => {
        const items = (await store.listInstances()).map((i) => ({ id: i.id, name: i.name, creationDate: iso(i.creationDate) }));
        if (opts.json) process.stdout.write(`${JSON.stringify({ items, count: items.length })}\n`);
        else process.stdout.write(`${table(['ID', 'NAME', 'CREATED'], items.map((i) => [i.id, i.name, i.creationDate]))}\n`);
      });
    });

  const keys = program.command('keys').description('manage token signing keys');
  keys
    .command('rotate')
    .description('add a new signing key and make it current (older keys still verify)')
    .addOption(databaseOption())
    .action(async (opts: { database?: string }) => {
      await withCore(opts.database, async ({ store }) => {
        const { rotateSigningKey } = await import('../tokens/keys.js');
        const key = await rotateSigningKey(store);
        process.stdout.write(`New signing key ${key.kid} is now current; tokens signed by older keys keep working until those keys are removed.\n`);
      });
    });
  keys
    .command('list')
    .description('list signing keys, newest (current) last')
    .option('--json', 'print JSON')
    .addOption(databaseOption())
    .action(async (opts: { json?: boolean; database?: string }) => {
      await withCore(opts.database, async ({ store }) => {
        const all = await store.listSigningKeys();
        const items = all.map((k, i) => ({ kid: k.kid, algorithm: k.algorithm, createdAt: iso(k.createdAt), current: i === all.length - 1 }));
        if (opts.json) process.stdout.write(`${JSON.stringify({ items })}\n`);
        else process.stdout.write(`${table(['KID', 'ALG', 'CREATED', 'CURRENT'], items.map((k) => [k.kid, k.algorithm, k.createdAt, k.current ? 'yes' : '']))}\n`);
      });
    });
  keys
    .command('remove')
    .description('remove a retired signing key: tokens it signed stop working')
    .argument('<kid>', 'key id (see `tessera keys list`)')
    .addOption(databaseOption())
    .action(async (kid: string, opts: { database?: string }) => {
      await withCore(opts.database, async ({ store }) => {
        const all = await store.listSigningKeys();
        if (!all.some((k) => k.kid === kid)) throw new CliError(`no signing key ${kid}`);
        if (all.at(-1)?.kid === kid) throw new CliError(`key ${kid} is the current signing key; rotate first`);
        await store.deleteSigningKey(kid);
        process.stdout.write(`Removed signing key ${kid}.\n`);
      });
    });

  registerTokensCommands(program);

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    const tokensCode = tokensExitCode(err);
    if (tokensCode !== undefined) {
      process.exitCode = tokensCode;
    } else if (err instanceof CliError || err instanceof ConfigError) {
      process.stderr.write(`tessera: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`tessera: ${(err as Error)?.message ?? String(err)}\n`);
      process.exitCode = 1;
    }
  }
}
