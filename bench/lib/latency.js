// Single-request latency through the real HTTP API: one keep-alive connection,
// sequential requests, a few warm-ups, then median and p99 of the timed ones.
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(url, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
  });
}

function quantile(sorted, q) {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export async function measure({ url, token, queries, samples, warmups = 3, log }) {
  const headers = { authorization: `Bearer ${token}` };
  const out = [];
  for (const q of queries) {
    const target = `${url}${q.path}`;
    let totalCount;
    let count;
    for (let i = 0; i < warmups; i++) await get(target, headers);
    const times = [];
    for (let i = 0; i < samples; i++) {
      const t0 = process.hrtime.bigint();
      const res = await get(target, headers);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (res.status !== 200) throw new Error(`${q.label}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
      if (i === 0) ({ totalCount, count } = JSON.parse(res.body));
    }
    times.sort((a, b) => a - b);
    const row = { key: q.key, label: q.label, path: q.path, group: q.group, samples, medianMs: quantile(times, 0.5), p99Ms: quantile(times, 0.99), count, totalCount };
    out.push(row);
    log(`  ${q.label.padEnd(44)} median ${row.medianMs.toFixed(2).padStart(7)} ms  p99 ${row.p99Ms.toFixed(2).padStart(7)} ms  (${count} items of ${totalCount})`);
  }
  agent.destroy();
  return out;
}
