// `countersign doctor` against real dependencies: the test Temporal server with workers polling, a migrated SQLite
// database holding a vault secret, the API publishing the receipt key, and the local Slack stand-in; then each one
// taken away (or misconfigured) in turn, and the check that names it fails.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { msToTs } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadCore, type Core } from '../../src/app/core';
import { loadSettings, type Settings } from '../../src/config/settings';
import { openDatabase } from '../../src/db/database';
import { runDoctor, type DoctorCheck } from '../../src/doctor/checks';
import { exportReceiptKey, generateReceiptKey, receiptJwks, type ReceiptKey } from '../../src/receipts';
import { createMasterKeyring, createVault, generateMasterKey, parseMasterKey } from '../../src/vault';
import { testConfigYaml } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startSlackApiStub, type SlackApiStub } from '../support/slack-api-stub';
import { runCountersign } from './cli-run';
import { startApi, type Api } from './http-support';

let h: Harness;
let api: Api;
let slack: SlackApiStub;
let core: Core;
let key: ReceiptKey;
let dataDir: string;
let configFile: string;
const masterKey = generateMasterKey();
let env: Record<string, string>;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cs-doctor-'));
  configFile = join(dataDir, 'countersign.yaml');
  writeFileSync(configFile, testConfigYaml({ targetHost: '127.0.0.1:9' }));
  core = loadCore({ COUNTERSIGN_CONFIG: configFile });
  h = await startHarness({ config: core.config });
  key = await generateReceiptKey();
  api = await startApi(h, { receiptJwks: () => receiptJwks([key]) });
  slack = await startSlackApiStub();
  const db = await openDatabase({ dataDir });
  await createVault({ db: db.db, keyring: createMasterKeyring(parseMasterKey(masterKey, 'test')) }).put({
    id: 'billing-token',
    value: 'tok_doctor_1',
    by: 'test',
  });
  await db.close();
  env = {
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    COUNTERSIGN_DATA_DIR: dataDir,
    COUNTERSIGN_CONFIG: configFile,
    COUNTERSIGN_MASTER_KEY: masterKey,
    COUNTERSIGN_RECEIPT_KEY: exportReceiptKey(key),
    SLACK_BOT_TOKEN: 'xoxb-doctor',
    SLACK_API_URL: slack.apiUrl,
  };
}, 60_000);

afterAll(async () => {
  await api?.close();
  await h?.close();
  await slack?.close();
});

async function doctor(overrides: Record<string, string> = {}, options: { api?: string; temporal?: string } = {}) {
  const settings: Settings = loadSettings({ ...env, ...overrides });
  const checks = await runDoctor({
    settings,
    core,
    taskQueues: h.taskQueues,
    temporalAddress: options.temporal ?? inject('temporalAddress'),
    apiUrl: options.api ?? api.url,
    timeoutMs: 3_000,
  });
  return Object.fromEntries(checks.map((c) => [c.name, c])) as Record<string, DoctorCheck>;
}

const failed = (checks: Record<string, DoctorCheck>) =>
  Object.values(checks)
    .filter((c) => !c.ok)
    .map((c) => c.name)
    .sort();

