// Token signing keys: Ed25519 (JWS alg EdDSA), identified by their RFC 7638 thumbprint as `kid`, kept in the database
// so every API replica signs and verifies with the same set, rotated by age, and published as a JWKS. Besides the
// current key there is always a next one, made ahead and published from the start (its `created_at` is when it takes
// over), so a verifier that caches the JWKS already holds the key that will sign after the rotation.
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

  /** A new key pair, sealed, as a row that takes over at `activeFrom`. */
  async function generate(activeFrom: Date) {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const sealed = await protector.seal(JSON.stringify(await exportJWK(privateKey)), kid);
    return {
      kid,
      alg: SIGNING_ALG,
      public_jwk: JSON.stringify({ ...publicJwk, kid, alg: SIGNING_ALG, use: 'sig' }),
      private_key: sealed,
      protection: protector.name,
      created_at: activeFrom.toISOString(),
      rotated_at: null,
      expires_at: null,
    };
  }

  /**
   * Puts the keys in order: one current key (the newest that has taken over), older unreplaced ones scheduled to
   * expire, and one next key waiting. With `force` the current key is replaced now: by the next key when it is sealed
   * the way this process seals, else by a new one. Returns the current key's kid.
   */
  async function settle(force: boolean): Promise<string> {
    const now = clock();
    const nowIso = now.toISOString();
    const spare = await generate(now);
    return db.transaction().execute(async (trx) => {
      const unrotated = await trx
        .selectFrom('signing_keys')
        .select(['kid', 'protection', 'created_at'])
        .where('rotated_at', 'is', null)
        .orderBy('created_at', 'asc')
        .execute();
      const active = unrotated.filter((r) => r.created_at <= nowIso);
      const waiting = unrotated.filter((r) => r.created_at > nowIso && r.protection === protector.name);
      let current = active.at(-1);
      const retire = async (kids: string[]) => {
        if (kids.length === 0) return;
        await trx
          .updateTable('signing_keys')
          .set({ rotated_at: nowIso, expires_at: new Date(now.getTime() + retainMs).toISOString() })
          .where('kid', 'in', kids)
          .execute();
      };
      if (force || !current) {
        await retire(active.map((r) => r.kid));
        const promoted = waiting.shift();
        if (promoted) {
          await trx.updateTable('signing_keys').set({ created_at: nowIso }).where('kid', '=', promoted.kid).execute();
          current = { ...promoted, created_at: nowIso };
        } else {
          await trx.insertInto('signing_keys').values(spare).execute();
          current = { kid: spare.kid, protection: spare.protection, created_at: nowIso };
        }
      } else {
        await retire(active.slice(0, -1).map((r) => r.kid));
      }
      // Keys waiting that this process cannot seal alike, or extras from a concurrent settle, are dropped.
      const keep = waiting.shift();
      const drop = unrotated.filter((r) => r.created_at > nowIso && r.kid !== keep?.kid && r.kid !== current.kid);
      if (drop.length > 0) {
        await trx
          .deleteFrom('signing_keys')
          .where(
            'kid',
            'in',
            drop.map((r) => r.kid),
          )
          .execute();
      }
      if (!keep) {
        const takesOver = new Date(Math.max(Date.parse(current.created_at) + deps.rotateAfterMs, now.getTime() + 1));
        await trx
          .insertInto('signing_keys')
          .values(await generate(takesOver))
          .execute();
      }
      signing = undefined;
      loadedMs = -Infinity;
      return current.kid;
    });
  }

  /** Replaces the current key now (see settle). Returns the new current key's kid. */
  function rotate(): Promise<string> {
    return settle(true);
  }

  /**
   * Makes sure there are a current key and a next key (rotating when the current one is missing or too old), so the
   * JWKS lists both from the first start; processes call it at start-up.
   */
  async function ensure(): Promise<void> {
    const row = await newest();
    await settle(!row || clock().getTime() - Date.parse(row.created_at) >= deps.rotateAfterMs);
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
    } else if (signing && signing.kid !== row.kid) {
      // The next key has taken over by time: retire the previous one and make a new next key.
      await settle(false);
    }
    if (row.protection !== protector.name) {
      throw new Error(`signing key ${row.kid} is sealed by "${row.protection}", not "${protector.name}"`);
    }
    const jwk = JSON.parse(await protector.open(row.private_key, row.kid)) as JWK;
    const key = (await importJWK(jwk, SIGNING_ALG)) as CryptoKey;
    signing = { kid: row.kid, key, readMs: nowMs, createdMs: Date.parse(row.created_at) };
    return signing;
  }

  /** The current key: the newest unreplaced one that has taken over (the next key waits for its `created_at`). */
  function newest() {
    return db
      .selectFrom('signing_keys')
      .select(['kid', 'private_key', 'protection', 'created_at'])
      .where('rotated_at', 'is', null)
      .where('created_at', '<=', clock().toISOString())
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
    ensure,
    current,
    /** The current key's kid and how it is sealed (`none` or `vault`); undefined before the first key. */
    async currentProtection(): Promise<{ kid: string; protection: string } | undefined> {
      const row = await newest();
      return row ? { kid: row.kid, protection: row.protection } : undefined;
    },
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
    /** The JWKS document of `/.well-known/jwks.json`: the next key, the current one, and every key that signed something still valid. */
    async jwks(): Promise<{ keys: PublishedJwk[] }> {
      return { keys: await published() };
    },
  };
}

export type SigningKeys = ReturnType<typeof createSigningKeys>;
