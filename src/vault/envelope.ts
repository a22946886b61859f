// Envelope encryption with AES-256-GCM: each secret version gets its own random data key, and only that data key is
// encrypted under the master key. Rotating the master key re-wraps data keys without touching the secret ciphertexts.
// Both ciphertexts carry associated data naming their record (secret id + version, and the master key id for the
// wrapped key), so a ciphertext copied onto another record, or another version, fails authentication.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../errors';
import type { MasterKey, MasterKeyring } from './master-key';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'v1';

/** The record a ciphertext belongs to. */
export interface SecretBinding {
  secretId: string;
  version: number;
}

/** What is stored for one secret version. */
export interface SealedSecret {
  /** Id of the master key that wrapped the data key. */
  keyId: string;
  /** The data key, encrypted under the master key: `v1.<iv>.<ciphertext>.<tag>` (base64url). */
  wrappedKey: string;
  /** The secret, encrypted under the data key, same format. */
  ciphertext: string;
}

/** Encrypts a secret value for one record under the keyring's current master key. */
export function sealSecret(value: string, binding: SecretBinding, master: MasterKey): SealedSecret {
  const dataKey = randomBytes(32);
  try {
    return {
      keyId: master.id,
      wrappedKey: encrypt(master.key, dataKey, dataKeyAad(binding, master.id)),
      ciphertext: encrypt(dataKey, Buffer.from(value, 'utf8'), secretAad(binding)),
    };
  } finally {
    dataKey.fill(0);
  }
}

/** Decrypts a secret; throws a fail-closed AppError naming the record (never the key or the value). */
export function openSecret(sealed: SealedSecret, binding: SecretBinding, keyring: MasterKeyring): string {
  const dataKey = unwrapDataKey(sealed, binding, keyring);
  try {
    const plain = decrypt(dataKey, sealed.ciphertext, secretAad(binding));
    if (!plain) throw integrityFailure(binding);
    return plain.toString('utf8');
  } finally {
    dataKey.fill(0);
  }
}

/** Re-encrypts the data key under the current master key; the secret ciphertext stays as it is. */
export function rewrapSecret(sealed: SealedSecret, binding: SecretBinding, keyring: MasterKeyring): SealedSecret {
  if (sealed.keyId === keyring.current.id) return sealed;
  const dataKey = unwrapDataKey(sealed, binding, keyring);
  try {
    return {
      keyId: keyring.current.id,
      wrappedKey: encrypt(keyring.current.key, dataKey, dataKeyAad(binding, keyring.current.id)),
      ciphertext: sealed.ciphertext,
    };
  } finally {
    dataKey.fill(0);
  }
}

function unwrapDataKey(sealed: SealedSecret, binding: SecretBinding, keyring: MasterKeyring): Buffer {
  const master = keyring.get(sealed.keyId);
  if (!master) {
    throw new AppError(
      'config_invalid',
      `secret ${describe(binding)} is encrypted under master key ${sealed.keyId}, which is not configured ` +
        `(configured: ${keyring.ids().join(', ')}); set the right COUNTERSIGN_MASTER_KEY or add the old key to ` +
        'COUNTERSIGN_MASTER_KEY_PREVIOUS',
    );
  }
  const dataKey = decrypt(master.key, sealed.wrappedKey, dataKeyAad(binding, sealed.keyId));
  if (!dataKey || dataKey.length !== 32) throw integrityFailure(binding);
  return dataKey;
}

function integrityFailure(binding: SecretBinding): AppError {
  return new AppError(
    'internal',
    `secret ${describe(binding)} failed its integrity check: the record was altered or copied from another secret`,
  );
}

function describe(binding: SecretBinding): string {
  return `"${binding.secretId}" v${binding.version}`;
}

function secretAad(b: SecretBinding): Buffer {
  return Buffer.from(`countersign/secret/${FORMAT}\u0000${b.secretId}\u0000${b.version}`, 'utf8');
}

function dataKeyAad(b: SecretBinding, keyId: string): Buffer {
  return Buffer.from(`countersign/data-key/${FORMAT}\u0000${b.secretId}\u0000${b.version}\u0000${keyId}`, 'utf8');
}

function encrypt(key: Buffer, plain: Buffer, aad: Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return [FORMAT, iv, body, cipher.getAuthTag()]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

/** Undefined when the blob is malformed or fails authentication: the caller reports which record. */
function decrypt(key: Buffer, blob: string, aad: Buffer): Buffer | undefined {
  const parts = blob.split('.');
  if (parts.length !== 4 || parts[0] !== FORMAT) return undefined;
  const iv = Buffer.from(parts[1] ?? '', 'base64url');
  const body = Buffer.from(parts[2] ?? '', 'base64url');
  const tag = Buffer.from(parts[3] ?? '', 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return undefined;
  const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch (err) {
    // GCM authentication failure is the expected signal of tampering; anything else is a bug and must surface.
    if (err instanceof Error && /unable to authenticate|auth/i.test(err.message)) return undefined;
    throw err;
  }
}
