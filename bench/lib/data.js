// Deterministic synthetic tokens: realistic names (mixed case, so case-insensitive
// globs matter), 10% inactive, mixed expirations (none, past, future), ids that grow
// with creation time like the server's ObjectId-style ids.
import { createHash } from 'node:crypto';

/** mulberry32: a small seeded PRNG, so two runs seed the same data. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PREFIXES = ['token', 'Token', 'TOKEN', 'gateway', 'Device', 'ci-deploy', 'backup', 'Edge Sync', 'dashboard', 'webhook'];
const SUFFIXES = ['prod', 'staging', 'dev', 'reader', 'Writer', 'eu-west', 'us-east', 'nightly'];
const SCOPES = [
  ['all.Instance'],
  ['all.Instance.read'],
  ['instanceApiTokens.get', 'instanceApiToken.get'],
  ['all.Instance.read', 'instanceApiTokens.post'],
];
const NEVER_EXPIRES = Number.MAX_SAFE_INTEGER;
const DAY = 86_400_000;

export const TOKEN_COLUMNS = [
  'id', 'instance_id', 'name', 'name_lower', 'description', 'scope', 'status', 'created_at', 'updated_at',
  'expiration_sort', 'last_used', 'creator_id', 'creator_type', 'creator_name', 'token_hash',
];

/**
 * Yields batches of rows (arrays in TOKEN_COLUMNS order). Created over the two years
 * before `now`, in id order; `i` keeps ids unique.
 */
export function* tokenRows({ instanceId, count, now, batchSize, seed = 42 }) {
  const rand = prng(seed);
  const start = now - 730 * DAY;
  const step = (730 * DAY) / count;
  const mid = createHash('sha256').update(`bench-${seed}`).digest('hex').slice(0, 10);
  let batch = [];
  for (let i = 0; i < count; i++) {
    const created = Math.floor(start + i * step);
    const id = Math.floor(created / 1000).toString(16).padStart(8, '0') + mid + i.toString(16).padStart(6, '0');
    const hex = Math.floor(rand() * 0xffffff).toString(16).padStart(6, '0');
    const prefix = PREFIXES[Math.floor(rand() * PREFIXES.length)];
    const suffix = SUFFIXES[Math.floor(rand() * SUFFIXES.length)];
    const name = `${prefix}-${rand() < 0.5 ? hex : hex.toUpperCase()}-${suffix}`;
    const r = rand();
    const expiration = r < 0.4 ? NEVER_EXPIRES : r < 0.55 ? created + Math.floor(rand() * 365) * DAY : now + Math.floor(1 + rand() * 730) * DAY;
    const updated = created + Math.floor(rand() * Math.max(1, now - created));
    const lastUsed = rand() < 0.6 ? updated + Math.floor(rand() * Math.max(1, now - updated)) : null;
    batch.push([
      id,
      instanceId,
      name,
      name.toLowerCase(),
      rand() < 0.3 ? `Used by the ${suffix} ${prefix.toLowerCase()} pipeline` : null,
      JSON.stringify(SCOPES[Math.floor(rand() * SCOPES.length)]),
      rand() < 0.1 ? 'inactive' : 'active',
      created,
      updated,
      expiration,
      lastUsed,
      null,
      'user',
      'bench seeder',
      // Not the hash of any real token: these rows are listed, never authenticated with.
      createHash('sha256').update(id).digest('hex'),
    ]);
    if (batch.length === batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}
