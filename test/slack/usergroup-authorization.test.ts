// Slack user groups in the shared authorization code: an attested membership counts only for user groups the
// request's requirements list (escalation ones once escalated), and never overrides self-approval.
import { describe, expect, it } from 'vitest';
import {
  authorizeDecision,
  eligibleUsergroups,
  requirementProgress,
  type DecisionContext,
} from '../../src/contracts/authorization';
import { applyDecision, applyEscalation, createLifecycle } from '../../src/contracts/lifecycle';
import type { ActionRequestInput, ApprovalRequirement, DecisionSubmission } from '../../src/contracts/types';

const HASH = 'sha256:aaaa';
const finance: ApprovalRequirement = {
  ruleId: 'large-refunds',
  group: 'finance',
  quorum: 2,
  members: ['alice'],
  usergroups: ['S0FIN'],
  escalateTo: 'security',
  escalationMembers: ['erin'],
  escalationUsergroups: ['S0SEC'],
  expireAfterMs: 60_000,
};

const ctx = (escalated: string[] = []): DecisionContext => ({
  status: 'pending_approval',
  paramsHash: HASH,
  excludedApprovers: ['carol'],
  eligibleApprovers: ['alice'],
  decidedBy: [],
  eligibleUsergroups: eligibleUsergroups([finance], new Set(escalated)),
});

const submission = (approver: string, usergroups?: string[]): DecisionSubmission => ({
  approver,
  decision: 'approve',
  channel: 'slack',
  paramsHash: HASH,
  at: '2030-01-01T00:00:00Z',
  ...(usergroups ? { usergroups } : {}),
});

describe('authorization with Slack user groups', () => {
  it('when a non-member attests a listed user group, then the decision counts; an unlisted one does not', () => {
    expect(authorizeDecision(ctx(), submission('slack:U0ZED', ['S0FIN']))).toBeUndefined();
    expect(authorizeDecision(ctx(), submission('slack:U0ZED', ['S0OTHER']))).toBe('not_an_approver');
    expect(authorizeDecision(ctx(), submission('slack:U0ZED'))).toBe('not_an_approver');
  });

  it('when the escalation has not fired, then the escalation user group is not yet eligible', () => {
    expect(authorizeDecision(ctx(), submission('slack:U0SEC', ['S0SEC']))).toBe('not_an_approver');
    expect(authorizeDecision(ctx(['large-refunds']), submission('slack:U0SEC', ['S0SEC']))).toBeUndefined();
  });

  it('when an excluded person attests a user group, then self-approval still wins', () => {
    expect(authorizeDecision(ctx(), submission('carol', ['S0FIN']))).toBe('self_approval');
  });

  it('when approvals carry attested user groups, then they count toward the requirements listing them', () => {
    const memberships = new Map([
      ['slack:U0ZED', ['S0FIN']],
      ['slack:U0SEC', ['S0SEC']],
    ]);
    const before = requirementProgress([finance], ['alice', 'slack:U0ZED', 'slack:U0SEC'], new Set(), memberships);
    expect(before[0]).toMatchObject({ approvedBy: ['alice', 'slack:U0ZED'], satisfied: true });
    const withoutAttestation = requirementProgress([finance], ['alice', 'slack:U0ZED'], new Set());
    expect(withoutAttestation[0]).toMatchObject({ approvedBy: ['alice'], satisfied: false });
  });

  // Slack attests membership in every user group a request lists, escalation targets included, without reading the
  // request's state: the workflow alone decides which attestations count, by what is eligible when a decision arrives.
  it('when an approval attests a user group that is not yet eligible, then it never counts, not even after the escalation', () => {
    const l = createLifecycle(requestInput([{ ...finance, quorum: 3 }]));
    expect(applyDecision(l, submission('slack:U0BOTH', ['S0FIN', 'S0SEC']), '2030-01-01T00:00:01Z')).toBeUndefined();
    expect(l.attestedUsergroups.get('slack:U0BOTH')).toEqual(['S0FIN']);
    expect(applyDecision(l, submission('slack:U0SEC', ['S0FIN', 'S0SEC'].slice(1)), '2030-01-01T00:00:02Z')).toBe(
      'not_an_approver',
    );

    applyEscalation(l, '2030-01-01T00:00:03Z', 'large-refunds', 'finance', 'security');
    // U0BOTH counts once through S0FIN; U0SEC's refused attempt stays refused; S0SEC counts from now on.
    expect(l.state.requirements[0]).toMatchObject({ approvedBy: ['slack:U0BOTH'], escalated: true });
    expect(applyDecision(l, submission('slack:U0SEC', ['S0SEC']), '2030-01-01T00:00:04Z')).toBeUndefined();
    expect(l.state.requirements[0]?.approvedBy).toEqual(['slack:U0BOTH', 'slack:U0SEC']);
    expect(l.state.refused.map((r) => r.refusal)).toEqual(['not_an_approver']);
  });

  it('when an attested user group is eligible for one requirement and the escalation target of another, then it counts for the second once escalated, as a person listed in both would', () => {
    const ops: ApprovalRequirement = {
      ruleId: 'ops-review',
      group: 'ops',
      quorum: 1,
      members: ['dana'],
      escalationMembers: [],
      usergroups: ['S0SEC'],
      expireAfterMs: 60_000,
    };
    const l = createLifecycle(requestInput([{ ...finance, escalationMembers: ['erin', 'dana'] }, ops]));
    expect(applyDecision(l, submission('slack:U0SEC', ['S0SEC']), '2030-01-01T00:00:01Z')).toBeUndefined();
    expect(applyDecision(l, submission('dana'), '2030-01-01T00:00:02Z')).toBeUndefined();
    expect(l.state.requirements.map((r) => r.approvedBy)).toEqual([[], ['slack:U0SEC', 'dana']]);
    applyEscalation(l, '2030-01-01T00:00:03Z', 'large-refunds', 'finance', 'security');
    expect(l.state.requirements.map((r) => r.approvedBy)).toEqual([
      ['slack:U0SEC', 'dana'],
      ['slack:U0SEC', 'dana'],
    ]);
  });
});

function requestInput(approvals: ApprovalRequirement[]): ActionRequestInput {
  return {
    requestId: 'req_0123456789abcdef0123456789abcdef',
    agent: { id: 'support-bot', owner: 'carol' },
    action: 'payments.refund',
    risk: 'high',
    params: {},
    paramsHash: HASH,
    reason: 'test',
    submittedAt: '2030-01-01T00:00:00Z',
    decision: {
      effect: 'require_approval',
      evaluatedEffect: 'require_approval',
      mode: 'enforce',
      rules: approvals.map((a) => a.ruleId),
      policyVersion: 'v1',
      approvals,
    },
    excludedApprovers: ['carol'],
    connector: { name: 'billing', type: 'http', taskQueue: 'q', timeoutMs: 1000 },
  };
}
