#!/usr/bin/env node
// `npm run bench`: seeds a fresh database, starts the real server in its own process and
// measures it against a bare Fastify route on the same machine. See docs/performance.md.
//
//   npm run bench -- [--tokens 1000000] [--database postgres://…/db] [--reset]
//                    [--duration 5] [--rounds 2] [--samples 60] [--connections 10,50]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measure } from './lib/latency.js';
import { runLoad } from './lib/load.js';
import { prepareDatabase } from './lib/database.js';
import { sampleRss, startBare, startTessera } from './lib/processes.js';
import { checkTargets, writeResults } from './lib/report.js';
import { seed } from './lib/seed.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { values: args } = parseArgs({
  options: {
    tokens: { type: 'string', default: '1000000' },
    database: { type: 'string' },
    reset: { type: 'boolean', default: false },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '2' },
    samples: { type: 'string', default: '60' },
    connections: { type: 'string', default: '10,50' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write(
    [
      'npm run bench -- [options]',
      '  --tokens N           tokens to seed (default 1000000)',
      '  --database URL       postgres://… database to seed and measure (default: a fresh SQLite file in a temp dir)',
      '  --reset              drop and re-create that PostgreSQL database first (it must otherwise be new or empty)',
      '  --duration S         seconds per load run (default 5)',
      '  --warmup S           seconds of warm-up per target before the timed rounds (default 1)',
      '  --rounds N           alternating rounds per connection count (default 2)',
      '  --samples N          sequential requests per latency query, at least 50 (default 60)',
      '  --connections LIST   connection counts (default 10,50)',
      '  --out DIR            where latest.json and latest.md go (default bench/results)',
      '',
    ].join('\n'),
  );
  process.exit(0);
}

const tokens = int('tokens', 1);
const settings = {
  durationSec: int('duration', 1),
  warmupSec: int('warmup', 0),
  rounds: int('rounds', 1),
  samples: int('samples', 50),
  connections: args.connections.split(',').map((c) => Number(c.trim())),
};
function int(name, min) {
  const n = Number(args[name]);
  if (!Number.isSafeInteger(n) || n < min) {
    process.stderr.write(`bench: --${name} must be an integer ≥ ${min}\n`);
    process.exit(2);
  }
  return n;
}
const log = (line) => process.stdout.write(`${line}\n`);

const machine = {
  cores: cpus().length,
  cpu: cpus()[0]?.model.trim() ?? 'unknown',
  memoryMb: totalmem() / 1024 / 1024,
  node: process.versions.node,
  platform: `${platform()} ${release()}`,
  loadStart: loadavg().map((l) => Number(l.toFixed(2))),
};
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
} catch {
  // not a git checkout
}

let tempDir;
let database = args.database;
if (!database) {
  tempDir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  database = join(tempDir, 'bench.db');
} else {
  await prepareDatabase(database, { reset: args.reset, log });
}
const dialect = /^postgres(ql)?:\/\//i.test(database) ? 'postgres' : 'sqlite';

