// Signing keys: Ed25519 key pairs kept in the database. The newest key signs; every
// stored key verifies, so tokens signed by a retired key keep working until that key
// is removed. The ring re-reads the table when it meets an unknown `kid` and on a
// timer, so a rotation or removal made by another process is seen.
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { SigningKeyRecord, TokenStore } from '../store/types.js';

export const ALGORITHM = 'EdDSA';

interface LoadedKey {
  kid: string;
  createdAt: number;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}

export async function newSigningKey(now = Date.now()): Promise<SigningKeyRecord> {
  const { publicKey, privateKey } = await generateKeyPair(ALGORITHM, { crv: 'Ed25519', extractable: true });
  const kid = `${now.toString(36)}-${randomBytes(6).toString('hex')}`;
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: ALGORITHM, use: 'sig' };
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg: ALGORITHM, use: 'sig' };
  return { kid, algorithm: ALGORITHM, publicJwk: JSON.stringify(publicJwk), privateJwk: JSON.stringify(privateJwk), createdAt: now };
}

/** Adds a new key and makes it the current one (`tessera keys rotate`). */
export async function rotateSigningKey(store: TokenStore): Promise<SigningKeyRecord> {
  const existing = await store.listSigningKeys();
  const newest = Math.max(0, ...existing.map((k) => k.createdAt));
  const key = await newSigningKey(Math.max(Date.now(), newest + 1));
  await store.insertSigningKey(key);
  return key;
}

export class KeyRing {
  private keys = new Map<string, LoadedKey>();
  private current: LoadedKey | undefined;
  /** Last reload caused by an unknown kid (periodic reloads do not count, so they cannot starve it). */
  private lastMissReload = 0;
  private reloading: Promise<void> | undefined;
  private listeners: Array<(removed: string[]) => void> = [];

  constructor(
    private readonly store: TokenStore,
    /** Shortest time between reloads caused by unknown kids (a flood of forged kids must not hammer the database). */
    private readonly minReloadIntervalMs = 1000,
  ) {}

  /** Loads the keys, creating the first one on an empty database. */
  async init(): Promise<void> {
    if ((await this.store.listSigningKeys()).length === 0) {
      try {
        await this.store.insertSigningKey(await newSigningKey());
      } catch {
        // Another process created the first key at the same moment; use theirs.
      }
    }
    await this.reload();
  }

  onKeysRemoved(listener: (removed: string[]) => void): void {
    this.listeners.push(listener);
  }

  async reload(): Promise<void> {
    if (this.reloading) return this.reloading;
    this.reloading = (async () => {
      const records = await this.store.listSigningKeys();
      const next = new Map<string, LoadedKey>();
      for (const r of records) {
        const known = this.keys.get(r.kid);
        next.set(r.kid, known ?? (await loadKey(r)));
      }
      const removed = [...this.keys.keys()].filter((kid) => !next.has(kid));
      this.keys = next;
      this.current = [...next.values()].sort((a, b) => a.createdAt - b.createdAt || a.kid.localeCompare(b.kid)).at(-1);
      if (removed.length > 0) for (const l of this.listeners) l(removed);
    })().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  signingKey(): LoadedKey {
    if (!this.current) throw new Error('no signing key loaded');
    return this.current;
  }

  /** The verification key for `kid`, re-reading the table (rate-limited) when unknown. */
  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    const known = this.keys.get(kid);
    if (known) return known.publicKey;
    // Rate-limited by the last miss, not by the last reload: the periodic refresh
    // runs every second and would otherwise keep a just-rotated key unknown until its
    // next tick.
    if (Date.now() - this.lastMissReload >= this.minReloadIntervalMs) {
      this.lastMissReload = Date.now();
      await this.reload();
      return this.keys.get(kid)?.publicKey;
    }
    return undefined;
  }

  kids(): string[] {
    return [...this.keys.keys()];
  }
}

async function loadKey(r: SigningKeyRecord): Promise<LoadedKey> {
  const publicKey = (await importJWK(JSON.parse(r.publicJwk) as JWK, ALGORITHM)) as CryptoKey;
  const privateKey = (await importJWK(JSON.parse(r.privateJwk) as JWK, ALGORITHM)) as CryptoKey;
  return { kid: r.kid, createdAt: r.createdAt, publicKey, privateKey };
}
