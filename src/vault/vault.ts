// The credential vault: connector secrets encrypted at rest, decrypted only for the activity about to use them, with
// every read recorded. Values go in through put/rotate and come out only through read; nothing else returns them.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import { AppError } from '../errors';
import { openSecret, rewrapSecret, sealSecret, type SealedSecret } from './envelope';
import { loadMasterKeyring, masterKeyConfigured, type MasterKeyring } from './master-key';
import type { VaultAccessRow, VaultSecretRow, VaultTables } from './tables';

const SECRET_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MAX_VALUE_BYTES = 64 * 1024;

export interface VaultDeps {
  db: Kysely<Database>;
  /** Absent: the vault is locked; listing works, everything that encrypts or decrypts fails closed. */
  keyring?: MasterKeyring;
  now?: () => Date;
}

/** What `list` shows of a secret: never its value. */
export interface SecretSummary {
  id: string;
  /** The current version (the one `read` returns). */
  version: number;
  versions: number;
  description: string;
  /** Master key id the current version is wrapped under. */
  keyId: string;
  createdAt: string;
  updatedAt: string;
  updatedBy: string;
}

export interface PutSecretInput {
  id: string;
  value: string;
  /** Who stores it (an operator id), for the record. */
  by: string;
  description?: string;
}

export interface AccessLogFilter {
  secretId?: string;
  requestId?: string;
  limit?: number;
}

