// Policy replay over requests that really ran: each recorded decision is decided again under an edited policy from
// the inputs recorded with it (the usage figure included), and the report lists exactly the requests the edit changes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import { readRecordedRequests, type RecordedRequest } from '../../src/evidence';
import { PolicyEngine } from '../../src/policy/engine';
import { replayDecisions } from '../../src/policy/replay';
import { declareUsageVariables } from '../../src/usage';
import { generateMasterKey } from '../../src/vault';
import { runCountersign } from '../integration/cli-run';
import { testConfigYaml } from '../support/config';
import { payloadCodecFor, startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { email, finalState, refund, submit, waitForState } from '../workflows/helpers';

// The deployed policy also loads the 24h refund total (for a budget no request comes near), so decisions record it.
const BUDGET_RULE = `    - id: refund-ceiling
      match: { actions: [payments.refund] }
      when: usage.sum('payments.refund', 'amount', '24h') > 1000000000
      effect: deny
      reason: ceiling`;

/** The edit under review: email goes to security, refunds over 2000 are denied, a 1200-a-day refund budget. */
function editedPolicy(yaml: string): string {
  return yaml.replace('      approvers: communications\n', '      approvers: security\n').replace(
    BUDGET_RULE,
    `    - id: no-refunds-over-2000
      match: { actions: [payments.refund] }
      when: params.amount > 2000
      effect: deny
      reason: too large
    - id: refund-budget
      match: { actions: [payments.refund] }
      when: usage.sum('payments.refund', 'amount', '24h') + params.amount > 1200
      effect: require_approval
      approvers: finance`,
  );
}

let target: TargetServer;
let h: Harness;
let yaml: string;
let from: Date;
let to: Date;
let recorded: RecordedRequest[];
const ids: Record<string, string> = {};
const masterKey = generateMasterKey();

beforeAll(async () => {
  process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_replay_7a2d';
  target = await startTargetServer();
  yaml = testConfigYaml({ targetHost: target.host, extraYaml: BUDGET_RULE });
  h = await startHarness({ config: parseConfig(yaml), identity: {}, codec: payloadCodecFor(masterKey) });
  from = new Date(Date.now() - 1000);
  ids.r500 = (await submit(h, refund(500))).state.requestId;
  await finalState(h, ids.r500);
  ids.r800 = (await submit(h, refund(800))).state.requestId;
  await finalState(h, ids.r800);
  ids.r3000 = (await submit(h, refund(3000))).state.requestId;
  ids.read = (
    await submit(h, { action: 'customers.read', params: { customerId: 'c1' }, reason: 'look' })
  ).state.requestId;
  await finalState(h, ids.read);
  ids.email = (await submit(h, email())).state.requestId;
  await waitForState(h, ids.email, (s) => s.timeline.length > 0);
  to = new Date(Date.now() + 1000);
  for (;;) {
    recorded = await readRecordedRequests(h.client, { from, to, taskQueue: h.taskQueues.control });
    if (recorded.length >= 5) break;
    await new Promise((r) => setTimeout(r, 200));
  }
}, 120_000);

afterAll(async () => {
  await h?.close();
  await target?.close();
});

describe('policy replay', () => {
  it('when decisions are made, then they record the usage figures and agent facts the rules saw', () => {
    const r800 = recorded.find((r) => r.input.requestId === ids.r800);
    expect(r800?.input.decision.inputs).toMatchObject({
      usage: { "sum('payments.refund', 'amount', '24h')": 500 },
      agent: { allowedActions: expect.arrayContaining(['payments.refund']) as unknown },
    });
    expect(Date.parse(r800?.input.decision.inputs?.time ?? '')).toBeGreaterThanOrEqual(from.getTime());
  });

  it('when replayed under the same policy, then nothing changes', () => {
    const report = replayDecisions(
      recorded,
      PolicyEngine.compile(parseConfig(yaml), { extend: declareUsageVariables }),
    );
    expect(report).toMatchObject({ evaluated: 5, unchanged: 5, changed: [], incompleteInputs: [] });
  });

  it('when replayed under the edited policy, then exactly the requests the edit affects change', () => {
    const edited = PolicyEngine.compile(parseConfig(editedPolicy(yaml)), { extend: declareUsageVariables });
    const report = replayDecisions(recorded, edited);
    expect(report.counts).toEqual({ 'allow → require_approval': 1, 'require_approval → deny': 1, approvers: 1 });
    expect(Object.fromEntries(report.changed.map((c) => [c.requestId, c.kind]))).toEqual({
      [ids.r800 as string]: 'allow → require_approval',
      [ids.r3000 as string]: 'require_approval → deny',
      [ids.email as string]: 'approvers',
    });
    const emailChange = report.changed.find((c) => c.requestId === ids.email);
    expect(emailChange?.before.approvals).toEqual(['1 of communications']);
    expect(emailChange?.after.approvals).toEqual(['1 of security']);
    // The 800 refund is held only because of what the agent had already refunded that day (500, recorded).
    expect(report.changed.find((c) => c.requestId === ids.r800)?.after.rules).toEqual([
      'small-refunds',
      'refund-budget',
    ]);
  });

  it('when run from the CLI with --fail-on-change, then it prints the counts and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-replay-'));
    const file = join(dir, 'new.yaml');
    writeFileSync(file, editedPolicy(yaml));
    const env = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      COUNTERSIGN_DATA_DIR: dir,
      // The operator's machine holds the master key: the replay reads the sealed histories through the codec.
      COUNTERSIGN_MASTER_KEY: masterKey,
    };
    const args = ['policy', 'replay', '--from', from.toISOString(), '--to', to.toISOString()];
    const json = await runCountersign(
      [...args, '--config', file, '--task-queue', h.taskQueues.control, '--json', '--fail-on-change'],
      env,
    );
    expect(json.stderr).toBe('');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ evaluated: 5, counts: { approvers: 1 } });
    const text = await runCountersign(['--config', file, ...args, '--task-queue', h.taskQueues.control], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Replayed 5 requests');
    expect(text.stdout).toContain('require_approval → deny: 1');
  }, 60_000);
});
