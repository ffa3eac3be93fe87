#!/usr/bin/env node
// Soak: starts `tessera serve` as a child process on a fresh SQLite file, drives a mixed
// list/create/get/patch/delete load from N concurrent keep-alive connections for a
// while, then stops the server and checks the database: every acknowledged create is
// present (unless acknowledged deleted), every acknowledged delete is absent, counters
// agree, integrity_check is ok. Prints requests, statuses, errors and server RSS.
//
//   node scripts/soak.mjs [--duration 60] [--connections 50] [--json]
//
// Exit code 1 when any 5xx, connection error, unexpected status or inconsistency was
// seen. Needs the build (`npm run build`). The short CI version is test/soak.test.ts.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir, cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'tessera.js');

/** Resident set size of a process in bytes (Linux /proc), or undefined elsewhere. */
export function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Creates an instance in `database` with the CLI and returns its id and admin token. */
export function createInstance(database, name = 'soak') {
  const out = execFileSync(process.execPath, [BIN, 'instances', 'create', '--name', name, '--json', '--database', database], { encoding: 'utf8' });
  const parsed = JSON.parse(out);
  return { instanceId: parsed.instance.id, token: parsed.token };
}

/** Starts `tessera serve` on an ephemeral port; resolves once it logs that it listens. */
export function startServerProcess(database, env = {}) {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--database', database], {
    env: { ...process.env, LOG_LEVEL: 'info', TESSERA_RATE_LIMIT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = [];
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolvePromise, reject) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 20_000);
    lines.on('line', (line) => {
      logs.push(line);
      try {
        const entry = JSON.parse(line);
        if (entry.msg === 'tessera listening') {
          clearTimeout(timer);
          resolvePromise({ child, url: entry.url, logs, stderr: () => stderr });
        }
      } catch {
        // not a log line (the bootstrap banner)
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${stderr}`));
    });
  });
}

/** Stops the child with SIGTERM (graceful drain) and resolves with its exit code. */
export function stopServerProcess(child) {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolvePromise) => {
    child.once('exit', (code) => resolvePromise(code));
    child.kill('SIGTERM');
  });
}

function send(agent, url, method, path, token, body) {
  return new Promise((resolvePromise) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url + path, {
      method,
      agent,
      headers: {
        authorization: `Bearer ${token}`,
        ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let parsed;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        resolvePromise({ status: res.statusCode, body: parsed });
      });
      res.on('error', (err) => resolvePromise({ status: 0, error: err }));
    });
    req.on('error', (err) => resolvePromise({ status: 0, error: err }));
    req.end(payload);
  });
}

const OPS = [
  ['list', 30],
  ['create', 25],
  ['get', 20],
  ['patch', 15],
  ['delete', 10],
];
const OP_TOTAL = OPS.reduce((a, [, w]) => a + w, 0);
function pickOp() {
  let r = Math.random() * OP_TOTAL;
  for (const [op, w] of OPS) if ((r -= w) < 0) return op;
  return 'list';
}

/**
 * Drives the load. Each connection owns the tokens it created, so what it expects of
 * a get, patch or delete is known exactly (no races between connections by design).
 */
export async function driveLoad({ url, instanceId, token, durationMs, connections }) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const base = `/instances/${instanceId}/tokens`;
  const stats = { requests: 0, byStatus: {}, byOp: {}, serverErrors: 0, connectionErrors: 0, unexpected: 0, examples: [] };
  const created = new Set();
  const deleted = new Set();
  const deadline = Date.now() + durationMs;
  const note = (op, res, ok) => {
    stats.requests++;
    stats.byOp[op] = (stats.byOp[op] ?? 0) + 1;
    stats.byStatus[res.status] = (stats.byStatus[res.status] ?? 0) + 1;
    if (res.status === 0) stats.connectionErrors++;
    else if (res.status >= 500) stats.serverErrors++;
    else if (!ok) stats.unexpected++;
    if ((res.status === 0 || res.status >= 500 || !ok) && stats.examples.length < 10) {
      stats.examples.push({ op, status: res.status, body: res.body, error: res.error && String(res.error) });
    }
  };
  async function worker(w) {
    const mine = [];
    let n = 0;
    while (Date.now() < deadline) {
      let op = pickOp();
      if ((op === 'get' || op === 'patch' || op === 'delete') && mine.length === 0) op = 'create';
      if (op === 'list') {
        const q = ['?perPage=20', `?filter=w${w}-*&perPage=50`, '?sortField=creationDate&sortDirection=desc&perPage=10', '?page=3&perPage=5'][n % 4];
        const res = await send(agent, url, 'GET', base + q, token);
        note(op, res, res.status === 200 && Array.isArray(res.body?.items) && res.body.count === res.body.items.length);
      } else if (op === 'create') {
        const res = await send(agent, url, 'POST', base, token, { name: `w${w}-${n}`, description: 'soak', scope: ['instanceApiTokens.get'] });
        const ok = res.status === 201 && typeof res.body?.id === 'string' && typeof res.body?.token === 'string';
        note(op, res, ok);
        if (ok) {
          created.add(res.body.id);
          mine.push(res.body.id);
        }
      } else {
        const i = Math.floor(Math.random() * mine.length);
        const id = mine[i];
        if (op === 'get') {
          const res = await send(agent, url, 'GET', `${base}/${id}`, token);
          note(op, res, res.status === 200 && res.body?.id === id);
        } else if (op === 'patch') {
          const res = await send(agent, url, 'PATCH', `${base}/${id}`, token, { name: `w${w}-${n}-renamed`, status: n % 2 ? 'inactive' : 'active' });
          note(op, res, res.status === 200 && res.body?.id === id);
        } else {
          const res = await send(agent, url, 'DELETE', `${base}/${id}`, token, {});
          const ok = res.status === 200 && res.body?.success === true;
          note(op, res, ok);
          if (ok) {
            deleted.add(id);
            mine.splice(i, 1);
          }
        }
      }
      n++;
    }
  }
  const started = Date.now();
  await Promise.all(Array.from({ length: connections }, (_, w) => worker(w)));
  agent.destroy();
  stats.elapsedMs = Date.now() - started;
  return { stats, created, deleted };
}

/** Checks the stopped server's database against what the load saw acknowledged. */
export function checkDatabase(database, instanceId, created, deleted) {
  const db = new Database(database, { readonly: true });
  try {
    const ids = new Set(db.prepare('SELECT id FROM tokens WHERE instance_id = ?').pluck().all(instanceId));
    const missingCreates = [...created].filter((id) => !deleted.has(id) && !ids.has(id));
    const presentDeletes = [...deleted].filter((id) => ids.has(id));
    const counted = db.prepare('SELECT COALESCE(SUM(n), 0) FROM instance_counts WHERE instance_id = ?').pluck().get(instanceId);
    const actual = db.prepare('SELECT COUNT(*) FROM tokens WHERE instance_id = ?').pluck().get(instanceId);
    const integrity = db.pragma('integrity_check', { simple: true });
    return {
      tokensStored: ids.size,
      missingCreates: missingCreates.length,
      presentDeletes: presentDeletes.length,
      countersAgree: Number(counted) === Number(actual),
      integrity,
      consistent: missingCreates.length === 0 && presentDeletes.length === 0 && Number(counted) === Number(actual) && integrity === 'ok',
    };
  } finally {
    db.close();
  }
}

/** The whole soak: fresh database, child server, load, RSS, graceful stop, checks. */
export async function soak({ durationMs = 60_000, connections = 50, warmupMs = 1_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-soak-'));
  const database = join(dir, 'tessera.db');
  try {
    const { instanceId, token } = createInstance(database);
    const server = await startServerProcess(database);
    let result;
    try {
      // A short warm-up so the start figure is of a running server, not a cold one.
      const warm = await driveLoad({ url: server.url, instanceId, token, durationMs: warmupMs, connections });
      const rssStart = rssOf(server.child.pid);
      // RSS over time, to tell a plateau (caches filling) from steady growth (a leak).
      const rssSamples = [];
      const sampler = setInterval(() => rssSamples.push(rssOf(server.child.pid)), Math.max(1_000, durationMs / 12));
      const load = await driveLoad({ url: server.url, instanceId, token, durationMs, connections }).finally(() => clearInterval(sampler));
      const rssEnd = rssOf(server.child.pid);
      load.rssSamples = rssSamples;
      // The warm-up's acknowledgements are checked too; its requests are not counted.
      for (const id of warm.created) load.created.add(id);
      for (const id of warm.deleted) load.deleted.add(id);
      const w = warm.stats;
      load.stats.serverErrors += w.serverErrors;
      load.stats.connectionErrors += w.connectionErrors;
      load.stats.unexpected += w.unexpected;
      load.stats.examples.push(...w.examples);
      result = { ...load, rssStart, rssEnd };
    } finally {
      result ??= {};
      result.exitCode = await stopServerProcess(server.child);
    }
    const db = checkDatabase(database, instanceId, result.created, result.deleted);
    return {
      durationMs,
      connections,
      requests: result.stats.requests,
      requestsPerSecond: Math.round(result.stats.requests / (result.stats.elapsedMs / 1000)),
      byOp: result.stats.byOp,
      byStatus: result.stats.byStatus,
      serverErrors: result.stats.serverErrors,
      connectionErrors: result.stats.connectionErrors,
      unexpected: result.stats.unexpected,
      examples: result.stats.examples,
      acknowledgedCreates: result.created.size,
      acknowledgedDeletes: result.deleted.size,
      rssStartMiB: result.rssStart && +(result.rssStart / 2 ** 20).toFixed(1),
      rssEndMiB: result.rssEnd && +(result.rssEnd / 2 ** 20).toFixed(1),
      rssSamplesMiB: (result.rssSamples ?? []).filter(Boolean).map((b) => +(b / 2 ** 20).toFixed(1)),
      serverExitCode: result.exitCode,
      database: db,
      ok: result.stats.serverErrors === 0 && result.stats.connectionErrors === 0 && result.stats.unexpected === 0 && db.consistent && result.exitCode === 0,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function flag(argv, name, fallback) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2);
  const durationMs = Number(flag(argv, 'duration', process.env.SOAK_DURATION ?? '60')) * 1000;
  const connections = Number(flag(argv, 'connections', process.env.SOAK_CONNECTIONS ?? '50'));
  const report = await soak({ durationMs, connections });
  const machine = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: +(totalmem() / 2 ** 30).toFixed(1) };
  if (argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ ...report, machine })}\n`);
  } else {
    const lines = [
      `soak: ${report.durationMs / 1000} s, ${report.connections} connections, SQLite`,
      `machine: ${machine.cpus} x ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}`,
      `requests: ${report.requests} (${report.requestsPerSecond}/s)  by op: ${JSON.stringify(report.byOp)}`,
      `statuses: ${JSON.stringify(report.byStatus)}`,
      `5xx: ${report.serverErrors}  connection errors: ${report.connectionErrors}  unexpected answers: ${report.unexpected}`,
      `acknowledged creates: ${report.acknowledgedCreates}  deletes: ${report.acknowledgedDeletes}  tokens stored: ${report.database.tokensStored}`,
      `database: missing creates ${report.database.missingCreates}, deleted still present ${report.database.presentDeletes}, counters agree ${report.database.countersAgree}, integrity ${report.database.integrity}`,
      `server RSS: start ${report.rssStartMiB} MiB, end ${report.rssEndMiB} MiB; exit code after SIGTERM ${report.serverExitCode}`,
      `server RSS samples (MiB): ${report.rssSamplesMiB.join(' ')}`,
      report.ok ? 'result: OK' : `result: FAILED ${JSON.stringify(report.examples)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  process.exitCode = report.ok ? 0 : 1;
}
