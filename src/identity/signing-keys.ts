// Token signing keys: Ed25519 (JWS alg EdDSA), identified by their RFC 7638 thumbprint as `kid`, kept in the database
// so every API replica signs and verifies with the same set, rotated by age, and published as a JWKS.
//
// Design note on key storage: the private JWK is stored as produced by a KeyProtector, named in the row's
// `protection` column. The protector in use today is `none` (the JWK as JSON, guarded by the database's own access
// control); the credential vault supplies an encrypting protector, and rows are read only by a protector of the same
// name, so a database sealed by the vault can never be read as plaintext, nor the reverse, by mistake.
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import { systemClock, type Clock } from './secrets';

export const SIGNING_ALG = 'EdDSA';

/** Seals private key material at rest; `name` is recorded with every key it sealed. */
export interface KeyProtector {
  name: string;
  seal(plaintext: string, keyId: string): Promise<string>;
  open(sealed: string, keyId: string): Promise<string>;
}

/** Stores key material as is, relying on the database's access control. */
export const plaintextKeyProtector: KeyProtector = {
  name: 'none',
  seal: (plaintext) => Promise.resolve(plaintext),
  open: (sealed) => Promise.resolve(sealed),
};

/** A public key as published in the JWKS. */
export interface PublishedJwk extends JWK {
  kid: string;
  alg: typeof SIGNING_ALG;
  use: 'sig';
}

export interface SigningKeysDeps {
  db: Kysely<Database>;
  /** Age after which the current key is replaced. */
  rotateAfterMs: number;
  /** Longest lifetime of anything signed: a replaced key stays published and accepted this long, plus a margin. */
  maxTokenTtlMs: number;
  protector?: KeyProtector;
  clock?: Clock;
}

interface VerificationKey {
  key: CryptoKey;
  expiresMs: number | undefined;
}

/** How long this process keeps signing with the key it read before looking for a newer one. */
const SIGNING_CACHE_MS = 30_000;
/** Fewest ms between two reloads caused by an unknown `kid` (a forged kid must not hammer the database). */
const RELOAD_INTERVAL_MS = 1_000;

/** Creates the signing key store. */
export function createSigningKeys(deps: SigningKeysDeps) {
  const { db } = deps;
  const clock = deps.clock ?? systemClock;
  const protector = deps.protector ?? plaintextKeyProtector;
  // A replaced key must outlive every token signed with it, including by replicas that still had it cached.
  const retainMs = deps.maxTokenTtlMs + 2 * SIGNING_CACHE_MS;
  let signing: { kid: string; key: CryptoKey; readMs: number; createdMs: number } | undefined;
  let verification = new Map<string, VerificationKey>();
  let loadedMs = -Infinity;
  let refreshing: Promise<{ kid: string; key: CryptoKey }> | undefined;

  /** Generates a key, makes it current and schedules the previous ones to expire. Returns its kid. */
  async function rotate(): Promise<string> {
    const now = clock();
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const sealed = await protector.seal(JSON.stringify(await exportJWK(privateKey)), kid);
    const nowIso = now.toISOString();
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('signing_keys')
        .set({ rotated_at: nowIso, expires_at: new Date(now.getTime() + retainMs).toISOString() })
        .where('rotated_at', 'is', null)
        .where('created_at', '<=', nowIso)
        .execute();
      await trx
        .insertInto('signing_keys')
        .values({
          kid,
          alg: SIGNING_ALG,
          public_jwk: JSON.stringify({ ...publicJwk, kid, alg: SIGNING_ALG, use: 'sig' }),
          private_key: sealed,
          protection: protector.name,
          created_at: nowIso,
          rotated_at: null,
          expires_at: null,
        })
        .execute();
    });
    signing = undefined;
    loadedMs = -Infinity;
    return kid;
  }

  /** The key to sign with now: the newest unreplaced one, rotating first when it is older than the rotation age. */
  async function current(): Promise<{ kid: string; key: CryptoKey }> {
    const nowMs = clock().getTime();
    if (signing && nowMs - signing.readMs < SIGNING_CACHE_MS && nowMs - signing.createdMs < deps.rotateAfterMs) {
      return signing;
    }
    // Concurrent first requests share one read (and at most one rotation).
    refreshing ??= refreshSigning(nowMs).finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  }

  async function refreshSigning(nowMs: number): Promise<{ kid: string; key: CryptoKey }> {
    let row = await newest();
    if (!row || nowMs - Date.parse(row.created_at) >= deps.rotateAfterMs) {
      await rotate();
      row = await newest();
      if (!row) throw new Error('no signing key after rotation');
    }
    if (row.protection !== protector.name) {
      throw new Error(`signing key ${row.kid} is sealed by "${row.protection}", not "${protector.name}"`);
    }
    const jwk = JSON.parse(await protector.open(row.private_key, row.kid)) as JWK;
    const key = (await importJWK(jwk, SIGNING_ALG)) as CryptoKey;
    signing = { kid: row.kid, key, readMs: nowMs, createdMs: Date.parse(row.created_at) };
    return signing;
  }

  function newest() {
    return db
      .selectFrom('signing_keys')
      .select(['kid', 'private_key', 'protection', 'created_at'])
      .where('rotated_at', 'is', null)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  async function published(): Promise<PublishedJwk[]> {
    const nowIso = clock().toISOString();
    const rows = await db
      .selectFrom('signing_keys')
      .select(['public_jwk'])
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', nowIso)]))
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map((r) => JSON.parse(r.public_jwk) as PublishedJwk);
  }

  async function reload(): Promise<void> {
    const rows = await db.selectFrom('signing_keys').select(['kid', 'public_jwk', 'expires_at']).execute();
    const next = new Map<string, VerificationKey>();
    for (const r of rows) {
      const jwk = JSON.parse(r.public_jwk) as JWK;
      next.set(r.kid, {
        key: (await importJWK(jwk, SIGNING_ALG)) as CryptoKey,
        expiresMs: r.expires_at ? Date.parse(r.expires_at) : undefined,
      });
    }
    verification = next;
    loadedMs = clock().getTime();
  }

  return {
    rotate,
    current,
    /** The public key for a `kid`, if it is known and not expired; unknown kids reload the set at most once a second. */
    async verificationKey(kid: string): Promise<CryptoKey | undefined> {
      const nowMs = clock().getTime();
      let entry = verification.get(kid);
      if (!entry && nowMs - loadedMs >= RELOAD_INTERVAL_MS) {
        await reload();
        entry = verification.get(kid);
      }
      if (!entry) return undefined;
      if (entry.expiresMs === undefined && nowMs - loadedMs >= SIGNING_CACHE_MS) {
        // Another replica may have replaced this key since it was read: refresh its expiry.
        await reload();
        entry = verification.get(kid);
        if (!entry) return undefined;
      }
      return entry.expiresMs !== undefined && entry.expiresMs <= nowMs ? undefined : entry.key;
    },
    /** The JWKS document of `/.well-known/jwks.json`: every key that signed something still valid. */
    async jwks(): Promise<{ keys: PublishedJwk[] }> {
      return { keys: await published() };
    },
  };
}

export type SigningKeys = ReturnType<typeof createSigningKeys>;
