// Load runs with autocannon, in this process while the servers run in their own
// processes. Targets alternate inside each round, so drift in the machine (other work,
// thermal, cache) spreads over every target instead of favouring one.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

/** CPU seconds (user + system) a process has used, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

function once(opts) {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/**
 * targets: [{ key, label, url, pid, method?, path | paths, headers?, body? }]
 * Returns { [connections]: { [key]: summary } }.
 */
export async function runLoad({ targets, connections, rounds, durationSec, warmupSec, log, onRound }) {
  const results = {};
  for (const c of connections) {
    results[c] = {};
    for (const t of targets) {
      if (warmupSec > 0) await once(request(t, c, warmupSec));
    }
    for (let r = 0; r < rounds; r++) {
      for (const t of targets) {
        const cpuBefore = cpuSeconds(t.pid);
        const res = await once(request(t, c, durationSec));
        const cpu = cpuSeconds(t.pid) - cpuBefore;
        const run = {
          reqPerSec: res.requests.average,
          p50Ms: res.latency.p50,
          p99Ms: res.latency.p99,
          requests: res.requests.total,
          non2xx: res.non2xx,
          errors: res.errors + res.timeouts,
          // Server CPU per request: independent of how busy the client or the machine is.
          serverCpuUsPerReq: (cpu / res.requests.total) * 1e6,
        };
        (results[c][t.key] ??= { label: t.label, runs: [] }).runs.push(run);
        log(`  ${String(c).padStart(2)} conns, round ${r + 1}: ${t.label.padEnd(34)} ${Math.round(run.reqPerSec).toString().padStart(6)} req/s  p50 ${run.p50Ms} ms  p99 ${run.p99Ms} ms  server cpu ${Math.round(run.serverCpuUsPerReq)} µs/req${run.non2xx || run.errors ? `  (${run.non2xx} non-2xx, ${run.errors} errors)` : ''}`);
        onRound?.();
      }
    }
    for (const t of targets) summarize(results[c][t.key], results[c].bare);
  }
  return results;
}

function request(t, connections, duration) {
  const opts = {
    url: t.url,
    connections,
    duration,
    method: t.method ?? 'GET',
    headers: { ...(t.headers ?? {}), ...(t.body ? { 'content-type': 'application/json' } : {}) },
    body: t.body,
  };
  if (t.paths) {
    let i = 0;
    opts.requests = [
      {
        method: opts.method,
        setupRequest: (req) => ({ ...req, path: t.paths[i++ % t.paths.length] }),
      },
    ];
  } else {
    opts.url = t.url + t.path;
  }
  return opts;
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

function summarize(entry, bare) {
  const runs = entry.runs;
  entry.reqPerSec = mean(runs.map((r) => r.reqPerSec));
  entry.p50Ms = mean(runs.map((r) => r.p50Ms));
  entry.p99Ms = Math.max(...runs.map((r) => r.p99Ms));
  entry.serverCpuUsPerReq = mean(runs.map((r) => r.serverCpuUsPerReq));
  entry.non2xx = runs.reduce((a, r) => a + r.non2xx, 0);
  entry.errors = runs.reduce((a, r) => a + r.errors, 0);
  // Ratio per round (same moment of the machine), then averaged.
  if (bare && bare !== entry) entry.ratioToBare = mean(runs.map((r, i) => r.reqPerSec / bare.runs[i].reqPerSec));
  else entry.ratioToBare = 1;
}