let tessera;
let bare;
try {
  log(`Tessera bench: ${dialect}, ${tokens.toLocaleString('en-US')} tokens, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadStart.join(' ')}`);
  log('Seeding…');
  const seeded = await seed({ database, tokens, log });
  log(`  ${Math.round(seeded.rowsPerSecond).toLocaleString('en-US')} rows/s`);

  log('Starting the server on the seeded database…');
  tessera = await startTessera({ database });
  log(`  healthy after ${tessera.startToHealthyMs.toFixed(0)} ms`);
  const stopSampling = sampleRss(tessera.pid);
  const base = `/instances/${seeded.instanceId}/tokens`;
  const auth = { authorization: `Bearer ${seeded.adminToken}` };

  const ids = await sampleIds(tessera.url, base, auth, tokens);

  log('Single-request latency…');
  const deepPage = Math.min(5000, Math.max(0, Math.floor(tokens / 100) - 1));
  const queries = [];
  for (const field of ['name', 'status', 'id', 'creationDate', 'lastUpdated', 'expirationDate']) {
    for (const dir of ['asc', 'desc']) {
      queries.push({ key: `page0-${field}-${dir}`, group: 'page0', label: `page 0, sort ${field} ${dir}`, path: `${base}?sortField=${field}&sortDirection=${dir}` });
    }
  }
  queries.push(
    { key: 'status-inactive', group: 'page0', label: 'status filter (inactive), page 0', path: `${base}?filterField=status&filter=inactive` },
    { key: 'glob-prefix', group: 'glob', label: 'prefix glob token-ab*', path: `${base}?filterField=name&filter=token-ab*` },
    { key: 'glob-case', group: 'glob', label: 'case-insensitive glob TOKEN-Ab*', path: `${base}?filterField=name&filter=TOKEN-Ab*` },
    { key: 'glob-contains', group: 'contains', label: 'contains glob *ab*', path: `${base}?filterField=name&filter=*ab*` },
    { key: 'page5000', group: 'page5000', label: `page ${deepPage}, perPage 100`, path: `${base}?page=${deepPage}&perPage=100` },
  );
  const latency = await measure({ url: tessera.url, token: seeded.adminToken, queries, samples: settings.samples, log });

  log('Throughput, alternating targets…');
  bare = await startBare();
  log(`  bare route body: ${bare.bytes} bytes`);
  const targets = [
    { key: 'bare', label: 'bare Fastify, 1 KB JSON', url: bare.url, pid: bare.pid, path: '/bare' },
    { key: 'getOne', label: 'GET /tokens/{id}', url: tessera.url, pid: tessera.pid, paths: ids.map((id) => `${base}/${id}`), headers: auth },
    { key: 'list10', label: 'GET /tokens?perPage=10', url: tessera.url, pid: tessera.pid, path: `${base}?perPage=10`, headers: auth },
    { key: 'list100', label: 'GET /tokens?perPage=100', url: tessera.url, pid: tessera.pid, path: `${base}?perPage=100`, headers: auth },
    {
      key: 'create',
      label: 'POST /tokens',
      url: tessera.url,
      pid: tessera.pid,
      method: 'POST',
      path: base,
      headers: auth,
      body: JSON.stringify({ name: 'bench created token', scope: ['all.Instance.read'] }),
    },
  ];
  const load = await runLoad({ targets, connections: settings.connections, rounds: settings.rounds, durationSec: settings.durationSec, warmupSec: settings.warmupSec, log });
  await bare.stop();

  const memory = stopSampling();
  log(`  server peak RSS ${memory.peakRssMb.toFixed(0)} MB (largest sample ${memory.maxSampledRssMb.toFixed(0)} MB)`);
  await tessera.stop();
  machine.loadEnd = loadavg().map((l) => Number(l.toFixed(2)));

  const run = {
    dialect,
    tokens,
    date: new Date().toISOString(),
    commit,
    machine,
    settings,
    seed: { rows: seeded.rows, seconds: seeded.seconds, rowsPerSecond: seeded.rowsPerSecond },
    startToHealthyMs: tessera.startToHealthyMs,
    memory,
    latency,
    load,
  };
  run.targets = checkTargets(run);
  const { jsonPath, mdPath } = writeResults(args.out, run);
  log('\nTargets:');
  for (const t of run.targets) log(`  ${t.met ? 'met   ' : 'MISSED'} ${t.measure}: ${t.value} (target ${t.target})`);
  log(`\nWrote ${jsonPath} and ${mdPath}`);
} finally {
  await bare?.stop();
  await tessera?.stop();
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
}

/** Ids of seeded tokens spread over the whole table, for the single-token GET. */
async function sampleIds(url, base, headers, total) {
  const ids = [];
  const pages = Math.max(1, Math.floor(total / 1000));
  for (const page of [0, 0.25, 0.5, 0.75, 0.99].map((f) => Math.floor(f * (pages - 1)))) {
    const res = await fetch(`${url}${base}?sortField=id&perPage=1000&page=${page}&_links=false`, { headers });
    if (res.status !== 200) throw new Error(`listing ids: HTTP ${res.status} ${await res.text()}`);
    for (const item of (await res.json()).items) ids.push(item.id);
  }
  return [...new Set(ids)];
}

