// Database outages (SPEC 6, issue 3): a replica reaches PostgreSQL through a TCP proxy
// the test controls. While the database is unreachable (connections refused and cut,
// or packets silently held) requests get 503 ServiceUnavailable and /health says so;
// the process stays up and serves again once the database is back.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeApi, type Api } from './helpers/server.js';
import { adminUrl, createTestDatabase, postgresAvailable, query, type TestDatabase } from './helpers/postgres.js';
import { createInstance, startReplica, type Replica } from './helpers/replica.js';

const enabled = await postgresAvailable('database outage');

type Mode = 'up' | 'down' | 'frozen';

interface Pair {
  client: Socket;
  upstream: Socket;
  held: Array<[Socket, Buffer]>;
}

/** A TCP proxy in front of PostgreSQL: `down` refuses and cuts, `frozen` holds every byte. */
class DatabaseProxy {
  private server: Server = createServer((client) => this.accept(client));
  private pairs = new Set<Pair>();
  private mode: Mode = 'up';
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  private accept(client: Socket): void {
    if (this.mode === 'down') {
      client.destroy();
      return;
    }
    const upstream = connect(this.target.port, this.target.host);
    const pair: Pair = { client, upstream, held: [] };
    this.pairs.add(pair);
    const forward = (to: Socket) => (data: Buffer) => {
      if (this.mode === 'frozen') pair.held.push([to, data]);
      else to.write(data);
    };
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  }

  /** Refuses new connections and cuts every open one, as a stopped server would. */
  down(): void {
    this.mode = 'down';
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
  }

  /** Keeps connections open but delivers nothing, as a network partition would. */
  freeze(): void {
    this.mode = 'frozen';
  }

  up(): void {
    this.mode = 'up';
    for (const p of this.pairs) {
      for (const [to, data] of p.held) to.write(data);
      p.held = [];
    }
  }

  async close(): Promise<void> {
    this.down();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function eventually(probe: () => Promise<boolean>, limitMs: number): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return probe();
}

describe.skipIf(!enabled)('PostgreSQL outage', () => {
  let db: TestDatabase;
  let proxy: DatabaseProxy;
  let replica: Replica;
  let admin: Api;
  let anon: Api;
  let base: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const target = new URL(adminUrl());
    proxy = new DatabaseProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.start();
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    // Short timeouts keep the test quick; the defaults are 5 s to connect and 10 s per query.
    viaProxy.searchParams.set('connect_timeout_ms', '1000');
    viaProxy.searchParams.set('query_timeout_ms', '1500');
    replica = await startReplica(viaProxy.toString());
    const { instanceId, token } = await createInstance(db.url, 'outage');
    admin = makeApi(replica.url, token);
    anon = makeApi(replica.url, undefined);
    base = `/instances/${instanceId}/tokens`;
  });
  afterAll(async () => {
    if (replica && !replica.alive()) console.error(`replica died:\n${replica.output().slice(-3000)}\n${replica.errors()}`);
    await replica?.stop();
    await proxy?.close();
    await db?.drop();
  });

  const expectUnavailable = async () => {
    const list = await admin('GET', base);
    expect(list.status).toBe(503);
    expect(list.body).toEqual({ type: 'ServiceUnavailable', message: expect.stringMatching(/database/i) });
    const create = await admin('POST', base, { name: 'during outage' });
    expect(create.status).toBe(503);
    expect(create.body.type).toBe('ServiceUnavailable');
    const health = await anon('GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ type: 'ServiceUnavailable', database: { dialect: 'postgres', reachable: false } });
    // Requests that need no database still get their usual answers.
    expect((await anon('GET', base)).status).toBe(401);
  };

  const expectRecovered = async () => {
    expect(await eventually(async () => (await admin('GET', base)).status === 200, 10_000)).toBe(true);
    expect((await anon('GET', '/health')).status).toBe(200);
    const made = await admin('POST', base, { name: 'after outage' });
    expect(made.status).toBe(201);
    expect((await makeApi(replica.url, made.body.token)('GET', base)).status).toBe(200);
    expect(replica.alive()).toBe(true);
  };

  it('answers 503 while the database refuses connections, and recovers', async () => {
    expect((await admin('GET', base)).status).toBe(200);
    proxy.down();
    await expectUnavailable();
    await new Promise((r) => setTimeout(r, 1200)); // background key reloads and lastUsed flushes fail meanwhile
    await expectUnavailable();
    expect(replica.alive()).toBe(true);
    proxy.up();
    await expectRecovered();
  });

  it('answers 503 (not a hang) while the network silently drops traffic, and recovers', async () => {
    proxy.freeze();
    const started = Date.now();
    const list = await admin('GET', base);
    expect(list.status).toBe(503);
    expect(list.body.type).toBe('ServiceUnavailable');
    const health = await anon('GET', '/health');
    expect(health.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(25_000); // bounded by the timeouts, not forever
    proxy.up();
    await expectRecovered();
  });

  it('survives the server terminating its connections', async () => {
    // Connections are cut while requests are using them, several times over.
    const statuses: number[] = [];
    let running = true;
    const clients = Array.from({ length: 6 }, async () => {
      while (running) statuses.push((await admin('GET', base)).status);
    });
    let killed = 0;
    for (let round = 0; round < 5; round++) {
      await new Promise((r) => setTimeout(r, 50));
      const r = await query(db.url, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
      killed += r.rowCount ?? 0;
    }
    running = false;
    await Promise.all(clients);
    expect(killed).toBeGreaterThan(0);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    await expectRecovered();
    expect(replica.output()).not.toMatch(/"level":(50|60)/); // no error/fatal log: handled, not crashed
  });
});
