// The vault's master keys: the current one wraps new data keys; retired ones only unwrap until `secrets rewrap` ran.
// A key never appears in an error message or a log line; only its id (a fingerprint) does.
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Settings } from '../config/settings';
import { AppError } from '../errors';

export const MASTER_KEY_BYTES = 32;

/** One master key and its id. */
export interface MasterKey {
  /** `mk_` + 16 hex chars of a domain-separated SHA-256 of the key: identifies it without revealing it. */
  id: string;
  key: Buffer;
}

/** The keys a vault can use: `current` encrypts, every key decrypts. */
export interface MasterKeyring {
  current: MasterKey;
  /** Looks a key up by the id stored with a ciphertext. */
  get(id: string): MasterKey | undefined;
  ids(): string[];
}

/** The id of a master key. */
export function masterKeyId(key: Buffer): string {
  return `mk_${createHash('sha256').update('countersign/master-key-id/v1\u0000').update(key).digest('hex').slice(0, 16)}`;
}

/** Parses a base64 (or base64url) master key of exactly 32 bytes; `source` names the setting in the error. */
export function parseMasterKey(text: string, source: string): MasterKey {
  const compact = text.replace(/\s+/g, '');
  const standard = compact.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]+$/.test(standard)) {
    throw new AppError(
      'config_invalid',
      `${source} is not base64 (expected 32 random bytes, e.g. \`openssl rand -base64 32\`)`,
    );
  }
  const key = Buffer.from(standard, 'base64');
  if (key.length !== MASTER_KEY_BYTES || key.toString('base64').replace(/=+$/, '') !== standard) {
    throw new AppError(
      'config_invalid',
      `${source} must decode to exactly ${MASTER_KEY_BYTES} bytes, it decodes to ${key.length}`,
    );
  }
  return { id: masterKeyId(key), key };
}

/** Builds a keyring from a current key and retired ones. */
export function createMasterKeyring(current: MasterKey, previous: readonly MasterKey[] = []): MasterKeyring {
  const byId = new Map<string, MasterKey>();
  for (const k of [...previous, current]) byId.set(k.id, k);
  return {
    current,
    get: (id) => byId.get(id),
    ids: () => [...byId.keys()],
  };
}

/** A fresh random master key (tests and `secrets init`). */
export function generateMasterKey(): string {
  return randomBytes(MASTER_KEY_BYTES).toString('base64');
}

type MasterKeySettings = Partial<
  Pick<Settings, 'COUNTERSIGN_MASTER_KEY' | 'COUNTERSIGN_MASTER_KEY_FILE' | 'COUNTERSIGN_MASTER_KEY_PREVIOUS'>
>;

/** True when the settings name a master key (the vault is usable). */
export function masterKeyConfigured(settings: MasterKeySettings): boolean {
  return Boolean(settings.COUNTERSIGN_MASTER_KEY || settings.COUNTERSIGN_MASTER_KEY_FILE);
}

/** Loads the keyring from settings; fails closed with a message that names the setting, never the key. */
export async function loadMasterKeyring(settings: MasterKeySettings): Promise<MasterKeyring> {
  if (settings.COUNTERSIGN_MASTER_KEY && settings.COUNTERSIGN_MASTER_KEY_FILE) {
    throw new AppError('config_invalid', 'set COUNTERSIGN_MASTER_KEY or COUNTERSIGN_MASTER_KEY_FILE, not both');
  }
  let current: MasterKey;
  if (settings.COUNTERSIGN_MASTER_KEY) {
    current = parseMasterKey(settings.COUNTERSIGN_MASTER_KEY, 'COUNTERSIGN_MASTER_KEY');
  } else if (settings.COUNTERSIGN_MASTER_KEY_FILE) {
    let text: string;
    try {
      text = await readFile(settings.COUNTERSIGN_MASTER_KEY_FILE, 'utf8');
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'unreadable';
      throw new AppError('config_invalid', `COUNTERSIGN_MASTER_KEY_FILE cannot be read (${code})`);
    }
    current = parseMasterKey(text, 'COUNTERSIGN_MASTER_KEY_FILE');
  } else {
    throw new AppError(
      'config_invalid',
      'the vault is locked: set COUNTERSIGN_MASTER_KEY (base64 of 32 bytes) or COUNTERSIGN_MASTER_KEY_FILE',
    );
  }
  const previous = (settings.COUNTERSIGN_MASTER_KEY_PREVIOUS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s, i) => parseMasterKey(s, `COUNTERSIGN_MASTER_KEY_PREVIOUS[${i}]`));
  return createMasterKeyring(current, previous);
}
