// Every signal and query of the action request workflow, defined once. Callers import these; no string names elsewhere.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ActionRequestState, CancelRequest, DecisionSubmission } from './types';

/** An approver's approve/reject; the workflow decides whether it counts. */
export const submitDecisionSignal = defineSignal<[DecisionSubmission]>('submitDecision');

/** Ends a pending request as `cancelled` (agent or operator). */
export const cancelRequestSignal = defineSignal<[CancelRequest]>('cancelRequest');

/** The full state: status, decision, approvals received and refused, timeline, outcome. */
export const getStateQuery = defineQuery<ActionRequestState>('getState');
