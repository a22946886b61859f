// `countersign dev` as a child process against the shared test Temporal server (TEMPORAL_ADDRESS set, so it starts
// none), driven like a newcomer would: curl-style HTTP for the agent, the CLI for the approvers, Ctrl-C to stop.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { runCountersign, startCountersign, type RunningCli } from './cli-run';

const AGENT_KEY = `cs_cli_dev_${randomUUID()}`;
const ADMIN_TOKEN = `cs_admin_cli_dev_${randomUUID()}`;
const BILLING_SECRET = `tok_cli_dev_${randomUUID()}`;

function configYaml(targetHost: string): string {
  const keyHash = createHash('sha256').update(AGENT_KEY).digest('hex');
  return `
people:
  carol: { email: carol@example.com }
  alice: { email: alice@example.com }
  bob: { email: bob@example.com }
agents:
  - { id: cli-bot, owner: carol, allowedActions: [payments.refund], apiKeySha256: ${keyHash} }
approvers:
  finance: { members: [alice, bob] }
connectors:
  billing:
    type: http
    allowedHosts: ['${targetHost}']
    timeout: 2s
    credential: { env: CS_CLI_DEV_BILLING_TOKEN }
actions:
  payments.refund:
    description: Refund a payment.
    risk: high
    connector: billing
    http: { method: POST, url: 'http://${targetHost}/v1/payments/{paymentId}/refunds' }
    params:
      type: object
      required: [paymentId, amount]
      properties: { paymentId: { type: string }, amount: { type: number } }
policies:
  rules:
    - { id: small, match: { actions: [payments.refund] }, when: params.amount <= 1000, effect: allow }
    - id: large
      match: { actions: [payments.refund] }
      when: params.amount > 1000
      effect: require_approval
      approvers: finance
      quorum: 2
`;
}

describe('countersign dev with TEMPORAL_ADDRESS set', () => {
  let target: TargetServer;
  let dev: RunningCli;
  let api: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-cli-dev-'));

  const submit = async (amount: number) => {
    const response = await fetch(`${api}/v1/action-requests`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${AGENT_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        action: 'payments.refund',
        params: { paymentId: `pay_${randomUUID()}`, amount },
        reason: 'test',
      }),
    });
    return (await response.json()) as { id: string; status: string };
  };
  const read = async (id: string) => {
    const response = await fetch(`${api}/v1/action-requests/${id}?wait=10`, {
      headers: { Authorization: `Bearer ${AGENT_KEY}` },
    });
    return (await response.json()) as { id: string; status: string };
  };
  // The CLI acts with the personal operator tokens `countersign dev` keeps in the data directory (--as picks one).
  const operatorEnv = () => ({ COUNTERSIGN_DATA_DIR: dataDir });

  beforeAll(async () => {
    target = await startTargetServer();
    const configPath = join(dataDir, 'countersign.yaml');
    writeFileSync(configPath, configYaml(target.host));
    dev = startCountersign(['dev'], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      PORT: '0',
      COUNTERSIGN_CONFIG: configPath,
      COUNTERSIGN_DATA_DIR: dataDir,
      COUNTERSIGN_ADMIN_TOKEN: ADMIN_TOKEN,
      CS_CLI_DEV_BILLING_TOKEN: BILLING_SECRET,
      LOG_LEVEL: 'info',
    });
    const [, url] = await dev.waitForStdout(/API +(http:\/\/127\.0\.0\.1:\d+)/, 90_000);
    api = url!;
  }, 120_000);

  afterAll(async () => {
    await dev?.stop('SIGKILL', 1000);
    await target?.close();
  });

  it('when it starts, then it uses the given Temporal, serves the API and prints no walkthrough for a custom config', async () => {
    const { stdout, stderr } = dev.output();
    expect(stderr).not.toContain('Starting the Temporal dev server');
    expect(stdout).toContain('Countersign is running.');
    expect(stdout).not.toContain('Demo agent');
    expect(stdout).not.toContain('Billing example');
    const health = await fetch(`${api}/healthz`);
    expect(health.status).toBe(200);
  });

  it('when two finance approvers approve over the CLI, then the request executes once and succeeds', async () => {
    const submitted = await submit(2500);
    expect(submitted.status).toBe('pending_approval');

    const listed = await runCountersign(
      ['requests', 'list', '--status', 'pending_approval', '--api', api],
      operatorEnv(),
    );
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${submitted.id} +pending_approval +payments\\.refund +cli-bot`));

    const refused = await runCountersign(['approve', submitted.id, '--as', 'carol', '--api', api], operatorEnv());
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('409');

    const first = await runCountersign(
      ['approve', submitted.id, '--as', 'alice', '--reason', 'checked', '--api', api],
      operatorEnv(),
    );
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('finance: 1/2 (alice)');
    const second = await runCountersign(['approve', submitted.id, '--as', 'bob', '--api', api], operatorEnv());
    expect(second.code).toBe(0);

    expect((await read(submitted.id)).status).toBe('succeeded');
    const calls = target.callsFor(submitted.id);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.headers.authorization).toBe(`Bearer ${BILLING_SECRET}`);

    const shown = await runCountersign(['requests', 'show', submitted.id, '--api', api], operatorEnv());
    expect(shown.stdout).toContain(`${submitted.id}  succeeded`);
    expect(shown.stdout).toContain('approval: alice via cli');
  });

  it('when an approver rejects over the CLI, then the request is rejected and nothing executes', async () => {
    const submitted = await submit(5000);
    const rejected = await runCountersign(
      ['reject', submitted.id, '--as', 'alice', '--reason', 'not this quarter', '--api', api],
      operatorEnv(),
    );
    expect(rejected.code).toBe(0);
    expect((await read(submitted.id)).status).toBe('rejected');
    expect(target.callsFor(submitted.id)).toHaveLength(0);
  });

  it('when it is stopped with SIGINT, then it shuts down cleanly and no secret reached its output', async () => {
    const code = await dev.stop('SIGINT', 30_000);
    const { stdout, stderr } = dev.output();
    expect(stderr).toContain('Stopped.');
    expect(code).toBe(0);
    for (const secret of [BILLING_SECRET, ADMIN_TOKEN, AGENT_KEY]) {
      expect(stdout).not.toContain(secret);
      expect(stderr).not.toContain(secret);
    }
  });
});

describe('countersign requests without an operator token', () => {
  it('when neither COUNTERSIGN_ADMIN_TOKEN nor a dev token file exists, then it says what to set and exits 4 (refused)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'countersign-cli-notoken-'));
    const result = await runCountersign(['requests', 'list'], { COUNTERSIGN_DATA_DIR: empty });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('no operator token');
    expect(result.stderr).toContain('COUNTERSIGN_ADMIN_TOKEN:');
  });
});