/** The vault over the database; see the functions for what each does. */
export function createVault(deps: VaultDeps) {
  const now = deps.now ?? (() => new Date());
  const db = deps.db.withTables<VaultTables>();

  function keyring(): MasterKeyring {
    if (!deps.keyring) {
      throw new AppError(
        'config_invalid',
        'the vault is locked: set COUNTERSIGN_MASTER_KEY (base64 of 32 bytes) or COUNTERSIGN_MASTER_KEY_FILE',
      );
    }
    return deps.keyring;
  }

  async function latest(id: string): Promise<VaultSecretRow | undefined> {
    return db
      .selectFrom('vault_secrets')
      .selectAll()
      .where('secret_id', '=', id)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  async function insertVersion(input: PutSecretInput, version: number, description: string): Promise<SecretSummary> {
    const sealed = sealSecret(input.value, { secretId: input.id, version }, keyring().current);
    const at = now().toISOString();
    try {
      await db
        .insertInto('vault_secrets')
        .values({
          secret_id: input.id,
          version,
          key_id: sealed.keyId,
          wrapped_key: sealed.wrappedKey,
          ciphertext: sealed.ciphertext,
          description,
          created_at: at,
          created_by: input.by,
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err))
        throw new AppError('conflict', `secret "${input.id}" was changed concurrently; try again`);
      throw err;
    }
    const summary = (await list()).find((s) => s.id === input.id);
    if (!summary) throw new AppError('internal', `secret "${input.id}" vanished after it was stored`);
    return summary;
  }

  /** Stores a new secret as version 1; refuses an id that exists (use rotate). */
  async function put(input: PutSecretInput): Promise<SecretSummary> {
    validate(input);
    if (await latest(input.id)) throw new AppError('conflict', `secret "${input.id}" exists; rotate it instead`);
    return insertVersion(input, 1, input.description ?? '');
  }

  /** Stores a new value as the next version; reads return it from now on. Old versions stay, encrypted. */
  async function rotate(input: PutSecretInput): Promise<SecretSummary> {
    validate(input);
    const current = await latest(input.id);
    if (!current) throw new AppError('not_found', `no secret "${input.id}"; put it first`);
    return insertVersion(input, current.version + 1, input.description ?? current.description);
  }

  /** Every secret with its current version's metadata; values are never read. */
  async function list(): Promise<SecretSummary[]> {
    const rows = await db
      .selectFrom('vault_secrets')
      .select(['secret_id', 'version', 'key_id', 'description', 'created_at', 'created_by'])
      .orderBy('secret_id')
      .orderBy('version')
      .execute();
    const out = new Map<string, SecretSummary>();
    for (const r of rows) {
      const first = out.get(r.secret_id);
      out.set(r.secret_id, {
        id: r.secret_id,
        version: r.version,
        versions: (first?.versions ?? 0) + 1,
        description: r.description,
        keyId: r.key_id,
        createdAt: first?.createdAt ?? r.created_at,
        updatedAt: r.created_at,
        updatedBy: r.created_by,
      });
    }
    return [...out.values()];
  }

  /** Decrypts a secret's current version for one request and records the access; fails closed on any doubt. */
  async function read(id: string, context: { requestId: string }): Promise<string> {
    const row = SECRET_ID.test(id) ? await latest(id) : undefined;
    if (!row) {
      await recordAccess(context.requestId, id, null, 'refused');
      throw new AppError('not_found', `no secret "${id}" in the vault`);
    }
    let value: string;
    try {
      value = openSecret(sealedOf(row), { secretId: row.secret_id, version: row.version }, keyring());
    } catch (err) {
      await recordAccess(context.requestId, id, row.version, 'failed');
      throw err;
    }
    // No audit record, no value: the access is logged before the secret leaves the vault.
    await recordAccess(context.requestId, id, row.version, 'granted');
    return value;
  }

  /** Re-wraps every data key not under the current master key (after a master key rotation). */
  async function rewrap(): Promise<{ rewrapped: number; total: number }> {
    const ring = keyring();
    const rows = await db.selectFrom('vault_secrets').selectAll().execute();
    let rewrapped = 0;
    for (const row of rows) {
      if (row.key_id === ring.current.id) continue;
      const next = rewrapSecret(sealedOf(row), { secretId: row.secret_id, version: row.version }, ring);
      await db
        .updateTable('vault_secrets')
        .set({ key_id: next.keyId, wrapped_key: next.wrappedKey })
        .where('secret_id', '=', row.secret_id)
        .where('version', '=', row.version)
        .where('key_id', '=', row.key_id)
        .execute();
      rewrapped += 1;
    }
    return { rewrapped, total: rows.length };
  }

  /** The access log, newest first. */
  async function accessLog(filter: AccessLogFilter = {}): Promise<VaultAccessRow[]> {
    let q = db.selectFrom('vault_access_log').selectAll();
    if (filter.secretId) q = q.where('secret_id', '=', filter.secretId);
    if (filter.requestId) q = q.where('request_id', '=', filter.requestId);
    return q
      .orderBy('accessed_at', 'desc')
      .limit(Math.min(filter.limit ?? 100, 1000))
      .execute();
  }

  async function recordAccess(
    requestId: string,
    secretId: string,
    version: number | null,
    outcome: VaultAccessRow['outcome'],
  ) {
    await db
      .insertInto('vault_access_log')
      .values({
        id: randomUUID(),
        request_id: requestId,
        secret_id: secretId.slice(0, 64),
        version,
        outcome,
        accessed_at: now().toISOString(),
      })
      .execute();
  }

  return { put, rotate, list, read, rewrap, accessLog };
}

export type Vault = ReturnType<typeof createVault>;

/**
 * The vault of a process: locked (it lists, nothing more) when no master key is configured; a malformed or
 * unreadable key fails at once.
 */
export async function openVault(
  db: Kysely<Database>,
  settings: Parameters<typeof loadMasterKeyring>[0],
): Promise<Vault> {
  const keyring = masterKeyConfigured(settings) ? await loadMasterKeyring(settings) : undefined;
  return createVault({ db, ...(keyring ? { keyring } : {}) });
}

function validate(input: PutSecretInput): void {
  if (!SECRET_ID.test(input.id)) {
    throw new AppError('validation_failed', 'invalid secret id', {
      errors: [{ path: 'id', message: 'lowercase letters, digits, ".", "_" and "-", at most 64' }],
    });
  }
  if (input.value.length === 0 || Buffer.byteLength(input.value, 'utf8') > MAX_VALUE_BYTES) {
    throw new AppError('validation_failed', 'invalid secret value', {
      errors: [{ path: 'value', message: `between 1 byte and ${MAX_VALUE_BYTES / 1024} KiB` }],
    });
  }
}

function sealedOf(row: VaultSecretRow): SealedSecret {
  return { keyId: row.key_id, wrappedKey: row.wrapped_key, ciphertext: row.ciphertext };
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || /UNIQUE constraint failed/.test(e.message ?? '')
  );
}
