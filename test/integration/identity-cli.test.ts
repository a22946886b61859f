// The identity commands of the `countersign` CLI as a person runs them, against a live API over HTTP: bootstrapping the
// first operator with the admin token, operators' personal tokens, registering and managing an agent, rotating its
// secret, the kill switch; and vault secrets, stored straight in the database with the master key, never printed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database';
import { createMasterKeyring, createVault, generateMasterKey, parseMasterKey, type VaultTables } from '../../src/vault';
import { TEST_AGENT_KEY, testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { runCountersign, type CliResult } from './cli-run';
import { ADMIN_TOKEN, eventually, startApi, type Api } from './http-support';
import { accessToken, largeRefund, submitAs } from './identity-support';

describe('countersign CLI: operators, agents and the kill switch over the operator API', () => {
  let target: TargetServer;
  let h: Harness;
  let api: Api;
  /** A data directory with no dev tokens, so only the environment's tokens count. */
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-identity-cli-'));
  let erinToken = '';

  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCountersign([...args, '--api', api.url], { COUNTERSIGN_DATA_DIR: dataDir, ...env });
  const asErin = (args: string[]) => cli(args, { COUNTERSIGN_OPERATOR_TOKEN: erinToken });

  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_identity_cli_secret_5a0f';
    target = await startTargetServer();
    h = await startHarness({ config: testConfig({ targetHost: target.host }), identity: { operators: false } });
    api = await startApi(h);
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
    await target?.close();
  });

  it('when the first operator is created with the admin token, then their token works and the admin token opens nothing more', async () => {
    const none = await cli(['agents', 'list']);
    expect(none.code).toBe(4);
    expect(none.stderr).toContain('no operator token');

    const first = await cli(['operators', 'create', 'erin', '--name', 'Erin'], {
      COUNTERSIGN_ADMIN_TOKEN: ADMIN_TOKEN,
    });
    expect(first.code, first.stderr).toBe(0);
    erinToken = /token +(cs_op_\S+)/.exec(first.stdout)?.[1] ?? '';
    expect(erinToken).toMatch(/^cs_op_/);

    const second = await cli(['operators', 'create', 'alice'], { COUNTERSIGN_ADMIN_TOKEN: ADMIN_TOKEN });
    expect(second.code).toBe(4);
    expect(second.stderr).toContain('403');
    const byErin = await asErin(['operators', 'create', 'alice', '--json']);
    expect(byErin.code, byErin.stderr).toBe(0);
    expect(JSON.parse(byErin.stdout)).toMatchObject({ operatorId: 'alice' });
    const listed = await asErin(['operators', 'list']);
    expect(listed.stdout).toMatch(/alice +alice +active +operator:erin/);
    expect(listed.stdout).toMatch(/erin +Erin +active +bootstrap/);
  });

  it('when an operator registers and manages an agent, then the agent authenticates with the printed secret and every change is recorded', async () => {
    const created = await asErin([
      'agents',
      'create',
      'cli-bot',
      '--owner',
      'carol',
      '--actions',
      'payments.refund,customers.read',
      '--rate',
      '30/m',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const secret = /client secret +(cs_secret_\S+)/.exec(created.stdout)?.[1] ?? '';
    expect(secret).toMatch(/^cs_secret_/);
    expect(created.stdout).toContain('Shown once');
    const token = await accessToken(api, { clientId: 'cli-bot', clientSecret: secret });
    expect((await submitAs(api, token, largeRefund('clibot01'))).json.status).toBe('pending_approval');

    const listed = await asErin(['agents', 'list']);
    expect(listed.stdout).toMatch(
      /cli-bot +active +carol +medium +30\/m +\d{4}-\d\d-\d\d \d\d:\d\d +payments\.refund,customers\.read/,
    );

    const suspended = await asErin(['agents', 'suspend', 'cli-bot', '--reason', 'review']);
    expect(suspended.stdout).toContain('cli-bot  suspended (review)');
    expect((await submitAs(api, token, largeRefund('clibot02'))).status).toBe(401);
    expect((await asErin(['agents', 'resume', 'cli-bot'])).code).toBe(0);

    const updated = await asErin(['agents', 'update', 'cli-bot', '--actions', 'customers.read', '--rate', 'default']);
    expect(updated.stdout).toContain('actions     customers.read');
    expect(updated.stdout).toContain('rate        default');

    const rotated = await asErin(['agents', 'credentials', 'rotate', 'cli-bot', '--overlap', '0']);
    const newSecret = /client secret +(cs_secret_\S+)/.exec(rotated.stdout)?.[1] ?? '';
    expect(newSecret).toMatch(/^cs_secret_/);
    expect(newSecret).not.toBe(secret);

    const shown = await asErin(['agents', 'show', 'cli-bot']);
    expect(shown.stdout).toMatch(/suspended by operator:erin .*"reason":"review"/);
    expect(shown.stdout).toContain('updated by operator:erin');
    expect(shown.stdout).toContain('credentials_rotated by operator:erin');
    expect(shown.stdout).not.toContain(secret);
    expect(shown.stdout).not.toContain(newSecret);
  });

  it('when the kill switch is pulled and lifted from the CLI, then parked requests are cancelled and the record shows who and why', async () => {
    const parked = await submitAs(api, TEST_AGENT_KEY, largeRefund('clikill01'));
    expect(parked.json.status).toBe('pending_approval');
    // The switch finds running requests through visibility, which lists a start shortly after it.
    await eventually(
      () => h.client.workflow.count(`CsAgent = 'support-bot' AND TaskQueue = '${h.taskQueues.control}'`),
      (c) => c.count >= 1,
    );

    const noReason = await asErin(['kill', '--agent', 'support-bot']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--reason is required');
    const killed = await asErin(['kill', '--agent', 'support-bot', '--reason', 'bad deploy']);
    expect(killed.code, killed.stderr).toBe(0);
    expect(killed.stdout).toContain('kill switch on: agent support-bot');
    expect(killed.stdout).toMatch(/cancelling +1 running request \(operation kill_/);
    const refused = await submitAs(api, TEST_AGENT_KEY, largeRefund('clikill02'));
    expect(refused.status).toBe(403);

    const list = await asErin(['kill', 'list']);
    expect(list.stdout).toMatch(/agent support-bot +on +.* by operator:erin +bad deploy/);
    const resumed = await asErin(['resume', '--agent', 'support-bot', '--reason', 'rolled back']);
    expect(resumed.stdout).toContain('kill switch lifted: agent support-bot');
    const history = await asErin(['kill', 'list', '--history']);
    expect(history.stdout).toContain('No kill switch is on.');
    expect(history.stdout).toMatch(/lifted .* by operator:erin/);
    expect((await submitAs(api, TEST_AGENT_KEY, largeRefund('clikill03'))).status).toBe(201);
  });

  it('when an operator approves as someone else, then the API refuses and says whose token it is', async () => {
    const parked = await submitAs(api, TEST_AGENT_KEY, largeRefund('cliattr01'));
    const refused = await asErin(['approve', parked.json.id, '--as', 'bob']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('403');
    expect(refused.stderr).toContain('approver: must be erin or omitted');
  });
});

describe('countersign CLI: vault secrets', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-secrets-cli-'));
  const masterKey = generateMasterKey();
  const value = `canary_cli_secret_${Date.now()}`;
  const env = { COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_MASTER_KEY: masterKey };

  it('when a secret is put and rotated from a file, then it is stored encrypted, listed without its value, and readable with the key', async () => {
    const file = join(dataDir, 'value.txt');
    writeFileSync(file, `${value}\n`, { mode: 0o600 });

    const put = await runCountersign(
      ['secrets', 'put', 'billing-token', '--from-file', file, '--description', 'billing API'],
      env,
    );
    expect(put.code, put.stderr).toBe(0);
    expect(put.stdout).toMatch(/secret billing-token stored as version 1 \(master key mk_[0-9a-f]{16}\)/);
    writeFileSync(file, `${value}-v2`);
    const rotated = await runCountersign(['secrets', 'rotate', 'billing-token', '--from-file', file], env);
    expect(rotated.stdout).toContain('stored as version 2');
    const listed = await runCountersign(['secrets', 'list'], { COUNTERSIGN_DATA_DIR: dataDir });
    expect(listed.stdout).toMatch(/billing-token +2 +mk_[0-9a-f]{16} +.* +cli:\S+ +billing API/);
    for (const out of [put, rotated, listed]) expect(`${out.stdout}${out.stderr}`).not.toContain(value);

    const locked = await runCountersign(['secrets', 'put', 'other', '--from-file', file], {
      COUNTERSIGN_DATA_DIR: dataDir,
    });
    expect(locked.code).toBe(1);
    expect(locked.stderr).toContain('COUNTERSIGN_MASTER_KEY');

    const database = await openDatabase({ dataDir });
    try {
      const vault = createVault({
        db: database.db,
        keyring: createMasterKeyring(parseMasterKey(masterKey, 'test')),
      });
      expect(await vault.read('billing-token', { requestId: 'req_cli_check' })).toBe(`${value}-v2`);
      const stored = await database.db.withTables<VaultTables>().selectFrom('vault_secrets').selectAll().execute();
      expect(JSON.stringify(stored)).not.toContain(value);
    } finally {
      await database.close();
    }
  });
});
