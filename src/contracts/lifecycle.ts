// The request lifecycle as plain transitions over one state object: the workflow wires them to handlers, timers and
// activities; the service uses `initialState` for the answer it gives before the workflow's first task. Workflow-safe
// and pure: every time comes in as an argument.
import { authorizeDecision, eligibleApprovers, eligibleUsergroups, requirementProgress } from './authorization';
import {
  isTerminal,
  type ActionRequestInput,
  type ActionRequestState,
  type CancelRequest,
  type DecisionSubmission,
  type ExecutionOutcome,
  type NotifiedState,
  type RefusalCode,
  type RequestStatus,
} from './types';

/** Longest reason or outcome summary the workflow records for an unexpected failure. */
export const MAX_FAILURE_REASON = 300;

/** The outcome summary of a request whose re-check could not confirm the agent's standing within its window. */
export const STANDING_UNCONFIRMED = 'Not executed: agent standing could not be confirmed';

/** A request's state plus what the transitions need that is not shown (escalations, attested user groups). */
export interface Lifecycle {
  readonly input: ActionRequestInput;
  readonly state: ActionRequestState;
  readonly escalated: Set<string>;
  /** Slack user groups attested with each accepted approval, limited to those the requirements list. */
  readonly attestedUsergroups: Map<string, string[]>;
  /** An accepted approval changed the progress and approvers have not been told yet. */
  progressDirty: boolean;
}

/** The status policy alone gives a request. */
export function initialStatus(input: Pick<ActionRequestInput, 'decision'>): RequestStatus {
  switch (input.decision.effect) {
    case 'allow':
      // Policy allow goes straight to executing (DESIGN.md status model); the re-check still runs first.
      return 'executing';
    case 'deny':
      return 'denied';
    case 'require_approval':
      return 'pending_approval';
  }
}

/** When a pending request expires: the shortest expiry of its requirements, counted from `submittedAt`. */
export function expiresAtOf(input: Pick<ActionRequestInput, 'decision' | 'submittedAt'>): string | undefined {
  const requirements = input.decision.approvals;
  if (requirements.length === 0) return undefined;
  const expireAfterMs = Math.min(...requirements.map((r) => r.expireAfterMs));
  return new Date(Date.parse(input.submittedAt) + expireAfterMs).toISOString();
}

/** The state a request starts in: the one definition the workflow and the service share. */
export function initialState(input: ActionRequestInput): ActionRequestState {
  const requirements = input.decision.approvals;
  const expiresAt = expiresAtOf(input);
  const d = input.decision;
  return {
    requestId: input.requestId,
    status: initialStatus(input),
    agent: input.agent,
    action: input.action,
    risk: input.risk,
    paramsHash: input.paramsHash,
    reason: input.reason,
    ...(input.onBehalfOf ? { onBehalfOf: input.onBehalfOf } : {}),
    ...(input.target ? { target: input.target } : {}),
    submittedAt: input.submittedAt,
    decision: input.decision,
    ...(expiresAt ? { expiresAt } : {}),
    eligibleApprovers: eligibleApprovers(requirements, new Set(), input.excludedApprovers),
    requirements: requirementProgress(requirements, [], new Set()),
    approvals: [],
    rejections: [],
    refused: [],
    timeline: [
      {
        at: input.submittedAt,
        event: 'submitted',
        detail: `policy ${d.evaluatedEffect} (${d.mode}) by ${d.rules.join(', ') || 'default deny'}`,
      },
    ],
  };
}

/**
 * What the notification activities get of `state` (see `NotifiedState`). It shares the state's objects: activity
 * arguments are serialized when the activity is scheduled.
 */
export function notifiedState(state: ActionRequestState): NotifiedState {
  const { timeline, decision, ...rest } = state;
  const { effect, evaluatedEffect, mode, rules, reason, policyVersion, approvals } = decision;
  return {
    ...rest,
    decision: {
      effect,
      evaluatedEffect,
      mode,
      rules,
      ...(reason !== undefined ? { reason } : {}),
      policyVersion,
      approvals,
    },
    revision: timeline.length,
  };
}

/** A notice's place in its request's history: the timeline's length when it was sent. */
export function revisionOf(state: NotifiedState): number {
  return state.revision ?? state.timeline?.length ?? 0;
}

/** A lifecycle at its start. */
export function createLifecycle(input: ActionRequestInput): Lifecycle {
  return {
    input,
    state: initialState(input),
    escalated: new Set(),
    attestedUsergroups: new Map(),
    progressDirty: false,
  };
}

/** Appends to the timeline. */
export function record(l: Lifecycle, at: string, event: string, detail?: string): void {
  l.state.timeline.push({ at, event, ...(detail ? { detail } : {}) });
}

/** One decision attempt: authorized, recorded either way; returns why it was refused, if it was. */
export function applyDecision(
  l: Lifecycle,
  submission: DecisionSubmission,
  receivedAt: string,
): RefusalCode | undefined {
  const { state, input } = l;
  const requirements = input.decision.approvals;
  const received = { ...submission, receivedAt };
  const refusal = authorizeDecision(
    {
      status: state.status,
      paramsHash: input.paramsHash,
      excludedApprovers: input.excludedApprovers,
      eligibleApprovers: state.eligibleApprovers,
      decidedBy: [...state.approvals, ...state.rejections].map((d) => d.approver),
      eligibleUsergroups: eligibleUsergroups(requirements, l.escalated),
    },
    submission,
  );
  if (refusal) {
    state.refused.push({ ...received, refusal });
    record(
      l,
      receivedAt,
      'decision_refused',
      `${submission.approver} ${submission.decision} via ${submission.channel}: ${refusal}`,
    );
    return refusal;
  }
  if (submission.decision === 'reject') {
    state.rejections.push(received);
    record(l, receivedAt, 'rejected', `${submission.approver} via ${submission.channel}`);
    state.status = 'rejected';
    return undefined;
  }
  state.approvals.push(received);
  const usergroups = eligibleUsergroups(requirements, l.escalated).filter((g) => submission.usergroups?.includes(g));
  if (usergroups.length > 0) l.attestedUsergroups.set(submission.approver, usergroups);
  record(l, receivedAt, 'approval', `${submission.approver} via ${submission.channel}`);
  refreshProgress(l);
  l.progressDirty = true;
  if (state.requirements.every((r) => r.satisfied)) {
    record(l, receivedAt, 'approved', 'quorum met');
    state.status = 'approved';
  }
  return undefined;
}

