// Every update, signal and query of the action request workflow, defined once. Callers import these; no string names
// elsewhere.
import { defineQuery, defineSignal, defineUpdate, type Sinks } from '@temporalio/workflow';
import type { ActionRequestState, CancelRequest, CancelResult, DecideResult, DecisionSubmission } from './types';

/**
 * An approver's approve/reject. The handler authorizes it, records the attempt (accepted or refused) and answers with
 * the verdict and the new state in the same round trip; the validator refuses only malformed input.
 */
export const decideUpdate = defineUpdate<DecideResult, [DecisionSubmission]>('decide');

/** Ends a pending request as `cancelled` (agent or operator); refused (and recorded) once it is no longer pending. */
export const cancelUpdate = defineUpdate<CancelResult, [CancelRequest]>('cancel');

/**
 * The durable form of a decision, for when no worker answers: Temporal keeps the signal until the workflow runs again.
 * Used for rejections only (a rejection can never make anything run) and by workflows started before `decideUpdate`.
 */
export const submitDecisionSignal = defineSignal<[DecisionSubmission]>('submitDecision');

/** The durable form of a cancellation: kill-switch batches, and workflows started before `cancelUpdate`. */
export const cancelRequestSignal = defineSignal<[CancelRequest]>('cancelRequest');

/**
 * The connector's activity has run for its `runningNoticeAfterMs` and is still going (generation 3 on): the workflow
 * tells the approvers and lists the request as `executing`. Sent by the activity itself; nothing rides on it.
 */
export const executionRunningSignal = defineSignal('executionRunning');

/** The full state: status, decision, approvals received and refused, timeline, outcome. */
export const getStateQuery = defineQuery<ActionRequestState>('getState');

/** What the workflow tells its worker without an activity (src/temporal/worker.ts): never during replay, not durable. */
export interface RequestSinks extends Sinks {
  requests: {
    /** The request ended with nothing to notify or erase: the worker counts it in the metrics and logs it. */
    closed(state: ActionRequestState): void;
  };
}
