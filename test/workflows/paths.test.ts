// Every path of the action request workflow on the real dev server: allow, deny, quorum approval, rejection,
// cancellation, expiry, reminders and escalation, with the search attributes operators filter on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../src/contracts/names';
import { testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import {
  agentOf,
  createRecordingNotifier,
  email,
  finalState,
  OPERATOR,
  refund,
  submit,
  waitForState,
  type RecordingNotifier,
} from './helpers';

let target: TargetServer;

beforeAll(async () => {
  process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_paths_secret_value';
  target = await startTargetServer();
});
afterAll(async () => {
  await target?.close();
});

async function searchAttributes(h: Harness, id: string) {
  const { typedSearchAttributes: sa } = await h.client.workflow.getHandle(id).describe();
  return {
    agent: sa.get(SEARCH_ATTRIBUTES.agent),
    action: sa.get(SEARCH_ATTRIBUTES.action),
    status: sa.get(SEARCH_ATTRIBUTES.status),
    risk: sa.get(SEARCH_ATTRIBUTES.risk),
    policy: sa.get(SEARCH_ATTRIBUTES.policy),
    approvers: sa.get(SEARCH_ATTRIBUTES.approvers),
  };
}

describe('action request workflow paths (long timers)', () => {
  let h: Harness;
  let notifier: RecordingNotifier;
  beforeAll(async () => {
    notifier = createRecordingNotifier();
    h = await startHarness({ config: testConfig({ targetHost: target.host }), notifier });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('when policy allows, then the action executes once and the request succeeds with its search attributes', async () => {
    const { state, created } = await submit(h, refund(25));
    expect(created).toBe(true);
    expect(state.status).toBe('executing');
    const done = await finalState(h, state.requestId);
    expect(done.status).toBe('succeeded');
    expect(done.outcome).toMatchObject({ ok: true, status: 200, attempts: 1 });
    expect(done.decision).toMatchObject({ effect: 'allow', rules: ['small-refunds'] });
    expect(done.timeline.map((t) => t.event)).toEqual(['submitted', 'executing', 'succeeded']);
    expect(target.callsFor(state.requestId)).toHaveLength(1);
    expect(target.callsFor(state.requestId)[0]).toMatchObject({
      method: 'POST',
      path: '/v1/payments/pay_abcd1234/refunds',
    });
    expect(JSON.parse(target.callsFor(state.requestId)[0]!.body)).toEqual({ amount: 25, currency: 'USD' });
    expect(await searchAttributes(h, state.requestId)).toEqual({
      agent: 'support-bot',
      action: 'payments.refund',
      status: 'succeeded',
      risk: 'high',
      policy: done.decision.policyVersion,
      // Nobody needs to approve an allowed request; Temporal stores an empty keyword list as unset.
      approvers: undefined,
    });
    expect(notifier.outcomes).toContainEqual({ requestId: state.requestId, status: 'succeeded' });
  });

  it('when policy denies, then the request is denied with the rule reason and nothing is called', async () => {
    const { state } = await submit(h, {
      action: 'customers.delete',
      params: { customerId: 'cus_1234' },
      reason: 'cleanup',
      target: { system: 'crm', environment: 'production' },
    });
    const done = await finalState(h, state.requestId);
    expect(done.status).toBe('denied');
    expect(done.decision).toMatchObject({
      effect: 'deny',
      rules: ['no-production-deletes'],
      reason: 'Agents may not delete production data.',
    });
    expect(done.outcome).toBeUndefined();
    expect(done.timeline.map((t) => t.event)).toEqual(['submitted', 'denied']);
    expect(target.callsFor(state.requestId)).toHaveLength(0);
    expect(await searchAttributes(h, state.requestId)).toMatchObject({
      status: 'denied',
      risk: 'critical',
      action: 'customers.delete',
    });
  });

  it('when no rule matches, then the request is denied by default and nothing is called', async () => {
    const { state } = await submit(h, {
      action: 'customers.delete',
      params: { customerId: 'cus_5678' },
      reason: 'cleanup',
      target: { environment: 'staging' },
    });
    const done = await finalState(h, state.requestId);
    expect(done).toMatchObject({ status: 'denied', decision: { effect: 'deny', rules: [] } });
    expect(target.callsFor(state.requestId)).toHaveLength(0);
  });

  it('when two distinct finance approvers approve a large refund, then it executes exactly once', async () => {
    const { state } = await submit(h, refund(5000));
    expect(state.status).toBe('pending_approval');
    const parked = await waitForState(
      h,
      state.requestId,
      (s) => s.timeline.length > 0 && s.status === 'pending_approval',
    );
    // The agent's owner (carol) is in finance but may never approve her own agent's request.
    expect(parked.eligibleApprovers).toEqual(['alice', 'bob']);
    expect((await searchAttributes(h, state.requestId)).approvers).toEqual(['alice', 'bob']);
    expect((await searchAttributes(h, state.requestId)).status).toBe('pending_approval');

    const afterOne = await h.service.decide(state.requestId, { decision: 'approve', approver: 'alice', reason: 'ok' });
    expect(afterOne.status).toBe('pending_approval');
    expect(afterOne.requirements).toEqual([
      expect.objectContaining({ group: 'finance', quorum: 2, approvedBy: ['alice'], satisfied: false }),
    ]);
    expect(target.callsFor(state.requestId)).toHaveLength(0);

    await h.service.decide(state.requestId, { decision: 'approve', approver: 'bob' });
    const done = await finalState(h, state.requestId);
    expect(done.status).toBe('succeeded');
    expect(done.approvals.map((a) => a.approver)).toEqual(['alice', 'bob']);
    expect(done.timeline.map((t) => t.event)).toEqual([
      'submitted',
      'approval',
      'approval',
      'approved',
      'executing',
      'succeeded',
    ]);
    expect(target.callsFor(state.requestId)).toHaveLength(1);
    expect(await searchAttributes(h, state.requestId)).toMatchObject({ status: 'succeeded' });
    expect(notifier.kindsFor(state.requestId)).toEqual(expect.arrayContaining(['requested', 'progress']));
  });

  it('when one approver rejects, then the request is rejected and nothing is called', async () => {
    const { state } = await submit(h, refund(2500));
    await h.service.decide(state.requestId, { decision: 'approve', approver: 'alice' });
    await h.service.decide(state.requestId, { decision: 'reject', approver: 'bob', reason: 'duplicate refund' });
    const done = await finalState(h, state.requestId);
    expect(done.status).toBe('rejected');
    expect(done.rejections).toEqual([
      expect.objectContaining({ approver: 'bob', reason: 'duplicate refund', channel: 'api' }),
    ]);
    expect(target.callsFor(state.requestId)).toHaveLength(0);
    expect(await searchAttributes(h, state.requestId)).toMatchObject({ status: 'rejected' });
  });

  it('when the agent cancels a pending request, then it ends cancelled and nothing is called', async () => {
    const agent = await agentOf(h, 'support-bot');
    const { state } = await submit(h, email());
    await waitForState(h, state.requestId, (s) => s.timeline.length > 0);
    const cancelled = await h.service.cancel({ kind: 'agent', agent }, state.requestId, 'customer withdrew');
    expect(cancelled.status).toBe('cancelled');
    const done = await finalState(h, state.requestId);
    expect(done.cancellation).toMatchObject({ by: 'agent:support-bot', reason: 'customer withdrew' });
    expect(target.callsFor(state.requestId)).toHaveLength(0);
    expect(await searchAttributes(h, state.requestId)).toMatchObject({ status: 'cancelled' });
    await expect(h.service.cancel(OPERATOR, state.requestId)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('when another agent asks to cancel, then the request is not found for it and stays pending', async () => {
    const other = await agentOf(h, 'other-bot');
    const { state } = await submit(h, email());
    await expect(h.service.cancel({ kind: 'agent', agent: other }, state.requestId)).rejects.toMatchObject({
      code: 'not_found',
    });
    expect((await waitForState(h, state.requestId, (s) => s.timeline.length > 0)).status).toBe('pending_approval');
    await h.service.cancel(OPERATOR, state.requestId, 'test cleanup');
    expect((await finalState(h, state.requestId)).cancellation?.by).toBe('operator:ops');
  });

  it('when shadow mode would deny, then the request goes through and the record keeps what would have happened', async () => {
    const shadow = await startHarness({ config: testConfig({ targetHost: target.host, mode: 'shadow' }) });
    try {
      const { state } = await shadow.service.submit(await agentOf(shadow, 'support-bot'), {
        action: 'customers.delete',
        params: { customerId: 'cus_9999' },
        reason: 'cleanup',
        target: { environment: 'production' },
      });
      const done = await finalState(shadow, state.requestId);
      expect(done.status).toBe('succeeded');
      expect(done.decision).toMatchObject({
        effect: 'allow',
        evaluatedEffect: 'deny',
        mode: 'shadow',
        rules: ['no-production-deletes'],
      });
      expect(done.timeline[0]?.detail).toMatch(/policy deny \(shadow\)/);
      expect(target.callsFor(state.requestId)).toHaveLength(1);
    } finally {
      await shadow.close();
    }
  });
});

describe('several approval rules at once', () => {
  it('when two approval rules match, then each must be satisfied before anything executes', async () => {
    // Appended to the rules list of the test config: very large refunds also need security.
    const hugeRefunds = `    - id: huge-refunds
      match: { actions: [payments.refund] }
      when: params.amount > 10000
      effect: require_approval
      approvers: security
      expireAfter: 30m
`;
    const h = await startHarness({ config: testConfig({ targetHost: target.host, extraYaml: hugeRefunds }) });
    try {
      const { state } = await submit(h, refund(20_000));
      expect(state.decision.rules).toEqual(['large-refunds', 'huge-refunds']);
      const parked = await waitForState(h, state.requestId, (s) => s.timeline.length > 0);
      expect(parked.eligibleApprovers).toEqual(['alice', 'bob', 'erin']);
      // The earliest expiry governs: 30 minutes, not the hour of large-refunds.
      expect(Date.parse(parked.expiresAt!) - Date.parse(parked.timeline[0]!.at)).toBeLessThanOrEqual(30 * 60_000);

      await h.service.decide(state.requestId, { decision: 'approve', approver: 'alice' });
      const financeDone = await h.service.decide(state.requestId, { decision: 'approve', approver: 'bob' });
      expect(financeDone.status).toBe('pending_approval');
      expect(financeDone.requirements.map((r) => [r.group, r.satisfied])).toEqual([
        ['finance', true],
        ['security', false],
      ]);
      expect(target.callsFor(state.requestId)).toHaveLength(0);

      await h.service.decide(state.requestId, { decision: 'approve', approver: 'erin' });
      const done = await finalState(h, state.requestId);
      expect(done.status).toBe('succeeded');
      expect(done.requirements.every((r) => r.satisfied)).toBe(true);
      expect(target.callsFor(state.requestId)).toHaveLength(1);
    } finally {
      await h.close();
    }
  });
});

describe('action request workflow timers', () => {
  it('when nobody decides before expireAfter, then the request expires and nothing is called', async () => {
    const h = await startHarness({ config: testConfig({ targetHost: target.host, expireAfter: '2s' }) });
    try {
      const { state } = await submit(h, refund(3000));
      expect(state.expiresAt).toBeDefined();
      const done = await finalState(h, state.requestId);
      expect(done.status).toBe('expired');
      expect(done.timeline.map((t) => t.event)).toEqual(['submitted', 'expired']);
      const waited = Date.parse(done.timeline[1]!.at) - Date.parse(done.timeline[0]!.at);
      expect(waited).toBeGreaterThanOrEqual(1900);
      expect(target.callsFor(state.requestId)).toHaveLength(0);
      expect((await searchAttributes(h, state.requestId)).status).toBe('expired');
      await expect(h.service.decide(state.requestId, { decision: 'approve', approver: 'alice' })).rejects.toMatchObject(
        {
          code: 'decision_refused',
          errors: [{ path: 'approver', message: 'already_decided' }],
        },
      );
    } finally {
      await h.close();
    }
  });

  describe('reminders and escalation', () => {
    let h: Harness;
    let notifier: RecordingNotifier;
    beforeAll(async () => {
      notifier = createRecordingNotifier();
      h = await startHarness({
        config: testConfig({ targetHost: target.host, remindAfter: '1s', escalateAfter: '2s', expireAfter: '60s' }),
        notifier,
      });
    });
    afterAll(async () => {
      await h?.close();
    });

    it('when remindAfter passes without a decision, then approvers get a reminder, and again after each period', async () => {
      const { state } = await submit(h, email());
      const reminded = await waitForState(
        h,
        state.requestId,
        (s) => s.timeline.filter((t) => t.event === 'reminder').length >= 2,
      );
      expect(reminded.status).toBe('pending_approval');
      expect(reminded.timeline.find((t) => t.event === 'reminder')?.detail).toBe('communications');
      await expect
        .poll(() =>
          notifier.approverNotifications.filter((n) => n.requestId === state.requestId && n.kind === 'reminder'),
        )
        .toEqual(
          expect.arrayContaining([
            expect.objectContaining({ kind: 'reminder', group: 'communications', status: 'pending_approval' }),
          ]),
        );
      expect(notifier.kindsFor(state.requestId)[0]).toBe('requested');
      await h.service.cancel(OPERATOR, state.requestId, 'test cleanup');
    });

    it('when escalateAfter passes, then the escalation group becomes eligible, CsApprovers follows, and it can approve', async () => {
      const { state } = await submit(h, email());
      const before = await waitForState(h, state.requestId, (s) => s.timeline.length > 0);
      expect(before.eligibleApprovers).toEqual(['dana', 'alice']);
      await expect(h.service.decide(state.requestId, { decision: 'approve', approver: 'erin' })).rejects.toMatchObject({
        code: 'decision_refused',
        errors: [{ message: 'not_an_approver' }],
      });

      const escalated = await waitForState(h, state.requestId, (s) => s.timeline.some((t) => t.event === 'escalated'));
      expect(escalated.eligibleApprovers).toEqual(['dana', 'alice', 'erin']);
      expect(escalated.requirements[0]).toMatchObject({ group: 'communications', escalated: true });
      expect(
        (await h.client.workflow.getHandle(state.requestId).describe()).typedSearchAttributes.get(
          SEARCH_ATTRIBUTES.approvers,
        ),
      ).toEqual(['dana', 'alice', 'erin']);
      await expect
        .poll(() =>
          notifier.approverNotifications.find((n) => n.requestId === state.requestId && n.kind === 'escalated'),
        )
        .toMatchObject({ group: 'security' });

      await h.service.decide(state.requestId, { decision: 'approve', approver: 'erin', reason: 'on call' });
      const done = await finalState(h, state.requestId);
      expect(done.status).toBe('succeeded');
      expect(done.approvals.map((a) => a.approver)).toEqual(['erin']);
      expect(done.refused).toEqual([expect.objectContaining({ approver: 'erin', refusal: 'not_an_approver' })]);
      expect(target.callsFor(state.requestId)).toHaveLength(1);
    });
  });
});
