// `countersign doctor`: every dependency a deployment needs, checked from where the command runs, one line each.
// Each check reports what it found; none prints a secret (keys are named by id, tokens never echoed).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { existingDevMasterKey } from '../app/dev-identity';
import type { Core } from '../app/core';
import type { Settings } from '../config/settings';
import { openDatabase, type DatabaseHandle } from '../db/database';
import { isPostgres } from '../db/dialect';
import { createMigrator } from '../db/migrator';
import { DEV_RECEIPT_KEY_FILE, loadReceiptKey } from '../receipts/keys';
import { openSecret } from '../vault/envelope';
import { loadMasterKeyring, masterKeyConfigured } from '../vault/master-key';
import type { VaultTables } from '../vault/tables';
import type { TaskQueues } from '../temporal/worker';

/** One line of the report. */
export interface DoctorCheck {
  name: string;
  /** Failed checks make the command exit non-zero; skipped ones (not configured) do not. */
  ok: boolean;
  skipped?: boolean;
  detail: string;
}

export interface DoctorOptions {
  settings: Settings;
  core: Core;
  taskQueues: TaskQueues;
  /** The Temporal frontend to check. */
  temporalAddress: string;
  /** The API whose receipt JWKS must publish the key this machine signs with. */
  apiUrl: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Runs every check, in the report's order. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorCheck[]> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const { checkTemporal } = await import('../temporal/adapter');
  const connectors = Object.keys(options.core.config.connectors);
  const temporal = await checkTemporal({
    address: options.temporalAddress,
    namespace: options.settings.TEMPORAL_NAMESPACE,
    taskQueues: [
      { name: options.taskQueues.control, kinds: ['workflow', 'activity'] },
      ...connectors.map((c) => ({ name: options.taskQueues.connector(c), kinds: ['activity' as const] })),
    ],
    timeoutMs,
  });
  const database = await checkDatabase(options.settings);
  const vault = await checkVault(options, database.handle);
  await database.handle?.close();
  return [
    ...temporal,
    ...database.checks,
    vault,
    await checkReceiptKey(options, timeoutMs),
    await checkSlack(options, timeoutMs),
  ];
}

async function checkDatabase(settings: Settings): Promise<{ checks: DoctorCheck[]; handle?: DatabaseHandle }> {
  let handle: DatabaseHandle;
  try {
    handle = await openDatabase({
      ...(settings.DATABASE_URL ? { databaseUrl: settings.DATABASE_URL } : { dataDir: settings.COUNTERSIGN_DATA_DIR }),
      migrate: false,
    });
    await sql`select 1`.execute(handle.db);
  } catch (err) {
    return {
      checks: [
        { name: 'database', ok: false, detail: `unreachable (${message(err)})` },
        { name: 'migrations', ok: false, detail: 'not checked: database unreachable' },
      ],
    };
  }
  const checks: DoctorCheck[] = [{ name: 'database', ok: true, detail: `${handle.dialect} at ${handle.location}` }];
  try {
    const schema = isPostgres(handle.db)
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(handle.db)).rows[0]?.schema
      : undefined;
    const migrations = await createMigrator(handle.db, undefined, schema).getMigrations();
    const pending = migrations.filter((m) => !m.executedAt).map((m) => m.name);
    checks.push(
      pending.length === 0
        ? { name: 'migrations', ok: true, detail: `${migrations.length} of ${migrations.length} applied` }
        : {
            name: 'migrations',
            ok: false,
            detail: `${pending.length} pending (${pending.join(', ')}); the API and worker apply them at start`,
          },
    );
  } catch (err) {
    checks.push({ name: 'migrations', ok: false, detail: message(err) });
  }
  return { checks, handle };
}

