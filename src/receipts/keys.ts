// The Ed25519 key that signs approval receipts, and the JWKS that publishes its public half. The key id is the
// RFC 7638 thumbprint of the public key, so every process holding the same key names it the same way.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { calculateJwkThumbprint, type JSONWebKeySet, type JWK } from 'jose';
import type { Settings } from '../config/settings';
import { AppError } from '../errors';

/** A receipt signing key. */
export interface ReceiptKey {
  kid: string;
  privateKey: KeyObject;
  /** Public JWK with kid, alg and use. */
  publicJwk: JWK;
}

/** The file in the data directory that holds the generated key when none is configured. */
export const DEV_RECEIPT_KEY_FILE = 'receipt-signing-key.pem';

/** Parses an Ed25519 private key given as PKCS#8 PEM or a private JWK; `source` names the setting in errors. */
export async function parseReceiptKey(text: string, source: string): Promise<ReceiptKey> {
  let privateKey: KeyObject;
  try {
    const trimmed = text.trim();
    privateKey = trimmed.startsWith('{')
      ? createPrivateKey({ key: JSON.parse(trimmed) as JsonWebKey, format: 'jwk' })
      : createPrivateKey(trimmed);
  } catch {
    throw new AppError('config_invalid', `${source} is not a PKCS#8 PEM or private JWK`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new AppError(
      'config_invalid',
      `${source} must be an Ed25519 key, it is ${privateKey.asymmetricKeyType ?? 'unknown'}`,
    );
  }
  return fromPrivateKey(privateKey);
}

/** A new random receipt key. */
export async function generateReceiptKey(): Promise<ReceiptKey> {
  return fromPrivateKey(generateKeyPairSync('ed25519').privateKey);
}

/** The key as PKCS#8 PEM (for the dev key file and `COUNTERSIGN_RECEIPT_KEY`). */
export function exportReceiptKey(key: ReceiptKey): string {
  return key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

type ReceiptKeySettings = Partial<Pick<Settings, 'COUNTERSIGN_RECEIPT_KEY' | 'COUNTERSIGN_RECEIPT_KEY_FILE'>> &
  Pick<Settings, 'COUNTERSIGN_DATA_DIR'>;

/**
 * Loads the receipt key from settings. Without one, a key is generated once into the data directory (mode 0600) so
 * the API and workers on one machine agree; production sets COUNTERSIGN_RECEIPT_KEY(_FILE) on every process.
 */
export async function loadReceiptKey(settings: ReceiptKeySettings): Promise<ReceiptKey> {
  if (settings.COUNTERSIGN_RECEIPT_KEY && settings.COUNTERSIGN_RECEIPT_KEY_FILE) {
    throw new AppError('config_invalid', 'set COUNTERSIGN_RECEIPT_KEY or COUNTERSIGN_RECEIPT_KEY_FILE, not both');
  }
  if (settings.COUNTERSIGN_RECEIPT_KEY)
    return parseReceiptKey(settings.COUNTERSIGN_RECEIPT_KEY, 'COUNTERSIGN_RECEIPT_KEY');
  if (settings.COUNTERSIGN_RECEIPT_KEY_FILE) {
    return parseReceiptKey(
      await readKeyFile(settings.COUNTERSIGN_RECEIPT_KEY_FILE, 'COUNTERSIGN_RECEIPT_KEY_FILE'),
      'COUNTERSIGN_RECEIPT_KEY_FILE',
    );
  }
  const file = join(settings.COUNTERSIGN_DATA_DIR, DEV_RECEIPT_KEY_FILE);
  try {
    return await parseReceiptKey(await readFile(file, 'utf8'), file);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw err;
  }
  const key = await generateReceiptKey();
  await mkdir(dirname(file), { recursive: true });
  try {
    await writeFile(file, exportReceiptKey(key), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process of this deployment created it first: use theirs, so both sign with the same key.
    if ((err as { code?: string }).code === 'EEXIST') return parseReceiptKey(await readFile(file, 'utf8'), file);
    throw err;
  }
  await chmod(file, 0o600);
  return key;
}

/** The JWKS downstream services verify receipts with (serve it at `/.well-known/receipt-jwks.json`). */
export function receiptJwks(keys: readonly ReceiptKey[]): JSONWebKeySet {
  return { keys: keys.map((k) => ({ ...k.publicJwk })) };
}

async function fromPrivateKey(privateKey: KeyObject): Promise<ReceiptKey> {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const publicJwk: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  return { kid, privateKey, publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' } };
}

async function readKeyFile(path: string, source: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new AppError(
      'config_invalid',
      `${source} cannot be read (${(err as { code?: string }).code ?? 'unreadable'})`,
    );
  }
}
