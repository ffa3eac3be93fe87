// SPEC 7 and issue 2 item 6: the `tessera` executable as an operator runs it.
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, jwtsIn, logEntries, REPO_ROOT, runCli, spawnServe, type ServeProcess } from './helpers/cli.js';
import { makeApi, tempDir } from './helpers/server.js';

const dir = tempDir('tessera-cli-');
const children: ServeProcess[] = [];
const decodeHeader = (token: string) => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));

afterAll(async () => {
  for (const c of children) await c.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function serve(args: string[], opts: Parameters<typeof spawnServe>[1] = {}) {
  const s = await spawnServe(args, opts);
  children.push(s);
  return s;
}

describe('instances', () => {
  const database = join(dir, 'instances.db');

  it('instances create --json prints exactly one JSON object and nothing else', async () => {
    const res = await runCli(['instances', 'create', '--name', 'acme', '--json', '--database', database]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toBe('');
    expect(res.stdout.endsWith('\n')).toBe(true);
    expect(res.stdout.trim().split('\n')).toHaveLength(1);
    const out = JSON.parse(res.stdout);
    expect(Object.keys(out).sort()).toEqual(['instance', 'token']);
    expect(out.instance).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{24}$/), name: 'acme' });
    expect(new Date(out.instance.creationDate).toISOString()).toBe(out.instance.creationDate);
    expect(jwtsIn(out.token)).toEqual([out.token]);
  });

  it('works as `npx tessera …` from the repository root', async () => {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile('npx', ['--no-install', 'tessera', 'instances', 'create', '--name', 'via-npx', '--json', '--database', database], { cwd: REPO_ROOT, env: cleanEnv(), timeout: 60_000 }, (err, out, errOut) =>
        err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out),
      ),
    );
    expect(JSON.parse(stdout).instance.name).toBe('via-npx');
  });

  it('instances create without --json prints the id and the token once', async () => {
    const res = await runCli(['instances', 'create', '--name', 'beta', '--database', database]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/id [0-9a-f]{24}/);
    expect(jwtsIn(res.stdout)).toHaveLength(1);
  });

  it('instances create refuses an empty name with exit code 2 and a message', async () => {
    const res = await runCli(['instances', 'create', '--name', '  ', '--database', database]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--name');
    expect(res.stdout).toBe('');
    const missing = await runCli(['instances', 'create', '--database', database]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('--name');
  });

  it('instances list --json and the table', async () => {
    const json = await runCli(['instances', 'list', '--json', '--database', database]);
    expect(json.code, json.stderr).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(out.items.map((i: { name: string }) => i.name)).toEqual(['acme', 'via-npx', 'beta']);
    for (const i of out.items) expect(Object.keys(i).sort()).toEqual(['creationDate', 'id', 'name']);
    expect(json.stdout).not.toMatch(/eyJ/);
    const table = await runCli(['instances', 'list', '--database', database]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('acme');
    expect(table.stdout).toContain(out.items[0].id);
  });

  it('a bad setting is a clear error, not a stack trace', async () => {
    const res = await runCli(['serve', '--port', 'eighty', '--database', join(dir, 'bad.db')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('port');
    expect(res.stderr).not.toContain('    at ');
  });
});

describe('serve', () => {
  const database = join(dir, 'serve.db');
  let first: ServeProcess;
  let adminToken: string;
  let instanceId: string;
  let created: string;

  beforeAll(async () => {
    first = await serve(['--database', database, '--host', '127.0.0.1']);
    const tokens = jwtsIn(first.stdout());
    expect(tokens).toHaveLength(1);
    adminToken = tokens[0];
    instanceId = /with id ([0-9a-f]{24})/.exec(first.stdout())![1];
  });

  it('on an empty database creates instance "default" and prints its id and admin token once', async () => {
    expect(first.stdout()).toContain('"default"');
    const admin = makeApi(first.url, adminToken);
    const list = await admin('GET', `/instances/${instanceId}/tokens`);
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ scope: ['all.Instance'], creatorType: 'user', creatorName: 'cli' });
    expect(list.body.items[0].creatorId).toBeUndefined();
  });

  it('GET /health reports the database as reachable', async () => {
    const res = await fetch(`${first.url}/health`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ status: 'ok', database: { dialect: 'sqlite', reachable: true } });
  });

  it('logs are JSON with request ids and never contain a token or the Authorization header', async () => {
    const admin = makeApi(first.url, adminToken);
    const res = await admin('POST', `/instances/${instanceId}/tokens`, { name: 'logged?' });
    created = res.body.token;
    await makeApi(first.url, `${adminToken}x`)('GET', `/instances/${instanceId}/tokens`);
    await makeApi(first.url, 'not-a-jwt-secret-value')('GET', `/instances/${instanceId}/tokens`);
    await makeApi(first.url, created)('GET', `/instances/${instanceId}/tokens`, undefined, { 'x-request-id': 'trace-me-123' });
    await new Promise((r) => setTimeout(r, 300));
    const entries = logEntries(first.stdout() + first.stderr());
    expect(entries.length).toBeGreaterThan(3);
    const requestLines = entries.filter((e) => e.reqId !== undefined);
    expect(requestLines.length).toBeGreaterThan(3);
    expect(requestLines.some((e) => e.reqId === 'trace-me-123')).toBe(true);
    const logText = JSON.stringify(entries);
    for (const secret of [adminToken, created, 'not-a-jwt-secret-value']) {
      for (const part of secret.split('.')) if (part.length > 10) expect(logText).not.toContain(part);
    }
    expect(logText.toLowerCase()).not.toContain('bearer');
    expect(logText.toLowerCase()).not.toContain('"authorization"');
  });

  it('SIGTERM drains and exits 0; the second start prints no token; PORT/HOST/TESSERA_DATABASE env work', async () => {
    const stopped = await first.stop('SIGTERM');
    expect(stopped.code).toBe(0);
    const second = await serve([], { env: { TESSERA_DATABASE: database, PORT: '0', HOST: '127.0.0.1' } });
    expect(jwtsIn(second.stdout())).toEqual([]);
    expect(second.stdout()).not.toContain('Created instance');
    expect(second.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await makeApi(second.url, created)('GET', `/instances/${instanceId}/tokens`)).status).toBe(200);
    expect((await second.stop('SIGTERM')).code).toBe(0);
  });

  it('SIGTERM lets a request already in flight finish, then exits 0', async () => {
    const s = await serve(['--database', database]);
    const { hostname, port } = new URL(s.url);
    const socket = connect(Number(port), hostname);
    let response = '';
    // The client never hangs up: the server must close the connection after the
    // response (Connection: close while draining) rather than wait out keep-alive.
    socket.on('data', (d) => (response += d));
    const closed = new Promise((r) => socket.on('close', r));
    const body = JSON.stringify({ name: 'in flight during shutdown' });
    socket.write(
      `POST /instances/${instanceId}/tokens HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${adminToken}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nX-Request-Id: drain-me\r\n\r\n`,
    );
    // Wait until the server has logged the request (its headers are in), then stop it
    // before the body has been sent.
    for (let i = 0; i < 200 && !logEntries(s.stdout()).some((e) => e.reqId === 'drain-me'); i++) await new Promise((r) => setTimeout(r, 25));
    expect(logEntries(s.stdout()).some((e) => e.reqId === 'drain-me')).toBe(true);
    s.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    socket.write(body);
    const exit = await s.exited;
    await closed;
    expect(response).toMatch(/^HTTP\/1\.1 201/);
    expect(response.toLowerCase()).toContain('connection: close');
    expect(exit.code).toBe(0);
  });

  it('defaults to ./data/tessera.db in the working directory', async () => {
    const cwd = tempDir('tessera-cwd-');
    try {
      const s = await serve([], { cwd });
      expect(existsSync(join(cwd, 'data', 'tessera.db'))).toBe(true);
      expect((await s.stop('SIGTERM')).code).toBe(0);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('keys', () => {
  const database = join(dir, 'keys.db');

  it('keys rotate: old tokens still verify, new tokens carry the new kid (also seen by a running server)', async () => {
    const made = JSON.parse((await runCli(['instances', 'create', '--name', 'k', '--json', '--database', database])).stdout);
    const oldKid = decodeHeader(made.token).kid;
    const rotated = await runCli(['keys', 'rotate', '--database', database]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const keys = JSON.parse((await runCli(['keys', 'list', '--json', '--database', database])).stdout).items;
    expect(keys).toHaveLength(2);
    const newKid = keys.at(-1).kid;
    expect(keys.at(-1).current).toBe(true);
    expect(newKid).not.toBe(oldKid);
    expect(rotated.stdout).toContain(newKid);

    const s = await serve(['--database', database]);
    const base = `/instances/${made.instance.id}/tokens`;
    const admin = makeApi(s.url, made.token);
    expect((await admin('GET', base)).status).toBe(200);
    const fresh = await admin('POST', base, { name: 'after rotation' });
    expect(decodeHeader(fresh.body.token).kid).toBe(newKid);
    expect((await makeApi(s.url, fresh.body.token)('GET', base)).status).toBe(200);

    // Rotating while the server runs: it picks up the new key without a restart.
    await runCli(['keys', 'rotate', '--database', database]);
    const third = JSON.parse((await runCli(['keys', 'list', '--json', '--database', database])).stdout).items.at(-1).kid;
    let kid = '';
    for (let i = 0; i < 50 && kid !== third; i++) {
      await new Promise((r) => setTimeout(r, 200));
      kid = decodeHeader((await admin('POST', base, { name: 'poll' })).body.token).kid;
    }
    expect(kid).toBe(third);
    expect((await admin('GET', base)).status).toBe(200);
    expect((await s.stop('SIGTERM')).code).toBe(0);
  });

  it('keys remove refuses the current key and removes a retired one', async () => {
    const keys = JSON.parse((await runCli(['keys', 'list', '--json', '--database', database])).stdout).items;
    const current = await runCli(['keys', 'remove', keys.at(-1).kid, '--database', database]);
    expect(current.code).toBe(2);
    expect(current.stderr).toContain('current');
    const removed = await runCli(['keys', 'remove', keys[0].kid, '--database', database]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(JSON.parse((await runCli(['keys', 'list', '--json', '--database', database])).stdout).items).toHaveLength(keys.length - 1);
  });
});