/** An agent's or operator's cancellation: only a pending request can be cancelled; returns whether it was. */
export function applyCancel(l: Lifecycle, cancel: CancelRequest, at: string): boolean {
  if (l.state.status !== 'pending_approval') {
    record(l, at, 'cancel_refused', `${cancel.by}: status is ${l.state.status}`);
    return false;
  }
  l.state.cancellation = { by: cancel.by, ...(cancel.reason ? { reason: cancel.reason } : {}), at };
  record(l, at, 'cancelled', cancel.by);
  l.state.status = 'cancelled';
  return true;
}

/**
 * A cancellation requested through Temporal (its UI, CLI or a batch): cancels anything not yet terminal, since the
 * workflow only honours it where nothing has executed. Returns whether the status changed.
 */
export function applyTemporalCancel(l: Lifecycle, at: string, reason?: string): boolean {
  if (isTerminal(l.state.status)) {
    record(l, at, 'cancel_ignored', `temporal: status is ${l.state.status}`);
    return false;
  }
  const why = reason?.trim() ? bounded(reason) : 'workflow cancellation requested through Temporal';
  l.state.cancellation = { by: 'temporal', reason: why, at };
  record(l, at, 'cancelled', `temporal: ${why}`);
  l.state.status = 'cancelled';
  return true;
}

/** The expiry timer fired while the request was still pending. */
export function applyExpiry(l: Lifecycle, at: string): void {
  record(l, at, 'expired');
  l.state.status = 'expired';
}

/** A reminder for a group that has not met its quorum. */
export function applyReminder(l: Lifecycle, at: string, group: string): void {
  record(l, at, 'reminder', group);
}

/** An escalation timer fired: the escalation group joins the eligible approvers (and may complete the quorum). */
export function applyEscalation(l: Lifecycle, at: string, ruleId: string, from: string, to: string): void {
  l.escalated.add(ruleId);
  l.state.eligibleApprovers = eligibleApprovers(l.input.decision.approvals, l.escalated, l.input.excludedApprovers);
  refreshProgress(l);
  record(l, at, 'escalated', `${from} → ${to}`);
  if (l.state.status === 'pending_approval' && l.state.requirements.every((p) => p.satisfied)) {
    record(l, at, 'approved', 'quorum met after escalation');
    l.state.status = 'approved';
  }
}

/** Quorum met: the request moves on to its execution. */
export function beginExecution(l: Lifecycle): void {
  l.state.status = 'executing';
}

/** The re-check refused (or could not confirm) the execution: nothing ran. */
export function blockExecution(l: Lifecycle, at: string, reason: string, summary = `Not executed: ${reason}`): void {
  record(l, at, 'execution_blocked', reason);
  l.state.outcome = { ok: false, summary };
  l.state.status = 'failed';
}

/** The connector is about to run. */
export function recordExecutionStart(l: Lifecycle, at: string, connector: string): void {
  record(l, at, 'executing', connector);
}

/** The connector's outcome. */
export function finishExecution(l: Lifecycle, at: string, outcome: ExecutionOutcome): void {
  l.state.outcome = outcome;
  record(l, at, outcome.ok ? 'succeeded' : 'failed', outcome.summary);
  l.state.status = outcome.ok ? 'succeeded' : 'failed';
}

/**
 * An unexpected error in the workflow: the request ends `failed` with a bounded reason (an outcome the connector
 * already recorded is kept) and the workflow completes instead of failing.
 */
export function applyUnexpectedFailure(l: Lifecycle, at: string, reason: string): void {
  const text = bounded(reason);
  record(l, at, 'workflow_error', text);
  if (isTerminal(l.state.status)) return;
  l.state.outcome = { ok: false, summary: `Not completed: ${text}` };
  l.state.status = 'failed';
}

/** The requirements' progress after an approval or an escalation. */
function refreshProgress(l: Lifecycle): void {
  const accepted = l.state.approvals.map((a) => a.approver);
  l.state.requirements = requirementProgress(l.input.decision.approvals, accepted, l.escalated, l.attestedUsergroups);
}

/** One line, at most MAX_FAILURE_REASON characters, without anything that looks like a credential. */
export function bounded(text: string): string {
  const line = text
    .replace(/\s+/g, ' ')
    .replace(/\b(bearer|basic)\s+\S+/gi, '$1 [redacted]')
    .replace(/([a-z]+:\/\/)[^/\s:@]+:[^/\s@]+@/gi, '$1[redacted]@')
    .replace(/\b(password|passwd|secret|token|api[_-]?key)=\S+/gi, '$1=[redacted]')
    .trim();
  return line.length > MAX_FAILURE_REASON ? `${line.slice(0, MAX_FAILURE_REASON - 1)}…` : line;
}
