// PostgreSQL LISTEN/NOTIFY on one dedicated connection: how a replica hears at once that
// another replica (or the CLI) changed shared state, instead of waiting for its next
// poll. A lost connection is re-established with backoff, and on reconnect every
// listener is told "something may have changed", because notifications sent while the
// connection was down are gone. Polling stays as the safety net either way.
import pg from 'pg';
import type { StoreChange } from './types.js';

export const CHANGE_CHANNEL = 'tessera_changes';
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2000;
const ALL_CHANGES: StoreChange[] = ['signingKeys'];

export class PgChangeListener {
  private client: pg.Client | undefined;
  private listeners: Array<(change: StoreChange) => void> = [];
  private retryMs = RETRY_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private connected = false;

  constructor(private readonly connectionString: string) {}

  /** True while the LISTEN connection is up (notifications can arrive). */
  get listening(): boolean {
    return this.connected;
  }

  subscribe(listener: (change: StoreChange) => void): void {
    this.listeners.push(listener);
    if (!this.client && !this.timer && !this.stopped) void this.connect(false);
  }

  private emit(change: StoreChange): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch {
        // a listener's failure must not stop the others or the connection
      }
    }
  }

  private async connect(resync: boolean): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString, connectionTimeoutMillis: 5000, keepAlive: true });
    this.client = client;
    this.connected = false;
    const fail = () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.connected = false;
      client.end().catch(() => {});
      this.retry();
    };
    client.on('error', fail);
    client.on('end', fail);
    client.on('notification', (msg) => {
      if (msg.channel === CHANGE_CHANNEL && ALL_CHANGES.includes(msg.payload as StoreChange)) this.emit(msg.payload as StoreChange);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
      if (this.client !== client) return;
      this.connected = true;
      this.retryMs = RETRY_MIN_MS;
      if (resync) for (const change of ALL_CHANGES) this.emit(change);
    } catch {
      fail();
    }
  }

  private retry(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect(true);
    }, this.retryMs);
    this.timer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    this.connected = false;
    await client?.end().catch(() => {});
  }
}
