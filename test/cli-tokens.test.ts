// `tessera tokens …` end to end: the real executable in a child process, talking to a
// real server on a real port.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';

const BIN = fileURLToPath(new URL('../bin/tessera.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// Asynchronous on purpose: the server runs in this process and must keep answering.
function tessera(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TESSERA_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...base, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('tessera tokens', () => {
  let t: TestServer;
  let env: Record<string, string>;
  const run = (...args: string[]) => tessera(['tokens', ...args], env);

  beforeAll(async () => {
    t = await startTestServer();
    env = { TESSERA_URL: t.url, TESSERA_TOKEN: t.adminToken };
  });
  afterAll(async () => t?.close());

  it('create prints the token once, with the warning on stderr; the token works', async () => {
    const r = await run('create', '--name', 'cli-made', '--description', 'from the cli', '--scope', 'instanceApiTokens.get,instanceApiToken.get');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/shown only this once and cannot be retrieved again/);
    const token = r.stdout.split('\n').find((l) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(l));
    expect(token).toBeDefined();
    expect(r.stdout).toMatch(/^Created token "cli-made" with id [0-9a-f]{24} \(scope instanceApiTokens\.get, instanceApiToken\.get; expires never\)\./);

    const asIt = await tessera(['tokens', 'list', '--json', '--filter', 'cli-made'], { TESSERA_URL: t.url, TESSERA_TOKEN: token });
    expect(asIt.code).toBe(0);
    expect(JSON.parse(asIt.stdout).items.map((i: any) => i.name)).toEqual(['cli-made']);
  });

  it('create --json prints only JSON on stdout, including the token', async () => {
    const r = await run('create', '--name', 'cli-json', '--scope', 'all.Instance.read', '--expiration-date', new Date(Date.now() + 86_400_000).toISOString(), '--json');
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body).toMatchObject({ name: 'cli-json', scope: ['all.Instance.read'], status: 'active' });
    expect(typeof body.token).toBe('string');
    expect(typeof body.expirationDate).toBe('string');
    expect(r.stderr).toMatch(/shown only this once/);
  });

  it('list prints a table by default and the server response with --json', async () => {
    const made = await Promise.all(['tbl-b', 'tbl-a', 'tbl-c'].map((name) => run('create', '--name', name, '--json')));
    expect(made.map((m) => m.code)).toEqual([0, 0, 0]);
    const r = await run('list', '--filter', 'tbl-*', '--sort-field', 'name', '--sort-direction', 'desc', '--per-page', '2');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATUS\s+SCOPE\s+EXPIRES\s+LAST USED$/);
    expect(lines[1]).toMatch(/^[0-9a-f]{24}\s+tbl-c\s+active\s+all\.Instance\s+never\s+never$/);
    expect(lines[2]).toMatch(/\btbl-b\b/);
    expect(lines.at(-1)).toBe('Showing 1-2 of 3, page 0, 2 per page (next: --page 1, or --all)');

    const [json, all, allTable] = await Promise.all([
      run('list', '--filter', 'tbl-*', '--per-page', '2', '--page', '1', '--json'),
      run('list', '--filter', 'tbl-*', '--per-page', '1', '--all', '--json'),
      run('list', '--filter', 'tbl-?', '--per-page', '2', '--all'),
    ]);
    expect(json.code).toBe(0);
    const page = JSON.parse(json.stdout);
    expect(page).toMatchObject({ page: 1, perPage: 2, count: 1, totalCount: 3, filter: 'tbl-*', _type: 'apiTokens' });
    expect(page.items.map((i: any) => i.name)).toEqual(['tbl-c']);
    expect(page.items[0].token).toBeUndefined();

    expect(JSON.parse(all.stdout).items.map((i: any) => i.name)).toEqual(['tbl-a', 'tbl-b', 'tbl-c']);
    expect(allTable.code).toBe(0);
    expect(allTable.stdout.trimEnd().split('\n').at(-1)).toBe('3 tokens');
    expect(allTable.stdout.match(/\btbl-[abc]\b/g)).toEqual(['tbl-a', 'tbl-b', 'tbl-c']);
  });

  it('get, update and delete a token', async () => {
    const id = JSON.parse((await run('create', '--name', 'cli-life', '--json')).stdout).id;

    const [got, gotJson] = await Promise.all([run('get', id), run('get', id, '--json')]);
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(new RegExp(`^id\\s+${id}$`, 'm'));
    expect(got.stdout).toMatch(/^name\s+cli-life$/m);
    expect(got.stdout).toMatch(/^creator\s+apiToken /m);
    expect(JSON.parse(gotJson.stdout)).toMatchObject({ id, name: 'cli-life' });

    const upd = await run('update', id, '--name', 'cli-life-2', '--status', 'inactive');
    expect(upd.code).toBe(0);
    expect(upd.stdout).toMatch(/^Updated token [0-9a-f]{24}\./);
    expect(upd.stdout).toMatch(/^status\s+inactive$/m);
    const updJson = JSON.parse((await run('update', id, '--description', 'described', '--json')).stdout);
    expect(updJson).toMatchObject({ name: 'cli-life-2', description: 'described', status: 'inactive' });

    const del = await run('delete', id);
    expect(del).toMatchObject({ code: 0, stdout: `Deleted token ${id}.\n` });
    const again = await run('delete', id, '--json');
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/^Error NotFound: /);
  });

  it('API errors print the server type and message and exit 1', async () => {
    const [bad, unauth, other, fixed] = await Promise.all([
      run('create', '--name', 'x', '--scope', 'not.a.scope'),
      tessera(['tokens', 'list', '--instance', t.instanceId], { TESSERA_URL: t.url, TESSERA_TOKEN: 'aaa.bbb.ccc' }),
      run('list', '--instance', 'aaaaaaaaaaaaaaaaaaaaaaaa'),
      run('update', t.adminTokenId, '--status', 'active', '--url', 'http://127.0.0.1:1'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^Error Validation: body\.scope/);
    expect(bad.stdout).toBe('');

    expect(unauth.code).toBe(1);
    expect(unauth.stderr).toMatch(/^Error Unauthorized: /);

    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^Error Forbidden: /);

    expect(fixed.code).toBe(1);
    expect(fixed.stderr).toMatch(/^Error NetworkError: could not reach http:\/\/127\.0\.0\.1:1/);
  });

  it('usage errors exit 2', async () => {
    const [choice, number, missing, nothing, noToken, noInstance] = await Promise.all([
      run('list', '--sort-field', 'owner'),
      run('list', '--per-page', 'many'),
      run('create'),
      run('update', t.adminTokenId),
      tessera(['tokens', 'list'], { TESSERA_URL: t.url }),
      tessera(['tokens', 'list', '--token', 'opaque'], { TESSERA_URL: t.url }),
    ]);
    expect(choice.code).toBe(2);
    expect(choice.stderr).toMatch(/'owner' is invalid/);

    expect(number.code).toBe(2);

    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--name/);

    expect(nothing).toMatchObject({ code: 2, stderr: 'Error Usage: nothing to update: give --name, --description or --status\n' });

    expect(noToken).toMatchObject({ code: 2, stderr: 'Error Usage: no API token: set TESSERA_TOKEN or pass --token\n' });

    expect(noInstance.code).toBe(2);
    expect(noInstance.stderr).toMatch(/--instance/);
  });

  it('takes --url and --token flags over the environment', async () => {
    const r = await tessera(['tokens', 'list', '--json', '--per-page', '1', '--url', t.url, '--token', t.adminToken], {
      TESSERA_URL: 'http://127.0.0.1:1',
      TESSERA_TOKEN: 'wrong',
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).instanceId).toBe(t.instanceId);
  });

  it('--help works on every command and exits 0', async () => {
    const help = await Promise.all(['list', 'create', 'get', 'update', 'delete'].map((c) => run(c, '--help')));
    for (const h of help) {
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/^Usage: tessera tokens (list|create|get|update|delete)/);
      expect(h.stdout).toMatch(/TESSERA_URL/);
      expect(h.stdout).toMatch(/sub claim/);
    }
    const group = await run('--help');
    expect(group.code).toBe(0);
    expect(group.stdout).toMatch(/list \[options\]/);
  });
});
