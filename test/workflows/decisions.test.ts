// The workflow is the authority on decisions: every refused kind is recorded with its code, whether it came through
// the request service or straight to the workflow. Submits are idempotent per agent and Idempotency-Key.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitDecisionSignal } from '../../src/contracts/messages';
import type { DecisionSubmission, RefusalCode } from '../../src/contracts/types';
import { AppError } from '../../src/errors';
import { requestIdFor } from '../../src/requests';
import { testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { agentOf, finalState, OPERATOR, refund, submit, waitForState } from './helpers';

let target: TargetServer;
let h: Harness;

beforeAll(async () => {
  process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_decisions_secret_value';
  target = await startTargetServer();
  h = await startHarness({ config: testConfig({ targetHost: target.host }) });
});
afterAll(async () => {
  await h?.close();
  await target?.close();
});

function decision(
  approver: string,
  paramsHash: string,
  overrides: Partial<DecisionSubmission> = {},
): DecisionSubmission {
  return { approver, decision: 'approve', channel: 'slack', paramsHash, at: new Date().toISOString(), ...overrides };
}

async function refusalOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AppError && err.code === 'decision_refused') return err.errors[0]?.message;
    throw err;
  }
  throw new Error('expected the decision to be refused');
}

describe('refused decisions', () => {
  it('when refused decisions are signalled straight to the workflow, then each is recorded with its code and none counts', async () => {
    const { state } = await submit(h, refund(4000));
    const handle = h.client.workflow.getHandle(state.requestId);
    const hash = state.paramsHash;
    await handle.signal(submitDecisionSignal, decision('dana', hash));
    await handle.signal(submitDecisionSignal, decision('mallory', hash));
    await handle.signal(submitDecisionSignal, decision('carol', hash));
    await handle.signal(submitDecisionSignal, decision('alice', hash));
    await handle.signal(submitDecisionSignal, decision('alice', hash, { decision: 'reject' }));
    await handle.signal(submitDecisionSignal, decision('bob', `sha256:${'0'.repeat(64)}`));

    const pending = await waitForState(h, state.requestId, (s) => s.refused.length === 5);
    expect(pending.status).toBe('pending_approval');
    expect(pending.refused.map((r) => [r.approver, r.refusal])).toEqual<[string, RefusalCode][]>([
      ['dana', 'not_an_approver'],
      ['mallory', 'not_an_approver'],
      ['carol', 'self_approval'],
      ['alice', 'duplicate'],
      ['bob', 'params_mismatch'],
    ]);
    expect(pending.approvals.map((a) => a.approver)).toEqual(['alice']);
    expect(pending.rejections).toEqual([]);
    expect(pending.timeline.filter((t) => t.event === 'decision_refused')).toHaveLength(5);
    expect(target.callsFor(state.requestId)).toHaveLength(0);

    await handle.signal(submitDecisionSignal, decision('bob', hash));
    const done = await finalState(h, state.requestId);
    expect(done.status).toBe('succeeded');
    expect(done.refused).toHaveLength(5);
    expect(target.callsFor(state.requestId)).toHaveLength(1);
  });

  it('when refused decisions come through the request service, then the caller is told why and the workflow records them', async () => {
    const { state } = await submit(h, refund(4100));
    const id = state.requestId;
    expect(await refusalOf(h.service.decide(id, { decision: 'approve', approver: 'dana' }))).toBe('not_an_approver');
    expect(await refusalOf(h.service.decide(id, { decision: 'approve', approver: 'carol' }))).toBe('self_approval');
    await h.service.decide(id, { decision: 'approve', approver: 'alice' });
    expect(await refusalOf(h.service.decide(id, { decision: 'approve', approver: 'alice' }))).toBe('duplicate');
    const recorded = await waitForState(h, id, (s) => s.refused.length === 3);
    expect(recorded.refused.map((r) => r.refusal)).toEqual(['not_an_approver', 'self_approval', 'duplicate']);
    expect(recorded.refused.every((r) => r.channel === 'api')).toBe(true);
    expect(recorded.status).toBe('pending_approval');
    await h.service.cancel(OPERATOR, id, 'test cleanup');
  });

  it('when the request acts on behalf of an approver (by email or Slack id), then that approver may not decide it', async () => {
    const byEmail = await submit(h, refund(4200, { onBehalfOf: 'bob@example.com' }));
    const parked = await waitForState(h, byEmail.state.requestId, (s) => s.timeline.length > 0);
    expect(parked.eligibleApprovers).toEqual(['alice']);
    expect(await refusalOf(h.service.decide(byEmail.state.requestId, { decision: 'approve', approver: 'bob' }))).toBe(
      'self_approval',
    );
    expect(
      await refusalOf(
        h.service.decide(byEmail.state.requestId, { decision: 'reject', approver: 'bob', reason: 'mine' }),
      ),
    ).toBe('self_approval');

    const bySlack = await submit(h, refund(4300, { onBehalfOf: 'U0ALICE01' }));
    expect(await refusalOf(h.service.decide(bySlack.state.requestId, { decision: 'approve', approver: 'alice' }))).toBe(
      'self_approval',
    );

    for (const id of [byEmail.state.requestId, bySlack.state.requestId]) {
      const s = await waitForState(h, id, (x) => x.refused.length > 0);
      expect(s.refused.every((r) => r.refusal === 'self_approval')).toBe(true);
      expect(s.status).toBe('pending_approval');
      await h.service.cancel(OPERATOR, id, 'test cleanup');
    }
  });

  it('when a decision arrives once the request has left pending_approval, then it is refused as already decided', async () => {
    const { state } = await submit(h, refund(4400));
    const handle = h.client.workflow.getHandle(state.requestId);
    // A slow downstream keeps the workflow executing long enough for a late decision to reach it.
    target.delay(1500);
    try {
      await h.service.decide(state.requestId, { decision: 'approve', approver: 'alice' });
      await h.service.decide(state.requestId, { decision: 'approve', approver: 'bob' });
      await handle.signal(submitDecisionSignal, decision('dana', state.paramsHash, { decision: 'reject' }));
      const late = await waitForState(h, state.requestId, (s) => s.refused.length === 1);
      expect(['approved', 'executing']).toContain(late.status);
      expect(late.refused[0]).toMatchObject({ approver: 'dana', decision: 'reject', refusal: 'already_decided' });
    } finally {
      target.delay(0);
    }
    const done = await finalState(h, state.requestId);
    expect(done.status).toBe('succeeded');
    expect(done.rejections).toEqual([]);
    expect(done.refused.map((r) => r.refusal)).toEqual(['already_decided']);
    expect(target.callsFor(state.requestId)).toHaveLength(1);
  });

  it('when an approval lands right after a rejection ended the request, then the workflow records it as already decided', async () => {
    // No worker yet: both signals wait in history and reach the workflow in order, in the same workflow task.
    const parked = await startHarness({ config: testConfig({ targetHost: target.host }), noWorkers: true });
    try {
      const { state } = await parked.service.submit(await agentOf(parked, 'support-bot'), refund(4450));
      const handle = parked.client.workflow.getHandle(state.requestId);
      await handle.signal(
        submitDecisionSignal,
        decision('alice', state.paramsHash, { decision: 'reject', reason: 'no' }),
      );
      await handle.signal(submitDecisionSignal, decision('bob', state.paramsHash));
      await parked.startWorkers();
      const done = await finalState(parked, state.requestId);
      expect(done.status).toBe('rejected');
      expect(done.rejections.map((r) => r.approver)).toEqual(['alice']);
      expect(done.approvals).toEqual([]);
      expect(done.refused).toEqual([expect.objectContaining({ approver: 'bob', refusal: 'already_decided' })]);
      expect(target.callsFor(state.requestId)).toHaveLength(0);
    } finally {
      await parked.close();
    }
  });

  it('when a decision arrives after the request reached a terminal state, then the service refuses it as already decided', async () => {
    const { state } = await submit(h, refund(4500));
    await h.service.decide(state.requestId, { decision: 'reject', approver: 'alice', reason: 'no' });
    const done = await finalState(h, state.requestId);
    expect(done.status).toBe('rejected');
    // The workflow has closed: the service answers for it, and nothing changes.
    expect(await refusalOf(h.service.decide(state.requestId, { decision: 'approve', approver: 'bob' }))).toBe(
      'already_decided',
    );
    expect(await refusalOf(h.service.decide(state.requestId, { decision: 'approve', approver: 'alice' }))).toBe(
      'already_decided',
    );
    expect((await finalState(h, state.requestId)).approvals).toEqual([]);
    expect(target.callsFor(state.requestId)).toHaveLength(0);
  });
});

