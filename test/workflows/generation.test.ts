// The current workflow generation (WORKFLOW_GENERATION): no patch markers, one search-attribute upsert per status a
// list filters on (`executing` only for an execution that takes a while), no outcome activity when there is nothing to notify, and, laid out as dev mode runs it, the
// connector's activity on the control queue. Older generations replay through their patches (test/replay).
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROGRESS_MEMO_KEY, SEARCH_ATTRIBUTES, WORKFLOW_GENERATION } from '../../src/contracts/names';
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
/** The status each search-attribute upsert of the history wrote, in order. */
const upsertedStatuses = (events: HistoryEvent[]) =>
  events.flatMap((e) => {
    const data = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.CsStatus?.data;
    return data ? [JSON.parse(Buffer.from(data).toString('utf8')) as string] : [];
  });
const signalNames = (events: HistoryEvent[]) =>
  events.flatMap((e) =>
    e.workflowExecutionSignaledEventAttributes ? [e.workflowExecutionSignaledEventAttributes.signalName] : [],
  );
/** The timers started from the first `activity` scheduled on. */
const timersAfter = (events: HistoryEvent[], activity: string) =>
  events
    .slice(events.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity))
    .filter((e) => e.timerStartedEventAttributes);
const scheduled = (events: HistoryEvent[]) =>
  events.flatMap((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    return a ? [{ type: a.activityType?.name ?? '', queue: a.taskQueue?.name ?? '' }] : [];
  });

/** The decoded first argument of every `type` activity the history scheduled. */
async function activityInputs(h: Harness, events: HistoryEvent[], type: string): Promise<Record<string, unknown>[]> {
  const payloads = events.flatMap((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    const first = a?.activityType?.name === type ? a.input?.payloads?.[0] : undefined;
    return first ? [first] : [];
  });
  const decoded = h.codec ? await h.codec.decode(payloads) : payloads;
  return decoded.map(
    (p) => JSON.parse(Buffer.from(p.data ?? new Uint8Array()).toString('utf8')) as Record<string, unknown>,
  );
}

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
    // No patch marker (so no TemporalChangeVersion upsert) and no local activity: the re-check ran in the connector's.
    expect(markers(events)).toEqual([]);
    expect(upsertedKeys(events)).toEqual([['CsApprovers', 'CsStatus']]);
    expect(scheduled(events)).toEqual([{ type: 'executeCheckedAction', queue: h.taskQueues.control }]);
    expect(final.timeline.map((t) => t.event)).toEqual(['submitted', 'executing', 'succeeded']);
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

  it('when a quorum request gets its first approval, then the memo carries the progress; on the second it executes with no upsert before its outcome', async () => {
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
    expect(markers(events)).toEqual([]);
    // The terminal status only: never `approved` on its own, and a fast execution is never listed as `executing`.
    expect(upsertedKeys(events)).toEqual([['CsApprovers', 'CsStatus']]);
    expect(upsertedStatuses(events)).toEqual(['succeeded']);
    // No timer beside the execution: the connector's activity would have said if it ran long.
    expect(timersAfter(events, 'executeCheckedAction')).toEqual([]);
    // A fast execution goes straight to its outcome notice: no "executing" notice ran beside it.
    const types = scheduled(events).map((s) => s.type);
    const at = types.indexOf('executeCheckedAction');
    expect(at).toBeGreaterThan(0);
    expect(types.slice(at + 1)).toEqual(['notifyOutcome']);
    // The quorum's "1 of 2" notice, never an "executing" one.
    const notices = notifier.approverNotifications.filter(
      (n) => n.requestId === state.requestId && n.kind === 'progress',
    );
    expect(notices.map((n) => n.status)).toEqual(['pending_approval']);

    // The notices got the request without its timeline and the policy's signals and inputs, and the timeline's
    // length as their revision: the requested, the "1 of 2" and the outcome notice, each later than the one before.
    const notified = [
      ...(await activityInputs(h, events, 'notifyApprovers')),
      ...(await activityInputs(h, events, 'notifyOutcome')),
    ].map((input) => input.state as Record<string, unknown> & { decision: Record<string, unknown> });
    expect(notified).toHaveLength(3);
    // The workflow's own state keeps what the notices leave out.
    expect(final.decision).toHaveProperty('inputs');
    for (const n of notified) {
      expect(n.requestId).toBe(state.requestId);
      expect(n).not.toHaveProperty('timeline');
      expect(n.decision).not.toHaveProperty('signals');
      expect(n.decision).not.toHaveProperty('inputs');
      expect(n.decision.approvals).toEqual(state.decision.approvals);
    }
    const revisions = notified.map((n) => n.revision as number);
    expect(revisions.at(-1)).toBe(final.timeline.length);
    expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
    expect(new Set(revisions).size).toBe(3);
  });
});

