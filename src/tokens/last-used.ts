// lastUsed is written off the request path: authentication notes the use in memory,
// and a timer writes the pending uses in one transaction. A token's lastUsed is
// written at most once a minute (SPEC 2.1), so it lags by at most LAG_MS.
import type { LastUsedEntry, TokenStore } from '../store/types.js';

export const LAG_MS = 60_000;

export class LastUsedRecorder {
  private pending = new Map<string, LastUsedEntry>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: TokenStore,
    private readonly onError: (err: unknown) => void,
    private readonly flushIntervalMs = 1000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.flushIntervalMs);
    this.timer.unref();
  }

  /** Notes a successful authentication; `stored` is the lastUsed the record holds. */
  note(instanceId: string, id: string, stored: number | undefined, now: number): void {
    if (stored !== undefined && now - stored < LAG_MS) return;
    if (!this.pending.has(id)) this.pending.set(id, { instanceId, id, at: now });
  }

  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = this.store
      .recordLastUsed(batch)
      .catch((err) => this.onError(err))
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }
}
