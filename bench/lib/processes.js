// Child processes the bench measures: the Tessera server (the real CLI, rate limit off,
// warn-level logs) and the bare reference server. Every child is killed on exit.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts `tessera serve` on the database; resolves once /health answers 200. */
export async function startTessera({ database, env = {} }) {
  const port = await freePort();
  const started = performance.now();
  const child = track(
    spawn(process.execPath, ['bin/tessera.js', 'serve', '--port', String(port), '--host', '127.0.0.1', '--database', database], {
      cwd: ROOT,
      env: { ...process.env, TESSERA_RATE_LIMIT: '0', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tessera exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (performance.now() - started > 120_000) throw new Error(`tessera not healthy after 120 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const startToHealthyMs = performance.now() - started;
  return { url, pid: child.pid, startToHealthyMs, stop: () => stop(child), stderr: () => stderr };
}

export async function startBare() {
  const child = track(spawn(process.execPath, ['bench/lib/bare-server.js'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] }));
  const line = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.on('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
  });
  const { port, bytes } = JSON.parse(line);
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, bytes, stop: () => stop(child) };
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Memory of a process from /proc: VmRSS now and VmHWM (peak resident set) in MB. */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return { rssMb: NaN, peakRssMb: NaN };
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the largest sample. */
export function sampleRss(pid, everyMs = 200) {
  let max = 0;
  const timer = setInterval(() => {
    const { rssMb } = memoryOf(pid);
    if (rssMb > max) max = rssMb;
  }, everyMs);
  return () => {
    clearInterval(timer);
    const { rssMb, peakRssMb } = memoryOf(pid);
    return { maxSampledRssMb: Math.max(max, rssMb || 0), peakRssMb };
  };
}
