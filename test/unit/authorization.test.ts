import { describe, expect, it } from 'vitest';
import {
  authorizeDecision,
  describeRefusal,
  eligibleApprovers,
  requirementProgress,
  type DecisionContext,
} from '../../src/contracts/authorization';
import type { ApprovalRequirement, DecisionSubmission, RefusalCode } from '../../src/contracts/types';

const HASH = 'sha256:aaaa';

const ctx: DecisionContext = {
  status: 'pending_approval',
  paramsHash: HASH,
  excludedApprovers: ['carol', 'dana'],
  eligibleApprovers: ['alice', 'bob'],
  decidedBy: ['bob'],
};

function submission(approver: string, overrides: Partial<DecisionSubmission> = {}): DecisionSubmission {
  return { approver, decision: 'approve', channel: 'api', paramsHash: HASH, at: '2025-01-01T00:00:00Z', ...overrides };
}

const finance: ApprovalRequirement = {
  ruleId: 'large-refunds',
  group: 'finance',
  quorum: 2,
  members: ['alice', 'bob', 'carol'],
  escalateTo: 'security',
  escalateAfterMs: 1000,
  escalationMembers: ['erin'],
  expireAfterMs: 60_000,
};
const comms: ApprovalRequirement = {
  ruleId: 'email',
  group: 'communications',
  quorum: 1,
  members: ['dana', 'alice'],
  escalationMembers: [],
  expireAfterMs: 60_000,
};

describe('decision authorization', () => {
  it('when an eligible approver decides for the shown parameters, then the decision counts', () => {
    expect(authorizeDecision(ctx, submission('alice'))).toBeUndefined();
    expect(authorizeDecision(ctx, submission('alice', { decision: 'reject' }))).toBeUndefined();
  });

  it.each<[string, DecisionContext, DecisionSubmission, RefusalCode]>([
    ['the request is no longer pending', { ...ctx, status: 'approved' }, submission('alice'), 'already_decided'],
    ['the request has ended', { ...ctx, status: 'rejected' }, submission('alice'), 'already_decided'],
    ['the agent owner decides', ctx, submission('carol'), 'self_approval'],
    ['the person the request acts for decides', ctx, submission('dana'), 'self_approval'],
    ['someone outside the groups decides', ctx, submission('mallory'), 'not_an_approver'],
    ['an approver decides twice', ctx, submission('bob'), 'duplicate'],
    ['the approver saw other parameters', ctx, submission('alice', { paramsHash: 'sha256:bbbb' }), 'params_mismatch'],
  ])('when %s, then the decision is refused', (_, context, sub, code) => {
    expect(authorizeDecision(context, sub)).toBe(code);
    expect(describeRefusal(code)).toMatch(/\w/);
  });

  it('when the owner is also a group member, then self-approval wins over membership', () => {
    expect(authorizeDecision({ ...ctx, eligibleApprovers: ['alice', 'carol'] }, submission('carol'))).toBe(
      'self_approval',
    );
  });

  it('when computing eligibility, then excluded people are left out and escalation adds its group', () => {
    expect(eligibleApprovers([finance, comms], new Set(), ['carol'])).toEqual(['alice', 'bob', 'dana']);
    expect(eligibleApprovers([finance], new Set(['large-refunds']), ['carol'])).toEqual(['alice', 'bob', 'erin']);
  });

  it('when one person belongs to two required groups, then their approval counts toward each, quorum per group', () => {
    const progress = requirementProgress([finance, comms], ['alice'], new Set());
    expect(progress).toEqual([
      {
        ruleId: 'large-refunds',
        group: 'finance',
        quorum: 2,
        approvedBy: ['alice'],
        satisfied: false,
        escalated: false,
      },
      { ruleId: 'email', group: 'communications', quorum: 1, approvedBy: ['alice'], satisfied: true, escalated: false },
    ]);
    const escalated = requirementProgress([finance], ['alice', 'erin'], new Set(['large-refunds']));
    expect(escalated[0]).toMatchObject({ approvedBy: ['alice', 'erin'], satisfied: true, escalated: true });
  });
});
