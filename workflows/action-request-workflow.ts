// The durable life of one action request: decide, wait for people when policy says so, re-check, execute once, record.
// Deterministic code only: see CONTRIBUTING.md (Conventions 1-6). The transitions are plain functions (src/contracts/lifecycle.ts); this file
// wires them to handlers, timers and activities, and makes sure every path ends in a recorded terminal state.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  condition,
  isCancellation,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  proxySinks,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { createCheckedExecution } from '../activities/checked-execution';
import type { createConnectorActivities } from '../activities/connectors';
import {
  applyCancel,
  applyDecision,
  applyEscalation,
  applyExpiry,
  applyReminder,
  applyTemporalCancel,
  applyUnexpectedFailure,
  beginExecution,
  blockExecution,
  createLifecycle,
  finishExecution,
  notifiedState,
  record,
  recordExecutionStart,
  STANDING_UNCONFIRMED,
  type Lifecycle,
} from '../src/contracts/lifecycle';
import {
  cancelRequestSignal,
  cancelUpdate,
  decideUpdate,
  executionRunningSignal,
  getStateQuery,
  submitDecisionSignal,
  type RequestSinks,
} from '../src/contracts/messages';
import { PROGRESS_MEMO_KEY, SEARCH_ATTRIBUTES } from '../src/contracts/names';
import type {
  ActionRequestInput,
  ActionRequestState,
  CancelRequest,
  DecisionSubmission,
  ExecutionOutcome,
  NotificationRef,
  RecheckResult,
} from '../src/contracts/types';
import { isWebhookStatus, webhookDeliveryId, webhookEventOf, webhookWorkflowId } from '../src/contracts/webhooks';
import { temporalCancelReason } from './cancel-reason';
import { webhookDeliveryWorkflow } from './webhook-delivery-workflow';

type ControlActivities = ReturnType<typeof createActivities>;
type ConnectorActivities = ReturnType<typeof createConnectorActivities>;
type CheckedActivities = ReturnType<typeof createCheckedExecution>;

/** `RECHECK_UNAVAILABLE` of activities/checked-execution.ts (workflow code imports activities as types only). */
const RECHECK_UNAVAILABLE = 'RecheckUnavailable';
const { requests: requestSinks } = proxySinks<RequestSinks>();

// The re-check reads local facts (registry, kill switch): a local activity, retried briefly; the workflow then retries
// it with backoff for the request's re-check window before it fails closed.
// Summaries name what each activity and timer is for in the Temporal UI: ids, group names and URL templates only.
const { recheckBeforeExecution } = proxyLocalActivities<ControlActivities>({
  summary: 're-check before execution',
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '2 seconds', maximumAttempts: 3 },
});

const NOTIFY_TIMEOUT_MS = 10 * 60 * 1000;
/** How long an execution runs before approvers are told it is executing (a faster one goes straight to its outcome). */
const EXECUTING_NOTICE_DELAY_MS = 2_000;
/** The re-check window of requests whose input does not carry one. */
const DEFAULT_RECHECK_WINDOW_MS = 10 * 60 * 1000;
const RECHECK_MAX_BACKOFF_MS = 60_000;

// The outcome notice is the workflow's last step: a local activity keeps it in the final workflow task instead of a
// round trip through the server, and it retries with backoff like any activity.
const outcomeActivities = proxyLocalActivities<ControlActivities>({
  summary: 'outcome notice',
  startToCloseTimeout: '60 seconds',
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '60 seconds' },
});

