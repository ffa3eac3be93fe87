// Type test, compiled by `tsc -p tsconfig.json --noEmit` (part of `npm test`); never run.
// Correct use must compile, and every `@ts-expect-error` line must be an error: if one
// of them ever compiles, tsc fails with "Unused '@ts-expect-error' directive".
import { ApiError, createClient, type ApiToken, type ApiTokenCreated, type ApiTokens, type InstanceScope, type SortField } from 'tessera/client';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(_proof?: T) => undefined;

export async function correctUse(accessToken: string, instanceId: string, apiTokenId: string): Promise<void> {
  const client = createClient({ url: 'http://localhost:3000', accessToken, timeout: 5000 });

  const page = await client.instanceApiTokens.get({ instanceId, sortField: 'creationDate', sortDirection: 'desc', perPage: 50, page: 0, filterField: 'status', filter: 'act*', _actions: true });
  assertType<Equal<typeof page, ApiTokens>>();
  const first = page.items[0];
  const name: string = first.name;
  const status: 'active' | 'inactive' = first.status;
  const scopes: InstanceScope[] = first.scope;
  const maybeExpires: string | undefined = first.expirationDate;

  const created = await client.instanceApiTokens.post({ instanceId, apiToken: { name: 'ci', scope: ['all.Instance.read'], expirationDate: Date.now() + 86_400_000 } });
  assertType<Equal<typeof created, ApiTokenCreated>>();
  const secret: string = created.token;

  const patched = await client.instanceApiToken.patch({ instanceId, apiTokenId, apiToken: { status: 'inactive' } });
  assertType<Equal<typeof patched, ApiToken>>();
  const fetched = await client.instanceApiToken.get({ instanceId, apiTokenId });
  const deleted = await client.instanceApiToken.delete({ instanceId, apiTokenId });
  const ok: true = deleted.success;

  for await (const t of client.instanceApiTokens.iterate({ instanceId, filter: 'ci*' })) {
    const id: string = t.id;
    void id;
  }

  client.setOption('accessToken', secret).setOption('timeout', 1000);
  const url: string = client.getOption('url');

  try {
    await client.instanceApiToken.get({ instanceId, apiTokenId });
  } catch (err) {
    if (err instanceof ApiError) {
      const code: number = err.statusCode;
      const message: string = err.message;
      if (err.type === 'NotFound' || err.type === 'Timeout') void [code, message];
    }
  }
  const sortFields: SortField[] = ['name', 'status', 'id', 'creationDate', 'lastUpdated', 'expirationDate'];
  void [name, status, scopes, maybeExpires, fetched, ok, url, sortFields];
}

export async function wrongUse(accessToken: string, instanceId: string, apiTokenId: string): Promise<void> {
  const client = createClient({ url: 'http://localhost:3000', accessToken });

  // @ts-expect-error: 'owner' is not a sort field
  await client.instanceApiTokens.get({ instanceId, sortField: 'owner' });
  // @ts-expect-error: sortDirection is 'asc' | 'desc'
  await client.instanceApiTokens.get({ instanceId, sortDirection: 'up' });
  // @ts-expect-error: filterField is 'name' | 'status'
  await client.instanceApiTokens.get({ instanceId, filterField: 'description' });
  // @ts-expect-error: instanceId is required
  await client.instanceApiTokens.get({ sortField: 'name' });

  // @ts-expect-error: 'devices.launchMissiles' is not an instance scope
  await client.instanceApiTokens.post({ instanceId, apiToken: { name: 'x', scope: ['devices.launchMissiles'] } });
  // @ts-expect-error: status is 'active' | 'inactive'
  await client.instanceApiTokens.post({ instanceId, apiToken: { name: 'x', status: 'paused' } });
  // @ts-expect-error: name is required on create
  await client.instanceApiTokens.post({ instanceId, apiToken: { scope: ['all.Instance'] } });

  // @ts-expect-error: scope cannot be changed after creation, so PATCH does not take it
  await client.instanceApiToken.patch({ instanceId, apiTokenId, apiToken: { scope: ['all.Instance'] } });

  const page = await client.instanceApiTokens.get({ instanceId });
  // @ts-expect-error: a listed token never carries its token string
  const leaked: string = page.items[0].token;

  const one = await client.instanceApiToken.get({ instanceId, apiTokenId });
  // @ts-expect-error: neither does a fetched one
  void one.token;

  for await (const t of client.instanceApiTokens.iterate({ instanceId })) {
    // @ts-expect-error: nor an iterated one
    void t.token;
  }

  // @ts-expect-error: unknown client option
  client.setOption('retries', 3);
  void leaked;
}