describe('doctor', () => {
  it('when every dependency is up, then every check passes', async () => {
    const checks = await doctor();
    expect(failed(checks)).toEqual([]);
    expect(Object.keys(checks)).toEqual([
      'temporal',
      'namespace',
      'search attributes',
      `worker ${h.taskQueues.control}`,
      `worker ${h.taskQueues.connector('billing')}`,
      'database',
      'migrations',
      'vault',
      'receipt key',
      'slack',
    ]);
    expect(checks.vault?.detail).toContain('decrypts secret billing-token');
    expect(checks.slack?.detail).toContain('auth.test ok');
  });

  it('when Temporal is unreachable, then Temporal and everything behind it fail', async () => {
    const checks = await doctor({}, { temporal: '127.0.0.1:1' });
    expect(failed(checks)).toEqual(
      [
        'temporal',
        'namespace',
        'search attributes',
        `worker ${h.taskQueues.control}`,
        `worker ${h.taskQueues.connector('billing')}`,
      ].sort(),
    );
  });

  it('when the namespace does not exist, then the namespace check fails', async () => {
    const checks = await doctor({ TEMPORAL_NAMESPACE: 'no-such-namespace' });
    expect(checks.namespace).toMatchObject({ ok: false });
    expect(checks.temporal?.ok).toBe(true);
  });

  it('when a namespace lacks the search attributes, then that check names them', async () => {
    const namespace = `doctor-${Date.now()}`;
    await h.client.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    let checks = await doctor({ TEMPORAL_NAMESPACE: namespace });
    for (let i = 0; i < 50 && !checks.namespace?.ok; i++) {
      await new Promise((r) => setTimeout(r, 100));
      checks = await doctor({ TEMPORAL_NAMESPACE: namespace });
    }
    expect(checks['search attributes']).toMatchObject({
      ok: false,
      detail: expect.stringContaining('CsAgent missing') as unknown,
    });
  });

  it('when no worker polls the task queues, then each worker check fails', async () => {
    const settings = loadSettings(env);
    const checks = await runDoctor({
      settings,
      core,
      taskQueues: { control: 'nobody-polls', connector: (c) => `nobody-polls-${c}` },
      temporalAddress: inject('temporalAddress'),
      apiUrl: api.url,
      timeoutMs: 3_000,
    });
    expect(checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([
      'worker nobody-polls',
      'worker nobody-polls-billing',
    ]);
  });

  it('when the database is unreachable or not migrated, then those checks fail', async () => {
    const down = await doctor({ DATABASE_URL: 'postgres://nobody:x@127.0.0.1:1/countersign' });
    expect(down.database?.ok).toBe(false);
    expect(down.migrations?.ok).toBe(false);
    expect(down.vault?.ok).toBe(false);
    const fresh = mkdtempSync(join(tmpdir(), 'cs-doctor-fresh-'));
    const unmigrated = await doctor({ COUNTERSIGN_DATA_DIR: fresh });
    expect(unmigrated.database?.ok).toBe(true);
    expect(unmigrated.migrations).toMatchObject({ ok: false, detail: expect.stringContaining('pending') as unknown });
  });

  it('when the master key is not the one the secrets were sealed with, then the vault check fails', async () => {
    const checks = await doctor({ COUNTERSIGN_MASTER_KEY: generateMasterKey() });
    expect(checks.vault).toMatchObject({ ok: false, detail: expect.stringContaining('cannot decrypt') as unknown });
  });

  it('when this machine signs receipts with another key than the API publishes, or the API is down, then it fails', async () => {
    const other = await generateReceiptKey();
    const mismatch = await doctor({ COUNTERSIGN_RECEIPT_KEY: exportReceiptKey(other) });
    expect(mismatch['receipt key']).toMatchObject({ ok: false, detail: expect.stringContaining(other.kid) as unknown });
    const apiDown = await doctor({}, { api: 'http://127.0.0.1:1' });
    expect(apiDown['receipt key']).toMatchObject({
      ok: false,
      detail: expect.stringContaining('unreachable') as unknown,
    });
  });

  it('when Slack refuses the token or is down, then the slack check fails, and it is skipped without a token', async () => {
    slack.failNext('auth.test', { status: 500 });
    expect((await doctor()).slack?.ok).toBe(false);
    slack.down({ status: 500 });
    try {
      expect((await doctor()).slack?.ok).toBe(false);
    } finally {
      slack.up();
    }
    const withoutSlack = { ...env };
    delete withoutSlack.SLACK_BOT_TOKEN;
    const settings = loadSettings(withoutSlack);
    const checks = await runDoctor({
      settings,
      core,
      taskQueues: h.taskQueues,
      temporalAddress: inject('temporalAddress'),
      apiUrl: api.url,
    });
    expect(checks.find((c) => c.name === 'slack')).toMatchObject({ ok: true, skipped: true });
  });

  it('when run from the CLI with a failing check, then it prints one line each and exits 1', async () => {
    const prefix = h.taskQueues.control.replace(/-countersign$/, '');
    const args = ['doctor', '--api', api.url, '--task-queue-prefix', prefix, '--timeout', '3000'];
    const good = await runCountersign(args, env);
    expect(good.stdout.split('\n').filter(Boolean)).toHaveLength(10);
    expect(good.code).toBe(0);
    const bad = await runCountersign([...args, '--json'], { ...env, COUNTERSIGN_MASTER_KEY: generateMasterKey() });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      ok: false,
      checks: expect.arrayContaining([{ name: 'vault', ok: false, detail: expect.any(String) as unknown }]) as unknown,
    });
  }, 60_000);
});