/** Runs one action request from policy decision to terminal state and returns the full record. */
export async function actionRequestWorkflow(input: ActionRequestInput): Promise<ActionRequestState> {
  const startedMs = Date.now();
  // Generation 2 on: every patch below is on from the start, and no marker records it.
  const current = (input.generation ?? 1) >= 2;
  // Generation 3 on: lists show an approved request as `executing` only once its execution has taken a while.
  const listExecutingLate = (input.generation ?? 1) >= 3;
  const since = (patchId: string) => current || patched(patchId);
  const requirements = input.decision.approvals;
  const lc: Lifecycle = createLifecycle(input);
  const { state } = lc;
  let notificationRefs: NotificationRef[] = [];
  const now = () => new Date().toISOString();

  setHandler(getStateQuery, () => state);

  const onDecision = (submission: DecisionSubmission) => {
    const before = state.status;
    const refusal = applyDecision(lc, submission, now());
    if (refusal) log.warn('Decision refused', { requestId: input.requestId, approver: submission.approver, refusal });
    if (!current) {
      if (state.status !== before) publishSearchAttributes();
    } else if (state.status === 'approved') {
      // Execution begins in this same workflow task and publishes `executing` once: no `approved` upsert before it.
    } else if (state.status !== before) {
      publishSearchAttributes();
    } else if (refusal === undefined) {
      publishProgress();
    }
    return refusal;
  };
  const onCancel = (cancel: CancelRequest) => {
    const cancelled = applyCancel(lc, cancel, now());
    if (cancelled) publishSearchAttributes();
    return cancelled;
  };
  setHandler(submitDecisionSignal, (submission) => {
    onDecision(submission);
  });
  setHandler(cancelRequestSignal, (cancel) => {
    onCancel(cancel);
  });
  // Generation 3: the connector's activity says when it has run a while (its input's runningNoticeAfterMs).
  setHandler(executionRunningSignal, () => {
    if (listExecutingLate) tellStillRunning();
  });
  setHandler(
    decideUpdate,
    (submission) => {
      const refusal = onDecision(submission);
      return { accepted: refusal === undefined, ...(refusal ? { refusal } : {}), status: state.status, state };
    },
    { validator: validateSubmission, description: 'Approve or reject; refused attempts are recorded too.' },
  );
  setHandler(
    cancelUpdate,
    (cancel) => {
      const cancelled = onCancel(cancel);
      return { cancelled, status: state.status, state };
    },
    { validator: validateCancel, description: 'Cancel a pending request.' },
  );

  // The start already set every search attribute; only the UI details are new. Workflows started before 'lean-start'
  // upserted them again here (twice for an allowed request, which went approved → executing) and told the outcome
  // through a regular activity: their histories replay only with those same commands.
  const leanStart = since('lean-start');
  if (leanStart) {
    setCurrentDetails(currentDetails(state));
  } else {
    publishSearchAttributes();
    if (state.status === 'executing') publishSearchAttributes();
  }
  // A callback URL (absent from every request started before webhooks existed) gets its events by child workflows.
  const webhooks = input.callback !== undefined && since('completion-webhooks');
  /** The start of the pending_approval event's delivery, when the request waited for people. */
  let pendingWebhook: Promise<void> | undefined;
  /** Whether approvers were told the request is executing (once per request, beside the connector's activity). */
  let progressTold = false;
  /** Whether the timeline already says the re-check could not run (once per request). */
  let recheckRetryRecorded = false;
  /** Whether the search attributes say `executing` (an allowed request's start already did). */
  let executingListed = state.status === 'executing';

  try {
    await run();
  } catch (err) {
    if (isCancellation(err)) {
      // Cancelled through Temporal (UI, CLI, batch): nothing executed on this path, so the request ends `cancelled`.
      if (applyTemporalCancel(lc, now(), temporalCancelReason())) publishSearchAttributes();
    } else if (since('fail-not-throw')) {
      applyUnexpectedFailure(lc, now(), failureSummary(err));
      publishSearchAttributes();
      log.error('Request failed on an unexpected error', { requestId: input.requestId, reason: failureSummary(err) });
    } else {
      throw err;
    }
  }
  // The outcome is told even after a Temporal cancellation, which would otherwise refuse every new activity. The
  // webhook's delivery only has to start here: it runs on after this workflow has closed.
  if (webhooks) {
    // The pending_approval event's child must have started before this workflow closes: the server drops a child
    // whose start is still in flight when its parent closes, even with ABANDON. Awaiting the promise adds no command.
    await CancellationScope.nonCancellable(() =>
      Promise.all([notifyOutcome(), sendWebhook(state.status), pendingWebhook]),
    );
  } else {
    await CancellationScope.nonCancellable(notifyOutcome);
  }
  return state;

  // --- steps -------------------------------------------------------------------------------------------------------

  async function run(): Promise<void> {
    if (state.status === 'denied') {
      record(lc, now(), 'denied', input.decision.reason);
      return;
    }
    if (state.status === 'pending_approval') await awaitDecision();
    if (state.status === 'approved') {
      beginExecution(lc);
      // From generation 3 the workflow task that starts the execution carries no upsert and no timer: lists show
      // `executing` once the connector's activity signals it has run for EXECUTING_NOTICE_DELAY_MS or the re-check
      // has to wait (listExecuting), and a faster execution goes from pending_approval straight to its outcome.
      if (listExecutingLate) setCurrentDetails(currentDetails(state));
      else {
        publishSearchAttributes();
        executingListed = true;
      }
      // Approvers see "approved, executing" while the connector runs, not the last quorum count. Generation 2 on
      // tells them once the connector's activity has run a while, so the notice never goes first.
      if (!current && requirements.length > 0 && patched('notify-approved-before-execution')) {
        void startNotification('progress');
      }
    }
    if (state.status === 'executing') await execute();
  }

  async function awaitDecision(): Promise<void> {
    void startNotification('requested');
    if (webhooks) pendingWebhook = sendWebhook('pending_approval');
    const reminders = new Map(requirements.map((r) => [r.ruleId, r.remindAfterMs]));
    const expireAfterMs = Math.min(...requirements.map((r) => r.expireAfterMs));
    const deadline = startedMs + expireAfterMs;

    while (state.status === 'pending_approval') {
      const nowMs = Date.now();
      const timers: { at: number; summary: string; fire: () => void }[] = [
        { at: deadline, summary: 'expiry', fire: expire },
      ];
      for (const r of requirements) {
        const progress = state.requirements.find((p) => p.ruleId === r.ruleId);
        if (progress?.satisfied) continue;
        const nextReminder = reminders.get(r.ruleId);
        if (nextReminder !== undefined && r.remindAfterMs) {
          timers.push({
            at: startedMs + nextReminder,
            summary: `reminder to ${r.group}`,
            fire: () => {
              reminders.set(r.ruleId, nextReminder + (r.remindAfterMs ?? 0));
              applyReminder(lc, now(), r.group);
              void startNotification('reminder', r.group);
            },
          });
        }
        const escalateTo = r.escalateTo;
        if (r.escalateAfterMs !== undefined && escalateTo && !lc.escalated.has(r.ruleId)) {
          timers.push({
            at: startedMs + r.escalateAfterMs,
            summary: `escalation to ${escalateTo}`,
            fire: () => {
              const before = state.status;
              applyEscalation(lc, now(), r.ruleId, r.group, escalateTo);
              publishSearchAttributes();
              if (current) publishProgress();
              void startNotification('escalated', escalateTo);
              if (state.status !== before) publishSearchAttributes();
            },
          });
        }
      }
      const next = timers.reduce((a, b) => (b.at < a.at ? b : a));
      const changed = await condition(
        () => state.status !== 'pending_approval' || lc.progressDirty,
        Math.max(next.at - nowMs, 1),
        { summary: next.summary },
      );
      if (!changed && state.status === 'pending_approval') {
        next.fire();
      }
      if (lc.progressDirty && state.status === 'pending_approval') {
        lc.progressDirty = false;
        void startNotification('progress');
      }
    }
    // A first post still retrying (Slack down, say) must not hold up execution; it is abandoned when the workflow ends.
  }

  function expire(): void {
    applyExpiry(lc, now());
    publishSearchAttributes();
  }

  async function execute(): Promise<void> {
    // A control worker that serves the connector itself (dev mode) re-checks inside the connector's activity: one
    // activity task, dispatched eagerly. When the re-check cannot run there, the windowed re-check below takes over.
    if (current && input.connector.checked === true && (await executeChecked())) return;
    const recheck = await recheckWithinWindow();
    if (!recheck.ok) {
      if ('unconfirmed' in recheck) blockExecution(lc, now(), recheck.reason, STANDING_UNCONFIRMED);
      else blockExecution(lc, now(), recheck.reason);
      publishSearchAttributes();
      return;
    }
    recordExecutionStart(lc, now(), input.connector.name);
    const connector = proxyActivities<ConnectorActivities>(connectorOptions());
    let outcome: ExecutionOutcome;
    try {
      // Once the connector may have been called, a Temporal cancellation waits for its outcome: abandoning the call
      // would leave a request that may have executed without a record of it.
      const noticeDue = current && requirements.length > 0 && !progressTold;
      const call = CancellationScope.nonCancellable(() =>
        connector.executeConnectorAction({ ...executeInput(), ...(noticeDue ? runningNotice() : {}) }),
      );
      if (noticeDue && !listExecutingLate) void tellExecuting(call);
      outcome = await call;
    } catch (err) {
      outcome = failureOutcome(err);
    }
    finishExecution(lc, now(), outcome);
    publishSearchAttributes();
  }

  /**
   * The re-check and the call in one activity; false when the re-check could not run there and nothing was sent, so
   * the request goes through the windowed re-check and the plain connector activity instead.
   */
  async function executeChecked(): Promise<boolean> {
    const activity = proxyActivities<CheckedActivities>(connectorOptions([RECHECK_UNAVAILABLE]));
    const noticeDue = requirements.length > 0;
    const call = CancellationScope.nonCancellable(() =>
      activity.executeCheckedAction({
        ...executeInput(),
        ...(noticeDue ? runningNotice() : {}),
        approvedParamsHashes: state.approvals.map((a) => a.paramsHash),
      }),
    );
    if (noticeDue && !listExecutingLate) {
      progressTold = true;
      void tellExecuting(call);
    }
    let outcome: ExecutionOutcome;
    try {
      const result = await call;
      if ('refused' in result) {
        if (result.earlierAttempts === 0) {
          blockExecution(lc, now(), result.refused);
          publishSearchAttributes();
          return true;
        }
        // Refused before a retry: the attempts before it may have reached the downstream, so the end says unknown.
        recordExecutionStart(lc, now(), input.connector.name);
        outcome = {
          ok: false,
          unknown: true,
          attempts: result.earlierAttempts,
          summary: `Not retried: ${result.refused}; an earlier attempt may have reached the downstream`,
        };
      } else {
        recordExecutionStart(lc, result.startedAt, input.connector.name);
        outcome = result.outcome;
      }
    } catch (err) {
      const cause = err instanceof ActivityFailure ? err.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === RECHECK_UNAVAILABLE && cause.nonRetryable) {
        record(lc, now(), 'recheck_retrying', failureSummary(err));
        recheckRetryRecorded = true;
        return false;
      }
      recordExecutionStart(lc, now(), input.connector.name);
      outcome = failureOutcome(err);
    }
    finishExecution(lc, now(), outcome);
    publishSearchAttributes();
    return true;
  }

  /**
   * Before generation 3: tells approvers the request is executing, unless the execution ends first: within
   * EXECUTING_NOTICE_DELAY_MS the outcome notice follows anyway, so a fast execution gets one edit of the messages and
   * runs alone meanwhile. Generation 3 gets the same from the activity's signal (tellStillRunning), without a timer.
   */
  async function tellExecuting(execution: Promise<unknown>): Promise<void> {
    let ended = false;
    execution.then(
      () => (ended = true),
      () => (ended = true),
    );
    try {
      if (await condition(() => ended, EXECUTING_NOTICE_DELAY_MS, { summary: 'executing notice delay' })) return;
    } catch (err) {
      if (isCancellation(err)) return;
      throw err;
    }
    await startNotification('progress', undefined, { eager: false });
  }

  /**
   * From generation 3 the connector's activity itself signals when it is still running after the notice delay, so
   * the workflow task that starts it holds no timer; older generations keep theirs (tellExecuting).
   */
  function runningNotice(): { runningNoticeAfterMs?: number } {
    return listExecutingLate ? { runningNoticeAfterMs: EXECUTING_NOTICE_DELAY_MS } : {};
  }

  /** The execution is taking a while: approvers are told and lists show `executing` (once per request). */
  function tellStillRunning(): void {
    if (progressTold || state.status !== 'executing') return;
    progressTold = true;
    listExecuting();
    void startNotification('progress', undefined, { eager: false });
  }

  /** Lists the request as `executing`, once: the execution is taking a while (generation 3 on). */
  function listExecuting(): void {
    if (executingListed || state.status !== 'executing') return;
    executingListed = true;
    publishSearchAttributes();
  }

  /** What the connector activity is told: ids, the parameters (sealed ones by reference) and who approved. */
  function executeInput() {
    return {
      requestId: input.requestId,
      action: input.action,
      connector: input.connector.name,
      params: input.params,
      paramsHash: input.paramsHash,
      agentId: input.agent.id,
      approvers: state.approvals.map((a) => a.approver),
      policyVersion: input.decision.policyVersion,
      ...(input.target ? { target: input.target } : {}),
    };
  }

  /** The connector activity's timeouts and retries; the connector itself stops at its configured maxAttempts. */
  function connectorOptions(extraNonRetryable: string[] = []): ActivityOptions {
    return {
      summary: `${input.connector.name}: ${input.connector.call ?? input.action}`,
      taskQueue: input.connector.taskQueue,
      startToCloseTimeout: input.connector.timeoutMs + 5_000,
      scheduleToCloseTimeout: '10 minutes',
      retry: {
        initialInterval: '1 second',
        backoffCoefficient: 2,
        maximumInterval: '30 seconds',
        // A ceiling only: the connector stops at its own configured maxAttempts (at most 10, see the config schema).
        maximumAttempts: 10,
        nonRetryableErrorTypes: [
          'DownstreamRejected',
          'ConnectorMisconfigured',
          'ParamsMismatch',
          ...extraNonRetryable,
        ],
      },
    };
  }

  /**
   * The re-check, retried with backoff while it cannot run (the registry unreachable, say) for the request's window;
   * past it the request fails closed as unconfirmed. A refusal is an answer and ends the retries at once.
   */
  async function recheckWithinWindow(): Promise<RecheckResult | { ok: false; reason: string; unconfirmed: true }> {
    const windowMs = input.recheckWindowMs ?? DEFAULT_RECHECK_WINDOW_MS;
    const started = Date.now();
    let backoffMs = 1_000;
    let attempt = 0;
    for (;;) {
      try {
        return await recheckBeforeExecution({
          requestId: input.requestId,
          agentId: input.agent.id,
          action: input.action,
          params: input.params,
          paramsHash: input.paramsHash,
          approvedParamsHashes: state.approvals.map((a) => a.paramsHash),
        });
      } catch (err) {
        if (isCancellation(err) || !since('recheck-window')) throw err;
        attempt += 1;
        const reason = failureSummary(err);
        if (Date.now() - started + backoffMs > windowMs) {
          return {
            ok: false,
            reason: `agent standing could not be confirmed (${attempt} attempts: ${reason})`,
            unconfirmed: true,
          };
        }
        if (attempt === 1 && !recheckRetryRecorded) record(lc, now(), 'recheck_retrying', reason);
        if (listExecutingLate) listExecuting();
        await sleep(backoffMs, { summary: 're-check retry' });
        backoffMs = Math.min(backoffMs * 2, RECHECK_MAX_BACKOFF_MS);
      }
    }
  }

  async function startNotification(
    kind: 'requested' | 'reminder' | 'escalated' | 'progress',
    group?: string,
    options: { eager?: boolean } = {},
  ) {
    try {
      const refs = await notifyActivities(notificationSummary(kind, group), options.eager).notifyApprovers({
        kind,
        group,
        state: notifiedState(state),
        params: input.params,
        refs: notificationRefs,
      });
      if (kind === 'requested') notificationRefs = refs;
      else if (refs.length > 0) notificationRefs = mergeRefs(notificationRefs, refs);
    } catch (err) {
      // A notification that never lands must not lose the request: it stays decidable through the API until expiry.
      record(lc, now(), 'notification_failed', `${kind}: ${failureSummary(err)}`);
    }
  }

  async function notifyOutcome(): Promise<void> {
    // Nothing to edit, nothing sealed to erase, nobody waited: the worker counts and logs the end through a sink,
    // without an activity (and its marker) in the history.
    if (current && requirements.length === 0 && notificationRefs.length === 0 && !input.sealed) {
      requestSinks.closed(state);
      return;
    }
    try {
      // Requests that waited for people have messages to edit, which may take a while (Slack pacing, retries): a
      // regular activity keeps queries answered meanwhile. The rest finish in their last workflow task.
      const activities =
        leanStart && requirements.length === 0 ? outcomeActivities : notifyActivities('outcome notice');
      await activities.notifyOutcome({ state: notifiedState(state), refs: notificationRefs, params: input.params });
    } catch (err) {
      record(lc, now(), 'notification_failed', `outcome: ${failureSummary(err)}`);
    }
  }

  /**
   * Starts the delivery of the event for `status` to the agent's callback: a child workflow that outlives this one, so
   * a slow or failing receiver can neither hold up nor change the request's outcome. Its id is the event's, so the
   * same event is never started twice.
   */
  async function sendWebhook(status: ActionRequestState['status']): Promise<void> {
    const callback = input.callback;
    if (!callback || !isWebhookStatus(status)) return;
    const deliveryId = webhookDeliveryId(input.requestId, status);
    try {
      await startChild(webhookDeliveryWorkflow, {
        workflowId: webhookWorkflowId(input.requestId, status),
        args: [
          {
            deliveryId,
            requestId: input.requestId,
            agentId: input.agent.id,
            callback,
            event: webhookEventOf(state, status, now()),
          },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        cancellationType: ChildWorkflowCancellationType.ABANDON,
        staticSummary: `request.${status} webhook of ${input.requestId}`,
      });
      record(lc, now(), 'webhook_started', `request.${status} as ${deliveryId}`);
    } catch (err) {
      record(lc, now(), 'webhook_failed', `request.${status}: ${failureSummary(err)}`);
    }
  }

  function notifyActivities(summary: string, eager = true) {
    const remaining = state.expiresAt ? Date.parse(state.expiresAt) - Date.now() : 0;
    return proxyActivities<ControlActivities>({
      summary,
      // Off for notices scheduled beside the connector: the worker's eagerly dispatched slot goes to the execution.
      ...(eager ? {} : { allowEagerDispatch: false }),
      startToCloseTimeout: '30 seconds',
      scheduleToCloseTimeout: Math.max(remaining, NOTIFY_TIMEOUT_MS),
      retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '60 seconds' },
    });
  }

  function notificationSummary(kind: 'requested' | 'reminder' | 'escalated' | 'progress', group?: string): string {
    const groups = group ?? [...new Set(requirements.map((r) => r.group))].join(', ');
    switch (kind) {
      case 'requested':
        return `approval request to ${groups}`;
      case 'reminder':
        return `reminder to ${groups}`;
      case 'escalated':
        return `escalation to ${groups}`;
      case 'progress':
        return 'approval progress';
    }
  }

  function publishSearchAttributes(): void {
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.status, value: state.status },
      { key: SEARCH_ATTRIBUTES.approvers, value: state.eligibleApprovers },
    ]);
    setCurrentDetails(currentDetails(state));
  }

  /** A pending request's per-group progress, for lists built from visibility (Slack's App Home) without a query. */
  function publishProgress(): void {
    if (state.status === 'pending_approval') upsertMemo({ [PROGRESS_MEMO_KEY]: state.requirements });
    setCurrentDetails(currentDetails(state));
  }
}

