// A pending request's App Home row from visibility alone (pure: search attributes and memo in, a state or "ask the
// workflow" out), and the request facts a click identifies against, from the start memo.
import { describe, expect, it } from 'vitest';
import { initialState } from '../../src/contracts/lifecycle';
import type { ActionRequestInput, ApprovalRequirement } from '../../src/contracts/types';
import type { RequestExecution } from '../../src/temporal/adapter';
import { createRequestFactsCache, factsFromMemo } from '../../slack/request-facts';
import { pendingRow, REQUIREMENTS_MEMO_KEY } from '../../slack/requests';

const ID = 'req_0123456789abcdef0123456789abcdef';
const SUBMITTED = '2030-01-01T00:00:00.000Z';
const NOW = Date.parse('2030-01-01T00:00:10.000Z');

const finance: ApprovalRequirement = {
  ruleId: 'large-refunds',
  group: 'finance',
  quorum: 2,
  members: ['alice', 'bob', 'carol'],
  escalationMembers: [],
  usergroups: ['S0FIN'],
  expireAfterMs: 3_600_000,
};

function input(approvals: ApprovalRequirement[]): ActionRequestInput {
  return {
    requestId: ID,
    agent: { id: 'support-bot', owner: 'carol' },
    action: 'payments.refund',
    risk: 'high',
    params: { amount: 2500 },
    paramsHash: 'sha256:aaaa',
    reason: 'customer asked',
    onBehalfOf: 'ext@example.org',
    submittedAt: SUBMITTED,
    decision: {
      effect: 'require_approval',
      evaluatedEffect: 'require_approval',
      mode: 'enforce',
      rules: approvals.map((a) => a.ruleId),
      policyVersion: 'v1',
      approvals,
    },
    excludedApprovers: ['carol', 'ext@example.org'],
    connector: { name: 'billing', type: 'http', taskQueue: 'q', timeoutMs: 1000 },
  };
}

function execution(memo: Record<string, unknown>, overrides: Partial<RequestExecution> = {}): RequestExecution {
  return {
    id: ID,
    executionStatus: 'RUNNING',
    agent: 'support-bot',
    action: 'payments.refund',
    status: 'pending_approval',
    approvers: ['alice', 'bob'],
    memo,
    startTime: SUBMITTED,
    ...overrides,
  };
}

describe('rows and facts from visibility', () => {
  it('when the memo holds the progress, then the row shows it with the status and approvers of the search attributes', () => {
    const progress = [
      {
        ruleId: 'large-refunds',
        group: 'finance',
        quorum: 2,
        approvedBy: ['alice'],
        satisfied: false,
        escalated: true,
      },
    ];
    const row = pendingRow(
      execution(
        { request: initialState(input([finance])), [REQUIREMENTS_MEMO_KEY]: progress },
        { approvers: ['alice', 'bob', 'erin'] },
      ),
      NOW,
    );
    expect(row).toMatchObject({ requestId: ID, status: 'pending_approval', requirements: progress });
    expect(row?.eligibleApprovers).toEqual(['alice', 'bob', 'erin']);
  });

  it('when the memo holds no progress, then only a request one approval would end, with no escalation due, is shown as submitted', () => {
    expect(pendingRow(execution({ request: initialState(input([finance])) }), NOW)).toBeUndefined();
    const single = { ...finance, quorum: 1 };
    expect(pendingRow(execution({ request: initialState(input([single])) }), NOW)?.requirements[0]).toMatchObject({
      approvedBy: [],
      quorum: 1,
    });
    const escalating = { ...single, escalateAfterMs: 5_000, escalateTo: 'security' };
    expect(pendingRow(execution({ request: initialState(input([escalating])) }), NOW)).toBeUndefined();
    expect(pendingRow(execution({ request: initialState(input([escalating])) }), NOW - 6_000)).toBeDefined();
  });

  it('when the workflow no longer runs or the memo is not a start state, then the row is not pending or must be read', () => {
    const single = { ...finance, quorum: 1 };
    const closed = pendingRow(
      execution({ request: initialState(input([single])) }, { executionStatus: 'TERMINATED' }),
      NOW,
    );
    expect(closed?.status).toBe('terminated');
    expect(pendingRow(execution({}), NOW)).toBeUndefined();
    expect(
      pendingRow(execution({ request: { ...initialState(input([single])), requestId: 'other' } }), NOW),
    ).toBeUndefined();
    const badProgress = { request: initialState(input([single])), [REQUIREMENTS_MEMO_KEY]: [{ ruleId: 1 }] };
    expect(pendingRow(execution(badProgress), NOW)?.requirements[0]?.approvedBy).toEqual([]);
  });

  it('when the start memo holds the request, then its fixed facts are read from it; a slimmed memo yields none', () => {
    const memo = { request: initialState(input([{ ...finance, escalationUsergroups: ['S0SEC'] }])) };
    expect(factsFromMemo(memo, ID)).toEqual({
      requestId: ID,
      agent: { id: 'support-bot', owner: 'carol' },
      action: 'payments.refund',
      onBehalfOf: 'ext@example.org',
      decision: { approvals: [{ ...finance, escalationUsergroups: ['S0SEC'] }] },
      expiresAt: '2030-01-01T01:00:00.000Z',
    });
    expect(factsFromMemo(memo, 'req_other')).toBeUndefined();
    expect(factsFromMemo({ request: { requestId: ID, agent: { id: 'support-bot' } } }, ID)).toBeUndefined();
    expect(factsFromMemo({}, ID)).toBeUndefined();
  });

  it('when facts are cached, then they stay until shortly after the request expires and the oldest go first when full', () => {
    let now = Date.parse(SUBMITTED);
    const cache = createRequestFactsCache({ max: 2, graceMs: 1_000, now: () => now });
    const state = initialState(input([finance]));
    cache.remember(state);
    cache.remember({ ...state, requestId: 'req_b' });
    expect(cache.get(ID)?.agent.owner).toBe('carol');
    cache.remember({ ...state, requestId: 'req_c' });
    expect(cache.get(ID)).toBeUndefined();
    expect(cache.size).toBe(2);
    now = Date.parse('2030-01-01T01:00:00.500Z');
    expect(cache.get('req_b')).toBeDefined();
    now = Date.parse('2030-01-01T01:00:01.000Z');
    expect(cache.get('req_b')).toBeUndefined();
  });
});
