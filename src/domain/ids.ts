// ObjectId-style identifiers: 24 lower-case hex characters (4 bytes of seconds since the
// epoch, 5 random bytes fixed per process, 3 bytes of a counter), as Losant's ids are.
import { randomBytes } from 'node:crypto';

export const ID_PATTERN = '^[A-Fa-f0-9]{24}$';
const ID_RE = new RegExp(ID_PATTERN);

const processRandom = randomBytes(5).toString('hex');
let counter = randomBytes(3).readUIntBE(0, 3);

export function newId(now = Date.now()): string {
  counter = (counter + 1) % 0x1000000;
  const seconds = Math.floor(now / 1000).toString(16).padStart(8, '0').slice(-8);
  return seconds + processRandom + counter.toString(16).padStart(6, '0');
}

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_RE.test(value);
}

/** Ids are compared and stored in lower case; paths may use either case. */
export function normalizeId(id: string): string {
  return id.toLowerCase();
}