/** Malformed input only; whether the decision counts is the handler's call, so refusals are recorded. */
function validateSubmission(submission: DecisionSubmission): void {
  const s = submission as Partial<DecisionSubmission> | null;
  if (!s || typeof s !== 'object') throw new Error('a decision object is required');
  if (typeof s.approver !== 'string' || s.approver.length === 0 || s.approver.length > 200) {
    throw new Error('approver must be a non-empty string');
  }
  if (s.decision !== 'approve' && s.decision !== 'reject') throw new Error('decision must be approve or reject');
  if (s.channel !== 'slack' && s.channel !== 'api' && s.channel !== 'cli') throw new Error('unknown channel');
  if (typeof s.paramsHash !== 'string' || typeof s.at !== 'string') throw new Error('paramsHash and at are required');
  if (s.reason !== undefined && (typeof s.reason !== 'string' || s.reason.length > 2000)) {
    throw new Error('reason must be a string of at most 2000 characters');
  }
}

function validateCancel(cancel: CancelRequest): void {
  const c = cancel as Partial<CancelRequest> | null;
  if (!c || typeof c.by !== 'string' || c.by.length === 0) throw new Error('by is required');
  if (c.reason !== undefined && (typeof c.reason !== 'string' || c.reason.length > 2000)) {
    throw new Error('reason must be a string of at most 2000 characters');
  }
}

