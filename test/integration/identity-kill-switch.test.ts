// The kill switch over the operator API, with requests parked for approval: pulling it cancels every request in its
// scope and nothing executes, new requests in scope are refused with the reason, others go on, and lifting it lets
// the agent act again. Who pulled and lifted it, and why, stays on record.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTHER_AGENT_KEY, TEST_AGENT_KEY, testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import {
  call,
  eventually,
  operatorToken,
  startApi,
  type ActionRequestResource,
  type Api,
  type Problem,
} from './http-support';
import { databasesUnderTest, largeRefund, smallRefund, submitAs } from './identity-support';

const PARKED = 50;

interface Engaged {
  killSwitch: { id: string; reason: string; engagedBy: string; scope: { agentId?: string; action?: string } };
  created: boolean;
  inScope: number;
  operation: { id: string; href: string };
}
interface Operation {
  state: string;
  total: number;
  completed: number;
  failed: number;
}
interface Switches {
  active: Engaged['killSwitch'][];
  history?: (Engaged['killSwitch'] & { liftedBy?: string; liftReason?: string })[];
}

describe.each(await databasesUnderTest())('kill switch over the operator API [%s]', (dialect) => {
  let target: TargetServer;
  let h: Harness;
  let api: Api;
  let erin: string;

  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_kill_switch_secret_0c4e';
    target = await startTargetServer();
    h = await startHarness({ config: testConfig({ targetHost: target.host }), identity: { dialect } });
    api = await startApi(h);
    erin = operatorToken(h, 'erin');
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
    await target?.close();
  });

  const statusOf = async (id: string) =>
    (await call<ActionRequestResource>(api, 'GET', `/v1/action-requests/${id}`, { token: erin })).json.status;

  it(`when the switch is pulled on an agent with ${PARKED} parked requests, then all are cancelled, none executes, new ones get 403 with the reason, and resume works`, async () => {
    const parked: string[] = [];
    // Eight at a time: quick, without flooding a shared two-core machine.
    for (let i = 0; i < PARKED; i += 8) {
      const batch = Array.from({ length: Math.min(8, PARKED - i) }, (_, j) => i + j);
      const answers = await Promise.all(
        batch.map((n) => submitAs(api, TEST_AGENT_KEY, largeRefund(`kill${String(n).padStart(4, '0')}`))),
      );
      for (const res of answers) {
        expect(res.json.status).toBe('pending_approval');
        parked.push(res.json.id);
      }
    }
    // Another agent's pending request is out of scope.
    const bystander = await submitAs(api, OTHER_AGENT_KEY, {
      action: 'customers.read',
      params: { customerId: 'cus_bystander' },
      reason: 'lookup',
    });
    expect(bystander.status).toBe(201);
    // Visibility must list them before the switch can find them.
    await eventually(
      () =>
        h.client.workflow.count(
          `CsAgent = 'support-bot' AND CsStatus = 'pending_approval' AND TaskQueue = '${h.taskQueues.control}'`,
        ),
      (c) => c.count >= PARKED,
      30_000,
    );

    const engaged = await call<Engaged>(api, 'POST', '/v1/kill-switches', {
      token: erin,
      body: { agent: 'support-bot', reason: 'runaway refund loop' },
    });
    expect(engaged.status, JSON.stringify(engaged.json)).toBe(202);
    expect(engaged.json.created).toBe(true);
    expect(engaged.json.killSwitch).toMatchObject({
      scope: { agentId: 'support-bot' },
      reason: 'runaway refund loop',
      engagedBy: 'operator:erin',
    });
    expect(engaged.json.inScope).toBe(PARKED);
    const drained = await eventually(
      async () => (await call<Operation>(api, 'GET', engaged.json.operation.href, { token: erin })).json,
      (op) => op.state === 'completed',
      30_000,
    );
    expect(drained).toMatchObject({ total: PARKED, completed: PARKED, failed: 0 });

    // Every parked request ends cancelled by the switch; approving one now changes nothing.
    await eventually(
      async () => Promise.all(parked.map(statusOf)),
      (statuses) => statuses.every((s) => s === 'cancelled'),
      30_000,
    );
    const sample = await call<ActionRequestResource>(api, 'GET', `/v1/action-requests/${parked[0]}`, { token: erin });
    expect(sample.json.cancellation).toMatchObject({ by: 'operator:erin', reason: 'kill switch: runaway refund loop' });
    const late = await call<Problem>(api, 'POST', `/v1/action-requests/${parked[0]}/decisions`, {
      token: operatorToken(h, 'alice'),
      body: { decision: 'approve' },
    });
    expect(late.status).toBe(409);

    const refused = await submitAs(api, TEST_AGENT_KEY, smallRefund('killnew01'));
    expect(refused.status).toBe(403);
    expect((refused.json as unknown as Problem).detail).toBe('kill switch on (agent support-bot): runaway refund loop');
    expect((refused.json as unknown as Problem).errors).toEqual([
      { path: 'action', message: 'halted by a kill switch' },
    ]);
    const other = await submitAs(
      api,
      OTHER_AGENT_KEY,
      { action: 'customers.read', params: { customerId: 'cus_other' }, reason: 'lookup' },
      '?wait=20',
    );
    expect(other.json.status).toBe('succeeded');
    expect(await statusOf(bystander.json.id)).toBe('succeeded');

    // Pulling it again is idempotent.
    const again = await call<Engaged>(api, 'POST', '/v1/kill-switches', {
      token: operatorToken(h, 'alice'),
      body: { agent: 'support-bot', reason: 'second report' },
    });
    expect(again.status).toBe(202);
    expect(again.json).toMatchObject({ created: false, killSwitch: { id: engaged.json.killSwitch.id } });

    const lifted = await call<{ lifted: Engaged['killSwitch'][] }>(api, 'DELETE', '/v1/kill-switches', {
      token: erin,
      body: { agent: 'support-bot', reason: 'loop fixed' },
    });
    expect(lifted.status).toBe(200);
    expect(lifted.json.lifted.map((k) => k.id)).toEqual([engaged.json.killSwitch.id]);
    const resumed = await submitAs(api, TEST_AGENT_KEY, smallRefund('killnew02'), '?wait=20');
    expect(resumed.json.status).toBe('succeeded');

    for (const id of parked) expect(target.callsFor(id)).toHaveLength(0);
    const record = await call<Switches>(api, 'GET', '/v1/kill-switches?history=true', { token: erin });
    expect(record.json.active).toEqual([]);
    expect(record.json.history?.find((k) => k.id === engaged.json.killSwitch.id)).toMatchObject({
      engagedBy: 'operator:erin',
      liftedBy: 'operator:erin',
      liftReason: 'loop fixed',
    });
  }, 180_000);

  it('when the switch covers an action family, then only those actions are refused, for every agent', async () => {
    const engaged = await call<Engaged>(api, 'POST', '/v1/kill-switches', {
      token: erin,
      body: { action: 'payments.*', reason: 'payment provider incident' },
    });
    expect(engaged.status).toBe(202);

    const refund = await submitAs(api, TEST_AGENT_KEY, smallRefund('family01'));
    const readOk = await submitAs(api, TEST_AGENT_KEY, {
      action: 'customers.read',
      params: { customerId: 'cus_family' },
      reason: 'lookup',
    });
    expect(refund.status).toBe(403);
    expect((refund.json as unknown as Problem).detail).toContain('payment provider incident');
    expect(readOk.status).toBe(201);

    const bad = await call<Problem>(api, 'POST', '/v1/kill-switches', {
      token: erin,
      body: { all: true, agent: 'support-bot', reason: 'mixed scope' },
    });
    expect(bad.status).toBe(422);
    expect(bad.json.errors[0]?.path).toBe('scope');
    const unknown = await call<Problem>(api, 'DELETE', '/v1/kill-switches', {
      token: erin,
      body: { action: 'email.send_external' },
    });
    expect(unknown.status).toBe(404);

    await call(api, 'DELETE', '/v1/kill-switches', { token: erin, body: { action: 'payments.*' } });
    expect((await submitAs(api, TEST_AGENT_KEY, smallRefund('family02'))).status).toBe(201);
  });
});
