// The vault's KeyProtector for token signing keys: private key material sealed like a secret (its own data key under
// the master key), bound to the signing key's id, so a sealed key copied onto another row does not open.
import type { KeyProtector } from '../identity/signing-keys';
import { AppError } from '../errors';
import { openSecret, sealSecret, type SealedSecret } from './envelope';
import type { MasterKeyring } from './master-key';

/** A KeyProtector named `vault` that encrypts under the keyring's current master key. */
export function createVaultKeyProtector(keyring: MasterKeyring): KeyProtector {
  const binding = (keyId: string) => ({ secretId: `signing-key/${keyId}`, version: 1 });
  return {
    name: 'vault',
    // Failures surface as rejections, as callers of a Promise-returning protector expect.
    seal: (plaintext, keyId) => Promise.resolve().then(() => seal(plaintext, keyId)),
    open: (stored, keyId) => Promise.resolve().then(() => open(stored, keyId)),
  };

  function seal(plaintext: string, keyId: string): string {
    const sealed = sealSecret(plaintext, binding(keyId), keyring.current);
    return JSON.stringify({ k: sealed.keyId, w: sealed.wrappedKey, c: sealed.ciphertext });
  }

  function open(stored: string, keyId: string): string {
    let parsed: { k?: unknown; w?: unknown; c?: unknown };
    try {
      parsed = JSON.parse(stored) as typeof parsed;
    } catch {
      throw new AppError('internal', `signing key ${keyId} is not sealed by the vault`);
    }
    if (typeof parsed.k !== 'string' || typeof parsed.w !== 'string' || typeof parsed.c !== 'string') {
      throw new AppError('internal', `signing key ${keyId} is not sealed by the vault`);
    }
    const sealed: SealedSecret = { keyId: parsed.k, wrappedKey: parsed.w, ciphertext: parsed.c };
    return openSecret(sealed, binding(keyId), keyring);
  }
}
