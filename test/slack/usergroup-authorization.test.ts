// Slack user groups in the shared authorization code: an attested membership counts only for user groups the
// request's requirements list (escalation ones once escalated), and never overrides self-approval.
import { describe, expect, it } from 'vitest';
import {
  authorizeDecision,
  eligibleUsergroups,
  requirementProgress,
  type DecisionContext,
} from '../../src/contracts/authorization';
import type { ApprovalRequirement, DecisionSubmission } from '../../src/contracts/types';

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
});