describe('idempotent submit', () => {
  it('when the same key and body are submitted again, then the same request is returned and it runs once', async () => {
    const key = `key-${randomUUID()}`;
    const body = refund(30);
    const first = await submit(h, body, key);
    expect(first.created).toBe(true);
    expect(first.state.requestId).toBe(requestIdFor('support-bot', key));
    const runId = (await h.client.workflow.getHandle(first.state.requestId).describe()).runId;

    // Key order in the body does not make it a different body.
    const again = await submit(
      h,
      { reason: body.reason, params: { currency: 'USD', amount: 30, paymentId: 'pay_abcd1234' }, action: body.action },
      key,
    );
    expect(again.created).toBe(false);
    expect(again.state.requestId).toBe(first.state.requestId);
    expect((await h.client.workflow.getHandle(first.state.requestId).describe()).runId).toBe(runId);

    await finalState(h, first.state.requestId);
    const afterEnd = await submit(h, body, key);
    expect(afterEnd.created).toBe(false);
    expect(afterEnd.state.status).toBe('succeeded');
    expect((await h.client.workflow.getHandle(first.state.requestId).describe()).runId).toBe(runId);
    expect(target.callsFor(first.state.requestId)).toHaveLength(1);
  });

  it('when a pending request is submitted again with its key, then its current state comes back', async () => {
    const key = `key-${randomUUID()}`;
    const first = await submit(h, refund(6000), key);
    await h.service.decide(first.state.requestId, { decision: 'approve', approver: 'alice' });
    const again = await submit(h, refund(6000), key);
    expect(again).toMatchObject({
      created: false,
      state: { status: 'pending_approval', requestId: first.state.requestId },
    });
    expect(again.state.approvals.map((a) => a.approver)).toEqual(['alice']);
    await h.service.cancel(OPERATOR, first.state.requestId, 'test cleanup');
  });

  it('when the same key comes with a different body, then it is refused as an idempotency mismatch and nothing new runs', async () => {
    const key = `key-${randomUUID()}`;
    const first = await submit(h, refund(40), key);
    await expect(submit(h, refund(41), key)).rejects.toMatchObject({ code: 'idempotency_mismatch', status: 422 });
    await expect(submit(h, refund(40, { reason: 'another reason' }), key)).rejects.toMatchObject({
      code: 'idempotency_mismatch',
    });
    const done = await finalState(h, first.state.requestId);
    expect(done.outcome).toBeDefined();
    expect(JSON.parse(target.callsFor(first.state.requestId)[0]!.body)).toMatchObject({ amount: 40 });
    expect(target.callsFor(first.state.requestId)).toHaveLength(1);
  });

  it('when two agents use the same key, then they get two different requests', async () => {
    const key = `key-${randomUUID()}`;
    const read = { action: 'customers.read', params: { customerId: 'cus_1234' }, reason: 'lookup' };
    const mine = await submit(h, read, key);
    const theirs = await h.service.submit(await agentOf(h, 'other-bot'), read, key);
    expect(theirs.created).toBe(true);
    expect(theirs.state.requestId).not.toBe(mine.state.requestId);
    await finalState(h, mine.state.requestId);
    await finalState(h, theirs.state.requestId);
    expect(target.callsFor(mine.state.requestId)).toHaveLength(1);
    expect(target.callsFor(theirs.state.requestId)).toHaveLength(1);
  });
});
