// Failed authentications per client address. The per-token rate limit counts by the
// Authorization value, so an attacker who sends a different forged token each time
// would get a fresh allowance each time (and a signature check each time). Past this
// many failures a minute from one address, tokens the server has not verified before
// are refused with 429 before any signature check; tokens it has already verified keep
// working, so the other clients behind a shared proxy address are not locked out.
import { ApiProblem } from '../domain/errors.js';

const WINDOW_MS = 60_000;
const MAX_ADDRESSES = 50_000;

interface Window {
  start: number;
  failures: number;
}

export class AuthFailureLimiter {
  private windows = new Map<string, Window>();

  constructor(private readonly perMinute: number) {}

  get enabled(): boolean {
    return this.perMinute > 0;
  }

  /** Throws 429 when `address` is over its failure allowance. */
  check(address: string, now = Date.now()): void {
    const w = this.windows.get(address);
    if (!w || now - w.start >= WINDOW_MS || w.failures < this.perMinute) return;
    const retry = Math.max(1, Math.ceil((w.start + WINDOW_MS - now) / 1000));
    throw new ApiProblem(
      'TooManyRequests',
      `Too many failed authentications from this address (limit ${this.perMinute} per minute); retry in ${retry} s`,
      { 'retry-after': String(retry) },
    );
  }

  noteFailure(address: string, now = Date.now()): void {
    const w = this.windows.get(address);
    if (w && now - w.start < WINDOW_MS) {
      w.failures++;
      return;
    }
    this.windows.delete(address);
    if (this.windows.size >= MAX_ADDRESSES) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(address, { start: now, failures: 1 });
  }
}