function mergeRefs(existing: NotificationRef[], added: NotificationRef[]): NotificationRef[] {
  const key = (r: NotificationRef) => `${r.channel}/${r.ts}`;
  const seen = new Set(existing.map(key));
  return [...existing, ...added.filter((r) => !seen.has(key(r)))];
}

function failureSummary(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    return `${err.cause.type ?? 'Error'}: ${err.cause.message}`;
  }
  if (err instanceof Error) return err.cause instanceof Error ? err.cause.message : err.message;
  return String(err);
}

/** The outcome of a connector activity that failed: its downstream status, if any, and why. */
function failureOutcome(err: unknown): ExecutionOutcome {
  const status = failureStatus(err);
  return { ok: false, ...(status !== undefined ? { status } : {}), summary: failureSummary(err) };
}

/** The downstream HTTP status a connector failure carries as its detail, if any. */
function failureStatus(err: unknown): number | undefined {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure)) return undefined;
  const [status] = err.cause.details ?? [];
  return typeof status === 'number' ? status : undefined;
}

function currentDetails(state: ActionRequestState): string {
  const lines = [`**Status:** ${state.status}`];
  for (const r of state.requirements) {
    lines.push(`- ${r.group}: ${r.approvedBy.length} of ${r.quorum}${r.escalated ? ' (escalated)' : ''}`);
  }
  if (state.outcome) lines.push(`**Outcome:** ${state.outcome.summary}`);
  // A blank line between lines: the UI renders markdown, where one newline runs them together.
  return lines.join('\n\n');
}
