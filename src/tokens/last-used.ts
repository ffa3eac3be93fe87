// lastUsed is written off the request path: authentication notes the use in memory,
// and a timer writes the pending uses in one transaction. A token's lastUsed is
// written at most once a minute (SPEC 2.1), so it lags by at most LAG_MS.
import type { LastUsedEntry, TokenStore } from '../store/types.js';

export const LAG_MS = 60_000;

export class LastUsedRecorder {
  private pending = new Map<string, LastUsedEntry>();
  /**
   * When each token's use was last queued by this process. A request may read the
   * record before a queued write commits; without this it would queue a second write
   * within the same minute.
   */
  private queuedAt = new Map<string, number>();
  private latest = 0;
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
    const queued = this.queuedAt.get(id);
    if (queued !== undefined && now - queued < LAG_MS) return;
    this.queuedAt.set(id, now);
    if (now > this.latest) this.latest = now;
    this.pending.set(id, { instanceId, id, at: now });
  }

  /** Forgets queue times older than a minute (by the clock callers pass in), so memory stays bounded. */
  private prune(): void {
    for (const [id, at] of this.queuedAt) if (this.latest - at >= LAG_MS) this.queuedAt.delete(id);
  }

  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.prune();
    this.flushing = this.store
      .recordLastUsed(batch)
      .catch((err) => {
        // Not written: let the next use queue it again rather than wait out the minute.
        for (const e of batch) if (this.queuedAt.get(e.id) === e.at) this.queuedAt.delete(e.id);
        this.onError(err);
      })
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
