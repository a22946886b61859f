// The current workflow generation (WORKFLOW_GENERATION): no patch markers, one search-attribute upsert per status a
// list filters on, no outcome activity when there is nothing to notify, and, laid out as dev mode runs it, the
// connector's activity on the control queue. Older generations replay through their patches (test/replay).
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROGRESS_MEMO_KEY, WORKFLOW_GENERATION } from '../../src/contracts/names';
import type { RequirementProgress } from '../../src/contracts/types';
import { testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { createRecordingNotifier, finalState, refund, submit, waitForState } from './helpers';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

async function historyOf(h: Harness, id: string): Promise<HistoryEvent[]> {
  return (await h.client.workflow.getHandle(id).fetchHistory()).events ?? [];
}

const markers = (events: HistoryEvent[]) =>
  events.flatMap((e) => (e.markerRecordedEventAttributes ? [e.markerRecordedEventAttributes.markerName ?? ''] : []));
const upsertedKeys = (events: HistoryEvent[]) =>
  events.flatMap((e) =>
    e.upsertWorkflowSearchAttributesEventAttributes
      ? [Object.keys(e.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields ?? {}).sort()]
      : [],
  );
const scheduled = (events: HistoryEvent[]) =>
  events.flatMap((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    return a ? [{ type: a.activityType?.name ?? '', queue: a.taskQueue?.name ?? '' }] : [];
  });

describe('the current workflow generation', () => {
  let target: TargetServer;
  let h: Harness;
  const notifier = createRecordingNotifier();
  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_test_secret_value';
    target = await startTargetServer();
    h = await startHarness({ config: testConfig({ targetHost: target.host }), colocated: true, notifier });
  });
  afterAll(async () => {
    await h?.close();
    await target?.close();
  });

  it('when an allowed request runs, then its history has no marker, one status upsert, only the connector activity on the control queue, and its end is counted', async () => {
    const { state } = await submit(
      h,
      refund(25, { params: { paymentId: 'pay_gen2allow', amount: 25, currency: 'USD' } }),
    );
    const final = await finalState(h, state.requestId);
    expect(final.status).toBe('succeeded');
    expect(target.callsFor(state.requestId)).toHaveLength(1);

    const events = await historyOf(h, state.requestId);
    const input = events[0]?.workflowExecutionStartedEventAttributes;
    expect(input).toBeDefined();
    // The re-check is the only local activity; no patch marker, so no TemporalChangeVersion upsert either.
    expect(markers(events).filter((m) => m !== 'core_local_activity')).toEqual([]);
    expect(markers(events)).toHaveLength(1);
    expect(upsertedKeys(events)).toEqual([['CsApprovers', 'CsStatus']]);
    expect(scheduled(events)).toEqual([{ type: 'executeConnectorAction', queue: h.taskQueues.control }]);
    // Nothing to notify: the worker was told through its sink, not an activity.
    await expect
      .poll(() => notifier.outcomes.filter((o) => o.requestId === state.requestId))
      .toEqual([{ requestId: state.requestId, status: 'succeeded' }]);
    expect(await h.metrics.text()).toMatch(
      /countersign_requests_closed_total\{action="payments\.refund",status="succeeded"\} [1-9]/,
    );
  });

  it('when a request is started, then its input names the current generation', async () => {
    const { state } = await submit(
      h,
      refund(30, { params: { paymentId: 'pay_gen2input', amount: 30, currency: 'USD' } }),
    );
    await finalState(h, state.requestId);
    const events = await historyOf(h, state.requestId);
    const payload = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    expect(payload).toBeDefined();
    const [decoded] = h.codec && payload ? await h.codec.decode([payload]) : [payload];
    const input = JSON.parse(Buffer.from(decoded?.data ?? new Uint8Array()).toString('utf8')) as {
      generation?: number;
    };
    expect(input.generation).toBe(WORKFLOW_GENERATION);
  });

  it('when a quorum request gets its first approval, then the memo carries the progress; on the second it executes without an approved upsert', async () => {
    const { state } = await submit(
      h,
      refund(5000, { params: { paymentId: 'pay_gen2quorum', amount: 5000, currency: 'USD' } }),
    );
    expect(state.status).toBe('pending_approval');
    await waitForState(h, state.requestId, (s) => s.timeline.length > 0);
    await h.service.decide(state.requestId, { ...OPERATOR_DECISION, approver: 'alice' });

    const memo = (await h.client.workflow.getHandle(state.requestId).describe()).memo ?? {};
    const progress = memo[PROGRESS_MEMO_KEY] as RequirementProgress[] | undefined;
    expect(progress?.map((r) => ({ group: r.group, approvedBy: r.approvedBy, satisfied: r.satisfied }))).toEqual(
      state.requirements.map((r) => ({ group: r.group, approvedBy: ['alice'], satisfied: r.quorum <= 1 })),
    );

    await h.service.decide(state.requestId, { ...OPERATOR_DECISION, approver: 'bob' });
    const final = await finalState(h, state.requestId);
    expect(final.status).toBe('succeeded');
    expect(target.callsFor(state.requestId)).toHaveLength(1);
    const events = await historyOf(h, state.requestId);
    expect(markers(events).filter((m) => m !== 'core_local_activity')).toEqual([]);
    // Executing (once, when the quorum is met) and the terminal status: never `approved` on its own.
    expect(upsertedKeys(events)).toEqual([
      ['CsApprovers', 'CsStatus'],
      ['CsApprovers', 'CsStatus'],
    ]);
    // The approvers' progress notice is scheduled after the connector's activity, never before it.
    const types = scheduled(events).map((s) => s.type);
    expect(types.indexOf('executeConnectorAction')).toBeGreaterThanOrEqual(0);
    expect(types.slice(types.indexOf('executeConnectorAction'))).toContain('notifyApprovers');
    expect(types.slice(types.indexOf('executeConnectorAction') + 1)).toContain('notifyOutcome');
  });
});

const OPERATOR_DECISION = { decision: 'approve' as const, reason: 'checked' };
