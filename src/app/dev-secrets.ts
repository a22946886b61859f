// Secrets that dev mode makes up when none is configured. The operator token is kept in the data directory (0600) so
// the CLI on the same machine can use it; nothing here is ever printed or logged.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ADMIN_TOKEN_FILE = 'admin-token';

/** Where `countersign dev` keeps the operator token it generated. */
export function devAdminTokenPath(dataDir: string): string {
  return join(dataDir, ADMIN_TOKEN_FILE);
}

/** A fresh random token with a recognisable prefix. */
export function generateToken(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}

/** The dev operator token: reused from the data directory when present, else generated and written with mode 0600. */
export function ensureDevAdminToken(dataDir: string): string {
  const existing = readDevAdminToken(dataDir);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true });
  const token = generateToken('cs_admin');
  const path = devAdminTokenPath(dataDir);
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  // The mode above only applies to new files; tighten it in case the file was created another way.
  chmodSync(path, 0o600);
  return token;
}

/** The dev operator token from the data directory, if `countersign dev` wrote one. */
export function readDevAdminToken(dataDir: string): string | undefined {
  const path = devAdminTokenPath(dataDir);
  if (!existsSync(path)) return undefined;
  const token = readFileSync(path, 'utf8').trim();
  return token || undefined;
}
