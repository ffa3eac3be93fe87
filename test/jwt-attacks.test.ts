// SPEC 3.1 and 4: hand-crafted hostile tokens. Every one is 401 Unauthorized with a
// message that does not echo the token; the stored record stays authoritative even for
// tokens signed with the server's real key.
import { createHmac, generateKeyPairSync, sign as edSign, createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCore } from '../src/server.js';
import { rotateSigningKey } from '../src/tokens/keys.js';
import { expectError, expectNoEcho, mintToken } from './helpers/security-checks.js';
import { startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
let victim: { id: string; token: string };
let kid: string;
let privateJwk: Record<string, string>;
let publicJwk: Record<string, string>;

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');
const json64 = (o: unknown) => b64(JSON.stringify(o));
const segments = (token: string) => token.split('.') as [string, string, string];
const decode = (seg: string) => JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));

/** Signs `header.payload` with an Ed25519 private key in JWK form (the server's, or an attacker's). */
function edJwt(header: object, payload: object, jwk: Record<string, string> = privateJwk): string {
  const input = `${json64(header)}.${json64(payload)}`;
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: jwk.d, x: jwk.x }, format: 'jwk' });
  return `${input}.${b64(edSign(null, Buffer.from(input), key))}`;
}

function hsJwt(header: object, payload: object, secret: string | Buffer): string {
  const input = `${json64(header)}.${json64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const claimsOf = (id: string, extra: object = {}) => ({ jti: id, sub: t.instanceId, iat: Math.floor(Date.now() / 1000), ...extra });

async function expect401(token: string, fragment?: string) {
  const res = await t.api(token)('GET', `/instances/${t.instanceId}/tokens/${victim.id}`);
  expectError(res, 401, 'Unauthorized');
  expectNoEcho(res, token);
  if (fragment) expect(res.body.message).toContain(fragment);
  return res;
}

beforeAll(async () => {
  t = await startTestServer();
  victim = await mintToken(t, ['all.Instance'], { name: 'victim' });
  const [key] = await t.server.store.listSigningKeys();
  kid = key.kid;
  privateJwk = JSON.parse(key.privateJwk);
  publicJwk = JSON.parse(key.publicJwk);
  expect(decode(segments(victim.token)[0])).toMatchObject({ alg: 'EdDSA', kid });
});
afterAll(async () => t?.close());

it('the genuine token works (control)', async () => {
  expect((await t.api(victim.token)('GET', `/instances/${t.instanceId}/tokens/${victim.id}`)).status).toBe(200);
});

describe('algorithm confusion', () => {
  it('alg none with an empty signature', async () => {
    const [, payload] = segments(victim.token);
    await expect401(`${json64({ alg: 'none', typ: 'JWT', kid })}.${payload}.`);
  });

  it('alg none with a copied signature', async () => {
    const [, payload, sig] = segments(victim.token);
    await expect401(`${json64({ alg: 'none', typ: 'JWT', kid })}.${payload}.${sig}`);
    await expect401(`${json64({ alg: 'NONE', kid })}.${payload}.${sig}`);
  });

  it('HS256 signed with guessed keys', async () => {
    const rawPublic = Buffer.from(publicJwk.x, 'base64url');
    const guesses: Array<string | Buffer> = ['secret', '', kid, rawPublic, publicJwk.x, JSON.stringify(publicJwk), 'tessera'];
    for (const secret of guesses) {
      await expect401(hsJwt({ alg: 'HS256', typ: 'JWT', kid }, claimsOf(victim.id), secret));
      await expect401(hsJwt({ alg: 'HS256', typ: 'JWT' }, claimsOf(victim.id), secret));
    }
    await expect401(hsJwt({ alg: 'HS512', kid }, claimsOf(victim.id), rawPublic));
  });

  it('RS256 and ES256 headers on an Ed25519 signature', async () => {
    const [, payload, sig] = segments(victim.token);
    for (const alg of ['RS256', 'ES256', 'PS256', 'eddsa', 'Ed25519']) await expect401(`${json64({ alg, kid })}.${payload}.${sig}`);
  });
});

describe('tampering', () => {
  it('payload swapped for another token id, keeping the signature', async () => {
    const other = await mintToken(t, ['instance.get']);
    const [header, , sig] = segments(victim.token);
    await expect401(`${header}.${json64(claimsOf(other.id))}.${sig}`, 'signature');
  });

  it('payload pointing at another instance, keeping the signature', async () => {
    const otherInstance = await t.server.service.createInstance('elsewhere');
    const [header, payload, sig] = segments(victim.token);
    const claims = { ...decode(payload), sub: otherInstance.instance.id, jti: otherInstance.admin.record.id };
    await expect401(`${header}.${json64(claims)}.${sig}`, 'signature');
  });

  it('payload with an added claim, keeping the signature', async () => {
    const [header, payload, sig] = segments(victim.token);
    await expect401(`${header}.${json64({ ...decode(payload), scope: ['all.User'] })}.${sig}`, 'signature');
  });

  it('signature with one character changed, and with bytes truncated', async () => {
    const [header, payload, sig] = segments(victim.token);
    const mid = Math.floor(sig.length / 2);
    const flipped = sig.slice(0, mid) + (sig[mid] === 'A' ? 'B' : 'A') + sig.slice(mid + 1);
    await expect401(`${header}.${payload}.${flipped}`, 'signature');
    await expect401(`${header}.${payload}.${sig.slice(0, 40)}`);
    await expect401(`${header}.${payload}.${b64(Buffer.alloc(64))}`, 'signature');
  });

  it('a header that is not JSON, or a crit header jose does not know', async () => {
    const [, payload, sig] = segments(victim.token);
    await expect401(`${b64('{not json')}.${payload}.${sig}`);
    await expect401(edJwt({ alg: 'EdDSA', kid, crit: ['x-never'], 'x-never': 1 }, claimsOf(victim.id)));
  });

  it('a payload that is not a JSON object, even if correctly signed', async () => {
    const input = `${json64({ alg: 'EdDSA', kid })}.${b64('[1,2,3]')}`;
    const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: privateJwk.d, x: privateJwk.x }, format: 'jwk' });
    await expect401(`${input}.${b64(edSign(null, Buffer.from(input), key))}`);
  });
});

describe('keys', () => {
  it('unknown kid, with the real key and with an attacker key', async () => {
    await expect401(edJwt({ alg: 'EdDSA', kid: 'no-such-key' }, claimsOf(victim.id)), 'unknown key');
    const attacker = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as Record<string, string>;
    await expect401(edJwt({ alg: 'EdDSA', kid: 'attacker' }, claimsOf(victim.id), attacker), 'unknown key');
  });

  it('the real kid with an attacker key is a bad signature', async () => {
    const attacker = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as Record<string, string>;
    await expect401(edJwt({ alg: 'EdDSA', kid }, claimsOf(victim.id), attacker), 'signature');
  });

  it('a token without kid, or with a non-string kid', async () => {
    await expect401(edJwt({ alg: 'EdDSA' }, claimsOf(victim.id)));
    await expect401(edJwt({ alg: 'EdDSA', kid: 7 }, claimsOf(victim.id)));
    await expect401(edJwt({ alg: 'EdDSA', kid: '' }, claimsOf(victim.id)));
  });

  it('a retired key keeps verifying until it is removed, then its tokens are 401', async () => {
    // Its own server: removing the first key kills every token of the shared one.
    const own = await startTestServer();
    try {
      const old = await mintToken(own, ['instanceApiTokens.get'], { name: 'signed by the old key' });
      const oldKid = decode(segments(old.token)[0]).kid;
      const use = (tok: string) => own.api(tok)('GET', `/instances/${own.instanceId}/tokens`);
      expect((await use(old.token)).status).toBe(200);
      const fresh = await rotateSigningKey(own.server.store);
      await own.server.keys.reload();
      const next = await mintToken(own, ['instanceApiTokens.get'], { name: 'signed by the new key' });
      expect(decode(segments(next.token)[0]).kid).toBe(fresh.kid);
      expect((await use(old.token)).status).toBe(200);
      await own.server.store.deleteSigningKey(oldKid);
      await own.server.keys.reload();
      const res = await use(old.token);
      expectError(res, 401, 'Unauthorized');
      expect(res.body.message).toContain('unknown key');
      expect((await use(next.token)).status).toBe(200);
    } finally {
      await own.close();
    }
  });
});

describe('a key rotated by another process', () => {
  it('a token signed with a key this server has not loaded yet verifies at once (the miss triggers a reload)', async () => {
    const b = await startTestServer();
    // Another process on the same database (as the CLI is): it rotates and signs with the new key.
    const other = await openCore({ database: b.database, sqliteSynchronous: 'NORMAL' });
    try {
      const fresh = await rotateSigningKey(other.store);
      await other.keys.reload();
      const { token } = await other.service.createByOperator(b.instanceId, { name: 'signed elsewhere', scope: ['instanceApiTokens.get'] });
      expect(decode(segments(token)[0]).kid).toBe(fresh.kid);
      const res = await b.api(token)('GET', `/instances/${b.instanceId}/tokens`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    } finally {
      await other.store.close();
      await b.close();
    }
  });
});

describe('the stored record is authoritative', () => {
  it('a token forged with the real key for a non-existent token id', async () => {
    await expect401(edJwt({ alg: 'EdDSA', kid: t.server.keys.signingKey().kid }, claimsOf('ffffffffffffffffffffffff')), 'unknown');
  });

  it('a token forged with the real key for a real token id (different string, so a different hash)', async () => {
    await expect401(edJwt({ alg: 'EdDSA', kid: t.server.keys.signingKey().kid }, claimsOf(victim.id)), 'unknown');
  });

  it('a token with non-id claims signed with the real key', async () => {
    await expect401(edJwt({ alg: 'EdDSA', kid: t.server.keys.signingKey().kid }, { jti: 'admin', sub: t.instanceId }));
    await expect401(edJwt({ alg: 'EdDSA', kid: t.server.keys.signingKey().kid }, { sub: t.instanceId }));
  });
});

describe('expiry and lifecycle', () => {
  it('a JWT whose exp has passed is 401 expired even though the record never expires', async () => {
    await expect401(
      edJwt({ alg: 'EdDSA', kid: t.server.keys.signingKey().kid }, claimsOf(victim.id, { exp: Math.floor(Date.now() / 1000) - 10 })),
      'expired',
    );
  });

  it('a token created to expire shortly works, then is 401 expired', async () => {
    const admin = t.api(t.adminToken);
    const created = await admin('POST', `/instances/${t.instanceId}/tokens`, {
      name: 'short-lived',
      scope: ['instanceApiToken.get'],
      expirationDate: Date.now() + 1500,
    });
    expect(created.status).toBe(201);
    const token = created.body.token as string;
    expect(typeof decode(segments(token)[1]).exp).toBe('number');
    const first = await t.api(token)('GET', `/instances/${t.instanceId}/tokens/${victim.id}`);
    // Only assert success if we are still well inside the lifetime (slow machines).
    if (Date.now() < Date.parse(created.body.expirationDate) - 200) expect(first.status).toBe(200);
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(created.body.expirationDate) - Date.now()) + 1100));
    await expect401(token, 'expired');
  });

  it('deactivated: 401 on the very next request (even though its signature is cached); re-activated: works again', async () => {
    const admin = t.api(t.adminToken);
    const tok = await mintToken(t, ['instanceApiToken.get']);
    const use = () => t.api(tok.token)('GET', `/instances/${t.instanceId}/tokens/${tok.id}`);
    expect((await use()).status).toBe(200);
    expect((await admin('PATCH', `/instances/${t.instanceId}/tokens/${tok.id}`, { status: 'inactive' })).status).toBe(200);
    const res = await use();
    expectError(res, 401, 'Unauthorized');
    expect(res.body.message).toContain('inactive');
    expect((await admin('PATCH', `/instances/${t.instanceId}/tokens/${tok.id}`, { status: 'active' })).status).toBe(200);
    expect((await use()).status).toBe(200);
  });

  it('created inactive: 401 from the start', async () => {
    const tok = await mintToken(t, ['instanceApiToken.get'], { status: 'inactive' });
    await expect401(tok.token, 'inactive');
  });

  it('deleted: 401 on the very next request', async () => {
    const tok = await mintToken(t, ['instanceApiToken.get', 'instanceApiToken.delete']);
    const use = () => t.api(tok.token)('GET', `/instances/${t.instanceId}/tokens/${tok.id}`);
    expect((await use()).status).toBe(200);
    // A token may delete itself; the very next request with it fails.
    expect((await t.api(tok.token)('DELETE', `/instances/${t.instanceId}/tokens/${tok.id}`, {})).body).toEqual({ success: true });
    const res = await use();
    expectError(res, 401, 'Unauthorized');
    expect(res.body.message).toContain('deleted');
  });
});