/** The master key opens a stored secret (decrypting in memory only; nothing is logged as an access). */
async function checkVault(options: DoctorOptions, handle: DatabaseHandle | undefined): Promise<DoctorCheck> {
  const { settings } = options;
  const devKey = existingDevMasterKey(settings.COUNTERSIGN_DATA_DIR);
  const keySettings = masterKeyConfigured(settings)
    ? settings
    : devKey
      ? { ...settings, COUNTERSIGN_MASTER_KEY_FILE: devKey }
      : undefined;
  const needsVault = Object.values(options.core.config.connectors).some(
    (c) => c.credential !== undefined && 'secret' in c.credential,
  );
  if (!keySettings) {
    return needsVault
      ? { name: 'vault', ok: false, detail: 'a connector names a vault secret but COUNTERSIGN_MASTER_KEY is not set' }
      : { name: 'vault', ok: true, skipped: true, detail: 'no master key configured and no connector needs one' };
  }
  try {
    const keyring = await loadMasterKeyring(keySettings);
    if (!handle) return { name: 'vault', ok: false, detail: `key ${keyring.current.id} loaded; database unreachable` };
    const row = await handle.db
      .withTables<VaultTables>()
      .selectFrom('vault_secrets')
      .selectAll()
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!row) return { name: 'vault', ok: true, detail: `key ${keyring.current.id} loaded; no secrets stored yet` };
    openSecret(
      { keyId: row.key_id, wrappedKey: row.wrapped_key, ciphertext: row.ciphertext },
      { secretId: row.secret_id, version: row.version },
      keyring,
    );
    return { name: 'vault', ok: true, detail: `key ${keyring.current.id} decrypts secret ${row.secret_id}` };
  } catch (err) {
    return { name: 'vault', ok: false, detail: `cannot decrypt: ${message(err)}` };
  }
}

/** The API publishes the receipt key this machine's settings sign with (workers and API must share one). */
async function checkReceiptKey(options: DoctorOptions, timeoutMs: number): Promise<DoctorCheck> {
  const name = 'receipt key';
  const { settings } = options;
  const devFile = join(settings.COUNTERSIGN_DATA_DIR, DEV_RECEIPT_KEY_FILE);
  if (!settings.COUNTERSIGN_RECEIPT_KEY && !settings.COUNTERSIGN_RECEIPT_KEY_FILE && !existsSync(devFile)) {
    // Loading would generate one here, which no running process signs with.
    return { name, ok: false, detail: `COUNTERSIGN_RECEIPT_KEY is not set and there is no ${devFile}` };
  }
  try {
    const key = await loadReceiptKey(options.settings);
    const url = new URL('/.well-known/receipt-jwks.json', options.apiUrl);
    let response: Response;
    try {
      response = await (options.fetch ?? fetch)(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      return {
        name,
        ok: false,
        detail: `signs with ${key.kid}; the API at ${url.origin} is unreachable (${message(err)})`,
      };
    }
    if (!response.ok)
      return { name, ok: false, detail: `signs with ${key.kid}; ${url.href} answered ${response.status}` };
    const jwks = (await response.json()) as { keys?: { kid?: string }[] };
    const published = (jwks.keys ?? []).map((k) => k.kid ?? '?');
    return published.includes(key.kid)
      ? { name, ok: true, detail: `${key.kid}, published by the API` }
      : {
          name,
          ok: false,
          detail: `this machine signs with ${key.kid}, the API publishes ${published.join(', ') || 'none'}: set the same COUNTERSIGN_RECEIPT_KEY on API and workers`,
        };
  } catch (err) {
    return { name, ok: false, detail: message(err) };
  }
}

/** Slack's auth.test with the bot token, when one is configured. */
async function checkSlack(options: DoctorOptions, timeoutMs: number): Promise<DoctorCheck> {
  const token = options.settings.SLACK_BOT_TOKEN;
  if (!token) return { name: 'slack', ok: true, skipped: true, detail: 'not configured (SLACK_BOT_TOKEN unset)' };
  const base = options.settings.SLACK_API_URL ?? 'https://slack.com/api/';
  try {
    const response = await (options.fetch ?? fetch)(new URL('auth.test', base.endsWith('/') ? base : `${base}/`), {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await response.json()) as { ok?: boolean; error?: string; team?: string; user?: string };
    return body.ok
      ? { name: 'slack', ok: true, detail: `auth.test ok: ${body.user ?? '?'} in ${body.team ?? '?'}` }
      : { name: 'slack', ok: false, detail: `auth.test: ${body.error ?? `HTTP ${response.status}`}` };
  } catch (err) {
    return { name: 'slack', ok: false, detail: `auth.test failed (${message(err)})` };
  }
}

/** The report for a person: one line per check. */
export function formatDoctorReport(checks: readonly DoctorCheck[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  return checks
    .map((c) => `${c.skipped ? 'skip' : c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.detail}`)
    .join('\n');
}

function message(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'error';
}
