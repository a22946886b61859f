// The request lifecycle's transitions, without Temporal: what the workflow wires to its handlers and timers.
import { describe, expect, it } from 'vitest';
import {
  applyCancel,
  applyDecision,
  applyEscalation,
  applyExpiry,
  applyTemporalCancel,
  applyUnexpectedFailure,
  beginExecution,
  blockExecution,
  bounded,
  createLifecycle,
  finishExecution,
  initialState,
  MAX_FAILURE_REASON,
  STANDING_UNCONFIRMED,
} from '../../src/contracts/lifecycle';
import type { ActionRequestInput, DecisionSubmission } from '../../src/contracts/types';

const HASH = 'sha256:aaaa';
const AT = '2026-01-01T10:00:00.000Z';

function input(overrides: Partial<ActionRequestInput> = {}): ActionRequestInput {
  return {
    requestId: 'req_0123456789abcdef0123456789abcdef',
    agent: { id: 'support-bot', owner: 'carol' },
    action: 'payments.refund',
    risk: 'high',
    params: { amount: 5000 },
    paramsHash: HASH,
    reason: 'customer asked',
    submittedAt: AT,
    decision: {
      effect: 'require_approval',
      evaluatedEffect: 'require_approval',
      mode: 'enforce',
      rules: ['large-refunds'],
      policyVersion: 'v1',
      approvals: [
        {
          ruleId: 'large-refunds',
          group: 'finance',
          quorum: 2,
          members: ['alice', 'bob', 'carol'],
          escalateTo: 'security',
          escalateAfterMs: 1000,
          escalationMembers: ['erin'],
          expireAfterMs: 60_000,
        },
      ],
    },
    excludedApprovers: ['carol'],
    connector: { name: 'billing', type: 'http', taskQueue: 'q', timeoutMs: 1000 },
    ...overrides,
  };
}

function vote(approver: string, overrides: Partial<DecisionSubmission> = {}): DecisionSubmission {
  return { approver, decision: 'approve', channel: 'api', paramsHash: HASH, at: AT, ...overrides };
}

