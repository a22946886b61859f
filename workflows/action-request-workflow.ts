// The durable life of one action request: decide, wait for people when policy says so, re-check, execute once, record.
// Deterministic code only: see CONTRIBUTING.md (Conventions 1-6). Side effects happen in activities.
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { createConnectorActivities } from '../activities/connectors';
import {
  authorizeDecision,
  eligibleApprovers,
  eligibleUsergroups,
  requirementProgress,
} from '../src/contracts/authorization';
import { cancelRequestSignal, getStateQuery, submitDecisionSignal } from '../src/contracts/messages';
import { SEARCH_ATTRIBUTES } from '../src/contracts/names';
import type {
  ActionRequestInput,
  ActionRequestState,
  DecisionSubmission,
  ExecutionOutcome,
  NotificationRef,
  RequestStatus,
} from '../src/contracts/types';

type ControlActivities = ReturnType<typeof createActivities>;
type ConnectorActivities = ReturnType<typeof createConnectorActivities>;

// The re-check reads local facts (registry, kill switch): a local activity, retried briefly, then the request fails closed.
const { recheckBeforeExecution } = proxyLocalActivities<ControlActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '5 seconds', maximumAttempts: 5 },
});

const NOTIFY_TIMEOUT_MS = 10 * 60 * 1000;

// The outcome notice is the workflow's last step: a local activity keeps it in the final workflow task instead of a
// round trip through the server, and it retries with backoff like any activity.
const outcomeActivities = proxyLocalActivities<ControlActivities>({
  startToCloseTimeout: '60 seconds',
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '60 seconds' },
});

