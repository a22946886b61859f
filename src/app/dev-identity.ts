// What dev mode keeps in the data directory for agent identity, so `npm start` needs no setup: a vault master key, and
// a personal operator token for every person of the config, which the CLI on the same machine picks with `--as`.
// Files are mode 0600 in a 0700 directory; nothing here is ever printed or logged.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CountersignConfig } from '../config/schema';
import type { Identity } from '../identity';
import type { Logger } from '../logger';
import { generateMasterKey } from '../vault/master-key';

const MASTER_KEY_FILE = 'master-key';
const OPERATOR_TOKENS_DIR = 'operator-tokens';
const PERSON_FILE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Where `countersign dev` keeps the vault master key it generated. */
export function devMasterKeyPath(dataDir: string): string {
  return join(dataDir, MASTER_KEY_FILE);
}

/** The dev master key file: reused when present, else a fresh key written with mode 0600. Returns its path. */
export function ensureDevMasterKey(dataDir: string): string {
  const path = devMasterKeyPath(dataDir);
  if (!existsSync(path)) writeSecretFile(dataDir, path, generateMasterKey());
  return path;
}

/** The dev master key file, if `countersign dev` wrote one (the CLI's `secrets` commands use it). */
export function existingDevMasterKey(dataDir: string): string | undefined {
  const path = devMasterKeyPath(dataDir);
  return existsSync(path) ? path : undefined;
}

/** Where `countersign dev` keeps the operators' personal tokens, one file per person. */
export function devOperatorTokensDir(dataDir: string): string {
  return join(dataDir, OPERATOR_TOKENS_DIR);
}

/**
 * Makes every person of the config an operator with a live token kept in the data directory: creates the missing
 * operators, and issues a new token where the file is missing or its token no longer works (a reset database).
 */
export async function ensureDevOperators(
  identity: Pick<Identity, 'operators'>,
  config: CountersignConfig,
  dataDir: string,
  logger: Logger,
): Promise<string[]> {
  const dir = devOperatorTokensDir(dataDir);
  const existing = new Set((await identity.operators.list()).map((o) => o.id));
  const issued: string[] = [];
  for (const person of Object.keys(config.people)) {
    if (!PERSON_FILE.test(person)) continue;
    const path = join(dir, person);
    const current = existsSync(path) ? readFileSync(path, 'utf8').trim() : '';
    if (current && (await identity.operators.authenticate(current))?.id === person) continue;
    const token = existing.has(person)
      ? await identity.operators.issueToken(person, 'dev', 'countersign dev')
      : await identity.operators.create({ id: person }, 'dev');
    writeSecretFile(dir, path, token.token);
    issued.push(person);
  }
  if (issued.length > 0) logger.info({ operators: issued, dir }, 'dev operator tokens written');
  return Object.keys(config.people).filter((p) => PERSON_FILE.test(p));
}

/**
 * A dev operator token from the data directory: that person's with `person`, else the first person's (by id).
 * Undefined when dev mode wrote none.
 */
export function readDevOperatorToken(dataDir: string, person?: string): { person: string; token: string } | undefined {
  const dir = devOperatorTokensDir(dataDir);
  if (!existsSync(dir)) return undefined;
  const candidates = person
    ? [person]
    : readdirSync(dir)
        .filter((f) => PERSON_FILE.test(f))
        .sort();
  for (const p of candidates) {
    if (!PERSON_FILE.test(p)) return undefined;
    const path = join(dir, p);
    if (!existsSync(path)) continue;
    const token = readFileSync(path, 'utf8').trim();
    if (token) return { person: p, token };
  }
  return undefined;
}

function writeSecretFile(dir: string, path: string, value: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  // The mode above only applies to new files; tighten it in case the file existed with another.
  chmodSync(path, 0o600);
}