describe('request lifecycle', () => {
  it('when a request starts, then its initial state is derived once: status by effect, expiry from submittedAt, owner excluded', () => {
    const state = initialState(input());
    expect(state.status).toBe('pending_approval');
    expect(state.expiresAt).toBe('2026-01-01T10:01:00.000Z');
    expect(state.eligibleApprovers).toEqual(['alice', 'bob']);
    expect(state.requirements).toEqual([
      { ruleId: 'large-refunds', group: 'finance', quorum: 2, approvedBy: [], satisfied: false, escalated: false },
    ]);
    expect(state.timeline).toEqual([
      { at: AT, event: 'submitted', detail: 'policy require_approval (enforce) by large-refunds' },
    ]);
    const allowed = input({ decision: { ...input().decision, effect: 'allow', approvals: [] } });
    expect(initialState(allowed)).toMatchObject({ status: 'executing' });
    expect(initialState(allowed).expiresAt).toBeUndefined();
    expect(initialState(input({ decision: { ...input().decision, effect: 'deny' } })).status).toBe('denied');
  });

  it('when two distinct approvers approve, then the quorum is met and progress is marked for the approvers', () => {
    const l = createLifecycle(input());
    expect(applyDecision(l, vote('alice'), AT)).toBeUndefined();
    expect(l.state.status).toBe('pending_approval');
    expect(l.progressDirty).toBe(true);
    expect(applyDecision(l, vote('bob'), AT)).toBeUndefined();
    expect(l.state.status).toBe('approved');
    expect(l.state.requirements[0]).toMatchObject({ approvedBy: ['alice', 'bob'], satisfied: true });
    expect(l.state.timeline.map((t) => t.event)).toEqual(['submitted', 'approval', 'approval', 'approved']);
  });

  it('when refused decisions arrive, then each is recorded with its code and none counts', () => {
    const l = createLifecycle(input());
    expect(applyDecision(l, vote('carol'), AT)).toBe('self_approval');
    expect(applyDecision(l, vote('mallory'), AT)).toBe('not_an_approver');
    expect(applyDecision(l, vote('alice', { paramsHash: 'sha256:bbbb' }), AT)).toBe('params_mismatch');
    expect(l.state.refused.map((r) => r.refusal)).toEqual(['self_approval', 'not_an_approver', 'params_mismatch']);
    expect(l.state.approvals).toEqual([]);
    expect(l.state.status).toBe('pending_approval');
  });

  it('when an approver rejects with a reason, then the request is rejected and keeps who, why and when', () => {
    const l = createLifecycle(input());
    applyDecision(l, vote('bob', { decision: 'reject', reason: 'duplicate refund' }), AT);
    expect(l.state.status).toBe('rejected');
    expect(l.state.rejections).toEqual([
      expect.objectContaining({ approver: 'bob', reason: 'duplicate refund', receivedAt: AT }),
    ]);
    expect(applyDecision(l, vote('alice'), AT)).toBe('already_decided');
  });

  it('when the escalation fires, then its members may approve and complete the quorum', () => {
    const l = createLifecycle(input());
    applyDecision(l, vote('alice'), AT);
    expect(applyDecision(l, vote('erin'), AT)).toBe('not_an_approver');
    applyEscalation(l, AT, 'large-refunds', 'finance', 'security');
    expect(l.state.eligibleApprovers).toContain('erin');
    expect(applyDecision(l, vote('erin'), AT)).toBeUndefined();
    expect(l.state.status).toBe('approved');
  });

  it('when a pending request is cancelled, then it ends cancelled; a later cancel is refused and recorded', () => {
    const l = createLifecycle(input());
    expect(applyCancel(l, { by: 'agent:support-bot', reason: 'withdrawn' }, AT)).toBe(true);
    expect(l.state).toMatchObject({
      status: 'cancelled',
      cancellation: { by: 'agent:support-bot', reason: 'withdrawn', at: AT },
    });
    expect(applyCancel(l, { by: 'operator:erin' }, AT)).toBe(false);
    expect(l.state.timeline.at(-1)).toMatchObject({ event: 'cancel_refused' });
  });

  it('when Temporal cancels a request not yet ended, then it ends cancelled by temporal with the reason; an ended one stays', () => {
    const l = createLifecycle(input());
    beginExecution(l);
    expect(applyTemporalCancel(l, AT, 'cleanup from the UI')).toBe(true);
    expect(l.state).toMatchObject({
      status: 'cancelled',
      cancellation: { by: 'temporal', reason: 'cleanup from the UI' },
    });
    const done = createLifecycle(input());
    finishExecution(done, AT, { ok: true, summary: '200 OK' });
    expect(applyTemporalCancel(done, AT)).toBe(false);
    expect(done.state.status).toBe('succeeded');
  });

  it('when the re-check cannot confirm the agent, then the request fails as not executed', () => {
    const l = createLifecycle(input());
    beginExecution(l);
    blockExecution(l, AT, 'agent standing could not be confirmed', STANDING_UNCONFIRMED);
    expect(l.state).toMatchObject({ status: 'failed', outcome: { ok: false, summary: STANDING_UNCONFIRMED } });
  });

  it('when an unexpected error ends the workflow, then the request fails with a bounded reason free of credentials', () => {
    const l = createLifecycle(input());
    const long = `connect ECONNREFUSED postgres://app:hunter2@db:5432 Bearer abc.def token=xyz ${'x'.repeat(500)}`;
    applyUnexpectedFailure(l, AT, long);
    expect(l.state.status).toBe('failed');
    const summary = l.state.outcome?.summary ?? '';
    expect(summary).not.toMatch(/hunter2|abc\.def|xyz /);
    expect(summary.length).toBeLessThanOrEqual(MAX_FAILURE_REASON + 'Not completed: '.length);
    expect(bounded('a\nb')).toBe('a b');
  });

  it('when the expiry fires, then the request expires', () => {
    const l = createLifecycle(input());
    applyExpiry(l, AT);
    expect(l.state.status).toBe('expired');
  });
});