/** Runs one action request from policy decision to terminal state and returns the full record. */
export async function actionRequestWorkflow(input: ActionRequestInput): Promise<ActionRequestState> {
  const startedMs = Date.now();
  const requirements = input.decision.approvals;
  const escalated = new Set<string>();
  const acceptedApprovers: string[] = [];
  // Slack user groups attested with each accepted approval, limited to those the requirements list.
  const attestedUsergroups = new Map<string, string[]>();
  let notificationRefs: NotificationRef[] = [];
  let progressDirty = false;

  const expireAfterMs = requirements.length > 0 ? Math.min(...requirements.map((r) => r.expireAfterMs)) : undefined;
  const state: ActionRequestState = {
    requestId: input.requestId,
    status: initialStatus(input),
    agent: input.agent,
    action: input.action,
    risk: input.risk,
    paramsHash: input.paramsHash,
    reason: input.reason,
    onBehalfOf: input.onBehalfOf,
    target: input.target,
    submittedAt: input.submittedAt,
    decision: input.decision,
    expiresAt: expireAfterMs !== undefined ? new Date(startedMs + expireAfterMs).toISOString() : undefined,
    eligibleApprovers: eligibleApprovers(requirements, escalated, input.excludedApprovers),
    requirements: requirementProgress(requirements, [], escalated),
    approvals: [],
    rejections: [],
    refused: [],
    timeline: [],
  };
  record(
    'submitted',
    `policy ${input.decision.evaluatedEffect} (${input.decision.mode}) by ${input.decision.rules.join(', ') || 'default deny'}`,
  );

  setHandler(getStateQuery, () => state);

  setHandler(submitDecisionSignal, (submission: DecisionSubmission) => {
    const received = { ...submission, receivedAt: new Date().toISOString() };
    const refusal = authorizeDecision(
      {
        status: state.status,
        paramsHash: input.paramsHash,
        excludedApprovers: input.excludedApprovers,
        eligibleApprovers: state.eligibleApprovers,
        decidedBy: [...state.approvals, ...state.rejections].map((d) => d.approver),
        eligibleUsergroups: eligibleUsergroups(requirements, escalated),
      },
      submission,
    );
    if (refusal) {
      state.refused.push({ ...received, refusal });
      record('decision_refused', `${submission.approver} ${submission.decision} via ${submission.channel}: ${refusal}`);
      log.warn('Decision refused', { requestId: input.requestId, approver: submission.approver, refusal });
      return;
    }
    if (submission.decision === 'reject') {
      state.rejections.push(received);
      record('rejected', `${submission.approver} via ${submission.channel}`);
      setStatus('rejected');
      return;
    }
    state.approvals.push(received);
    acceptedApprovers.push(submission.approver);
    const usergroups = eligibleUsergroups(requirements, escalated).filter((g) => submission.usergroups?.includes(g));
    if (usergroups.length > 0) attestedUsergroups.set(submission.approver, usergroups);
    record('approval', `${submission.approver} via ${submission.channel}`);
    state.requirements = requirementProgress(requirements, acceptedApprovers, escalated, attestedUsergroups);
    progressDirty = true;
    if (state.requirements.every((r) => r.satisfied)) {
      record('approved', 'quorum met');
      setStatus('approved');
    }
  });

  setHandler(cancelRequestSignal, (cancel) => {
    if (state.status !== 'pending_approval') {
      record('cancel_refused', `${cancel.by}: status is ${state.status}`);
      return;
    }
    state.cancellation = { by: cancel.by, reason: cancel.reason, at: new Date().toISOString() };
    record('cancelled', cancel.by);
    setStatus('cancelled');
  });

  // The start already set every search attribute; only the UI details are new. Workflows started before 'lean-start'
  // upserted them again here (twice for an allowed request, which went approved → executing) and told the outcome
  // through a regular activity: their histories replay only with those same commands.
  const leanStart = patched('lean-start');
  if (leanStart) {
    setCurrentDetails(currentDetails(state));
  } else {
    publishSearchAttributes();
    if (state.status === 'executing') publishSearchAttributes();
  }

  if (state.status === 'denied') {
    record('denied', input.decision.reason);
    await notifyOutcome();
    return state;
  }

  if (state.status === 'pending_approval') {
    await awaitDecision();
  }

  if (state.status === 'approved') {
    setStatus('executing');
    // Approvers see "approved, executing" while the connector runs, not the last quorum count.
    if (requirements.length > 0 && patched('notify-approved-before-execution')) void startNotification('progress');
  }

  if (state.status === 'executing') await execute();

  await notifyOutcome();
  return state;

  // --- steps -------------------------------------------------------------------------------------------------------

  async function awaitDecision(): Promise<void> {
    void startNotification('requested');
    const reminders = new Map(requirements.map((r) => [r.ruleId, r.remindAfterMs]));
    const deadline = startedMs + (expireAfterMs ?? 0);

    while (state.status === 'pending_approval') {
      const now = Date.now();
      const timers: { at: number; fire: () => void }[] = [{ at: deadline, fire: expire }];
      for (const r of requirements) {
        const progress = state.requirements.find((p) => p.ruleId === r.ruleId);
        if (progress?.satisfied) continue;
        const nextReminder = reminders.get(r.ruleId);
        if (nextReminder !== undefined && r.remindAfterMs) {
          timers.push({
            at: startedMs + nextReminder,
            fire: () => {
              reminders.set(r.ruleId, nextReminder + (r.remindAfterMs ?? 0));
              record('reminder', r.group);
              void startNotification('reminder', r.group);
            },
          });
        }
        if (r.escalateAfterMs !== undefined && r.escalateTo && !escalated.has(r.ruleId)) {
          timers.push({
            at: startedMs + r.escalateAfterMs,
            fire: () => {
              escalated.add(r.ruleId);
              state.eligibleApprovers = eligibleApprovers(requirements, escalated, input.excludedApprovers);
              state.requirements = requirementProgress(requirements, acceptedApprovers, escalated, attestedUsergroups);
              record('escalated', `${r.group} → ${r.escalateTo}`);
              publishSearchAttributes();
              void startNotification('escalated', r.escalateTo);
              if (state.requirements.every((p) => p.satisfied)) {
                record('approved', 'quorum met after escalation');
                setStatus('approved');
              }
            },
          });
        }
      }
      const next = timers.reduce((a, b) => (b.at < a.at ? b : a));
      const changed = await condition(
        () => state.status !== 'pending_approval' || progressDirty,
        Math.max(next.at - now, 1),
      );
      if (!changed && state.status === 'pending_approval') {
        next.fire();
      }
      if (progressDirty && state.status === 'pending_approval') {
        progressDirty = false;
        void startNotification('progress');
      }
    }
    // A first post still retrying (Slack down, say) must not hold up execution; it is abandoned when the workflow ends.
  }

  function expire(): void {
    record('expired');
    setStatus('expired');
  }

  async function execute(): Promise<void> {
    const recheck = await recheckBeforeExecution({
      requestId: input.requestId,
      agentId: input.agent.id,
      action: input.action,
      params: input.params,
      paramsHash: input.paramsHash,
      approvedParamsHashes: state.approvals.map((a) => a.paramsHash),
    });
    if (!recheck.ok) {
      record('execution_blocked', recheck.reason);
      state.outcome = { ok: false, summary: `Not executed: ${recheck.reason}` };
      setStatus('failed');
      return;
    }
    record('executing', input.connector.name);
    const connector = proxyActivities<ConnectorActivities>({
      taskQueue: input.connector.taskQueue,
      startToCloseTimeout: input.connector.timeoutMs + 5_000,
      scheduleToCloseTimeout: '10 minutes',
      retry: {
        initialInterval: '1 second',
        backoffCoefficient: 2,
        maximumInterval: '30 seconds',
        // A ceiling only: the connector stops at its own configured maxAttempts (at most 10, see the config schema).
        maximumAttempts: 10,
        nonRetryableErrorTypes: ['DownstreamRejected', 'ConnectorMisconfigured', 'ParamsMismatch'],
      },
    });
    let outcome: ExecutionOutcome;
    try {
      outcome = await connector.executeConnectorAction({
        requestId: input.requestId,
        action: input.action,
        connector: input.connector.name,
        params: input.params,
        paramsHash: input.paramsHash,
        agentId: input.agent.id,
        approvers: state.approvals.map((a) => a.approver),
        policyVersion: input.decision.policyVersion,
        ...(input.target ? { target: input.target } : {}),
      });
    } catch (err) {
      const status = failureStatus(err);
      outcome = { ok: false, ...(status !== undefined ? { status } : {}), summary: failureSummary(err) };
    }
    state.outcome = outcome;
    record(outcome.ok ? 'succeeded' : 'failed', outcome.summary);
    setStatus(outcome.ok ? 'succeeded' : 'failed');
  }

  async function startNotification(kind: 'requested' | 'reminder' | 'escalated' | 'progress', group?: string) {
    try {
      const refs = await notifyActivities().notifyApprovers({
        kind,
        group,
        state,
        params: input.params,
        refs: notificationRefs,
      });
      if (kind === 'requested') notificationRefs = refs;
      else if (refs.length > 0) notificationRefs = mergeRefs(notificationRefs, refs);
    } catch (err) {
      // A notification that never lands must not lose the request: it stays decidable through the API until expiry.
      record('notification_failed', `${kind}: ${failureSummary(err)}`);
    }
  }

  async function notifyOutcome(): Promise<void> {
    try {
      // Requests that waited for people have messages to edit, which may take a while (Slack pacing, retries): a
      // regular activity keeps queries answered meanwhile. The rest finish in their last workflow task.
      const activities = leanStart && requirements.length === 0 ? outcomeActivities : notifyActivities();
      await activities.notifyOutcome({ state, refs: notificationRefs, params: input.params });
    } catch (err) {
      record('notification_failed', `outcome: ${failureSummary(err)}`);
    }
  }

  function notifyActivities() {
    const remaining = state.expiresAt ? Date.parse(state.expiresAt) - Date.now() : 0;
    return proxyActivities<ControlActivities>({
      startToCloseTimeout: '30 seconds',
      scheduleToCloseTimeout: Math.max(remaining, NOTIFY_TIMEOUT_MS),
      retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '60 seconds' },
    });
  }

  function setStatus(status: RequestStatus): void {
    state.status = status;
    publishSearchAttributes();
  }

  function publishSearchAttributes(): void {
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.status, value: state.status },
      { key: SEARCH_ATTRIBUTES.approvers, value: state.eligibleApprovers },
    ]);
    setCurrentDetails(currentDetails(state));
  }

  function record(event: string, detail?: string): void {
    state.timeline.push({ at: new Date().toISOString(), event, ...(detail ? { detail } : {}) });
  }
}

function initialStatus(input: ActionRequestInput): RequestStatus {
  switch (input.decision.effect) {
    case 'allow':
      // Policy allow goes straight to executing (the status model in CONTRIBUTING.md); the re-check still runs first.
      return 'executing';
    case 'deny':
      return 'denied';
    case 'require_approval':
      return 'pending_approval';
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
  return lines.join('\n');
}
