// The memo a request starts with: smaller than the state at submit (it is stored three times per request), and still
// everything a read without a worker shows.
import { describe, expect, it } from 'vitest';
import { initialState } from '../../src/contracts/lifecycle';
import type { ActionRequestInput, ActionRequestState } from '../../src/contracts/types';
import { presentRequest } from '../../src/http/present';
import { startMemo } from '../../src/temporal/adapter';

const AT = '2026-01-01T10:00:00.000Z';

function input(): ActionRequestInput {
  return {
    requestId: 'req_0123456789abcdef0123456789abcdef',
    agent: { id: 'support-bot', owner: 'carol' },
    action: 'payments.refund',
    risk: 'high',
    params: { amount: 5000 },
    paramsHash: 'sha256:aaaa',
    reason: 'customer asked',
    target: { system: 'billing', environment: 'production' },
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
          escalationMembers: [],
          expireAfterMs: 60_000,
        },
      ],
      signals: {
        firstUse: true,
        volumeAboveBaseline: false,
        outsideWorkingHours: false,
        recentVolume: 1,
        baselineVolume: 0,
        repeatedRefusals: false,
        recentRefusals: 0,
        raised: ['firstUse'],
      },
      inputs: {
        time: AT,
        agent: { description: 'Answers customer tickets.', allowedActions: ['payments.refund'] },
        usage: {},
      },
    },
    excludedApprovers: ['carol'],
    connector: { name: 'billing', type: 'http', taskQueue: 'q', timeoutMs: 1000 },
  };
}

describe('the start memo', () => {
  it('when a request starts, then its memo keeps the state at submit without the policy evaluation record', () => {
    const memo = startMemo(input(), { nonce: 'n' });
    const request = memo.request as ActionRequestState;
    const full = initialState(input());
    expect(request.decision.signals).toBeUndefined();
    expect(request.decision.inputs).toBeUndefined();
    expect(request.decision.approvals).toEqual(full.decision.approvals);
    expect({ ...request, decision: undefined }).toEqual({ ...full, decision: undefined });
    expect(JSON.stringify(request).length).toBeLessThan(JSON.stringify(full).length);
    expect(memo).toMatchObject({ nonce: 'n', groups: ['finance'] });
  });

  it('when a read without a worker presents the memo, then it shows what the full state at submit shows', () => {
    // A memo written by an older version holds the full state; either presents the same.
    const request = startMemo(input(), {}).request as ActionRequestState;
    expect(presentRequest(structuredClone(request))).toEqual(presentRequest(initialState(input())));
  });
});
