// The mapping of request statuses to MCP task statuses, and the task a request reads as: pure functions, no server.
import { describe, expect, it } from 'vitest';
import { REQUEST_STATUSES, type ActionRequestState, type RequestStatus } from '../../src/contracts/types';
import { createTaskResult, taskOf, taskStatusOf } from '../../src/mcp/tasks';

const EXPECTED: Record<RequestStatus, string> = {
  pending_approval: 'input_required',
  approved: 'working',
  executing: 'working',
  succeeded: 'completed',
  failed: 'failed',
  denied: 'failed',
  rejected: 'failed',
  expired: 'failed',
  cancelled: 'cancelled',
  terminated: 'failed',
};

const state = (status: RequestStatus): ActionRequestState =>
  ({
    requestId: `req_${'a'.repeat(32)}`,
    status,
    agent: { id: 'bot', owner: 'carol' },
    action: 'email.send_external',
    risk: 'medium',
    paramsHash: 'h',
    reason: 'asked',
    submittedAt: '2026-12-01T10:00:00.000Z',
    decision: { effect: 'require_approval', rules: ['email-approval'], policyVersion: 'v1' },
    eligibleApprovers: ['alice'],
    requirements: [{ group: 'communications', quorum: 1, approvedBy: [], satisfied: false }],
    approvals: [],
    rejections: [],
    refused: [],
    timeline: [
      { at: '2026-12-01T10:00:00.000Z', event: 'submitted' },
      { at: '2026-12-01T10:05:00.000Z', event: status },
    ],
  }) as unknown as ActionRequestState;

describe('MCP task status', () => {
  it.each(REQUEST_STATUSES)('when a request is %s, then its task reads as the mapped status', (status) => {
    expect(taskStatusOf(status)).toBe(EXPECTED[status]);
  });

  it('when a request waits for people, then its task carries the request id, its times, no ttl and a poll interval', () => {
    const task = taskOf(state('pending_approval'));
    expect(task).toMatchObject({
      taskId: `req_${'a'.repeat(32)}`,
      status: 'input_required',
      createdAt: '2026-12-01T10:00:00.000Z',
      lastUpdatedAt: '2026-12-01T10:05:00.000Z',
      ttl: null,
    });
    expect(task.pollInterval).toBeGreaterThan(0);
    expect(task.statusMessage).toContain('needs approval');
  });

  it('when a request has ended, then its task suggests no further polling', () => {
    expect(taskOf(state('succeeded')).pollInterval).toBeUndefined();
    expect(createTaskResult(state('denied')).task.status).toBe('failed');
  });
});