describe('the re-check inside the connector activity', () => {
  let target: TargetServer;
  let h: Harness;
  let halted: string | undefined;
  let guardDownFor = 0;
  const notifier = createRecordingNotifier();
  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_test_secret_value';
    target = await startTargetServer();
    h = await startHarness({
      // Calls may take longer than the executing notice's delay.
      config: testConfig({ targetHost: target.host, connectorTimeout: '10s' }),
      colocated: true,
      notifier,
      // The kill-switch store: only the re-check asks it, so its failures reach nothing else.
      guard: {
        blockedReason() {
          if (guardDownFor > 0) {
            guardDownFor -= 1;
            return Promise.reject(new Error('kill-switch store unreachable'));
          }
          return Promise.resolve(halted);
        },
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    await target?.close();
  });

  it('when the kill switch is on as an approved request would execute, then it is blocked in the activity and nothing is called', async () => {
    const { state } = await submit(
      h,
      refund(5000, { params: { paymentId: 'pay_gen2halt', amount: 5000, currency: 'USD' } }),
    );
    await waitForState(h, state.requestId, (s) => s.timeline.length > 0);
    await h.service.decide(state.requestId, { ...OPERATOR_DECISION, approver: 'alice' });
    halted = 'payments frozen';
    try {
      await h.service.decide(state.requestId, { ...OPERATOR_DECISION, approver: 'bob' });
      const final = await finalState(h, state.requestId);
      expect(final.status).toBe('failed');
      expect(final.outcome?.summary).toContain('kill switch: payments frozen');
      expect(final.timeline.map((t) => t.event)).not.toContain('executing');
      expect(target.callsFor(state.requestId)).toHaveLength(0);
    } finally {
      halted = undefined;
    }
  });

  it('when the kill-switch store cannot answer the activity’s re-check, then the workflow re-checks over its window and the request executes once', async () => {
    guardDownFor = 2;
    const { state } = await submit(
      h,
      refund(20, { params: { paymentId: 'pay_gen2down', amount: 20, currency: 'USD' } }),
    );
    const final = await finalState(h, state.requestId);
    expect(guardDownFor).toBe(0);
    expect(final.status).toBe('succeeded');
    expect(final.timeline.map((t) => t.event)).toEqual(['submitted', 'recheck_retrying', 'executing', 'succeeded']);
    expect(target.callsFor(state.requestId)).toHaveLength(1);
    const types = scheduled(await historyOf(h, state.requestId)).map((s) => s.type);
    expect(types).toEqual(['executeCheckedAction', 'executeConnectorAction']);
  });

  it('when the activity’s re-check cannot run for an approved request, then lists show it executing while the workflow re-checks, and it executes once', async () => {
    const { state } = await submit(
      h,
      refund(5000, { params: { paymentId: 'pay_gen3retry', amount: 5000, currency: 'USD' } }),
    );
    await waitForState(h, state.requestId, (s) => s.timeline.length > 0);
    await h.service.decide(state.requestId, { ...OPERATOR_DECISION, approver: 'alice' });
    // The activity's re-check fails, then the workflow's first (a local activity's three attempts); after a backoff
    // the next one answers.
    guardDownFor = 4;
    await h.service.decide(state.requestId, { ...OPERATOR_DECISION, approver: 'bob' });
    const final = await finalState(h, state.requestId);
    expect(guardDownFor).toBe(0);
    expect(final.status).toBe('succeeded');
    expect(target.callsFor(state.requestId)).toHaveLength(1);
    expect(upsertedStatuses(await historyOf(h, state.requestId))).toEqual(['executing', 'succeeded']);
  });

  it('when the kill switch goes on between two attempts, then the retry is not sent and the outcome says an earlier attempt may have arrived', async () => {
    target.failNext(503, 1);
    const { state } = await submit(
      h,
      refund(21, { params: { paymentId: 'pay_gen2retry', amount: 21, currency: 'USD' } }),
    );
    await expect.poll(() => target.callsFor(state.requestId).length, { timeout: 20_000 }).toBe(1);
    halted = 'payments frozen';
    try {
      const final = await finalState(h, state.requestId);
      expect(final.status).toBe('failed');
      expect(final.outcome).toMatchObject({ ok: false, unknown: true });
      expect(final.outcome?.summary).toContain('Not retried: kill switch: payments frozen');
      expect(target.callsFor(state.requestId)).toHaveLength(1);
    } finally {
      halted = undefined;
    }
  });

  it('when an approved execution is still running after the notice delay, then approvers are told it executes and lists show it executing, after the connector started', async () => {
    const { state } = await submit(
      h,
      refund(5000, { params: { paymentId: 'pay_gen2slow', amount: 5000, currency: 'USD' } }),
    );
    await waitForState(h, state.requestId, (s) => s.timeline.length > 0);
    await h.service.decide(state.requestId, { ...OPERATOR_DECISION, approver: 'alice' });
    target.delay(5_000);
    try {
      await h.service.decide(state.requestId, { ...OPERATOR_DECISION, approver: 'bob' });
      // While the call runs, visibility lists the request as executing.
      await expect
        .poll(
          async () =>
            (await h.client.workflow.getHandle(state.requestId).describe()).typedSearchAttributes.get(
              SEARCH_ATTRIBUTES.status,
            ),
          { timeout: 20_000 },
        )
        .toBe('executing');
      const final = await finalState(h, state.requestId);
      expect(final.status).toBe('succeeded');
    } finally {
      target.delay(0);
    }
    const events = await historyOf(h, state.requestId);
    expect(upsertedStatuses(events)).toEqual(['executing', 'succeeded']);
    // The connector's activity said so itself: its signal, and no timer in the workflow.
    expect(signalNames(events)).toEqual(['executionRunning']);
    expect(timersAfter(events, 'executeCheckedAction')).toEqual([]);
    const progress = notifier.approverNotifications.filter(
      (n) => n.requestId === state.requestId && n.kind === 'progress',
    );
    expect(progress.map((n) => n.status)).toContain('executing');
    const types = scheduled(events).map((s) => s.type);
    expect(types.slice(types.indexOf('executeCheckedAction') + 1)).toEqual(['notifyApprovers', 'notifyOutcome']);
  });
});

const OPERATOR_DECISION = { decision: 'approve' as const, reason: 'checked' };

describe('the running notice with the connector on its own queue', () => {
  let target: TargetServer;
  let h: Harness;
  const notifier = createRecordingNotifier();
  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_test_secret_value';
    target = await startTargetServer();
    h = await startHarness({ config: testConfig({ targetHost: target.host, connectorTimeout: '10s' }), notifier });
  });
  afterAll(async () => {
    await h?.close();
    await target?.close();
  });

  it('when an approved call on the connector’s queue runs past the notice delay, then its activity signals and approvers are told', async () => {
    const { state } = await submit(
      h,
      refund(5000, { params: { paymentId: 'pay_gen3split', amount: 5000, currency: 'USD' } }),
    );
    await waitForState(h, state.requestId, (s) => s.timeline.length > 0);
    await h.service.decide(state.requestId, { ...OPERATOR_DECISION, approver: 'alice' });
    target.delay(5_000);
    try {
      await h.service.decide(state.requestId, { ...OPERATOR_DECISION, approver: 'bob' });
      expect((await finalState(h, state.requestId)).status).toBe('succeeded');
    } finally {
      target.delay(0);
    }
    const events = await historyOf(h, state.requestId);
    expect(scheduled(events).find((s) => s.type === 'executeConnectorAction')?.queue).toBe(
      h.taskQueues.connector('billing'),
    );
    expect(signalNames(events)).toEqual(['executionRunning']);
    expect(upsertedStatuses(events)).toEqual(['executing', 'succeeded']);
    const progress = notifier.approverNotifications.filter(
      (n) => n.requestId === state.requestId && n.kind === 'progress',
    );
    expect(progress.map((n) => n.status)).toEqual(['pending_approval', 'executing']);
  });
});
