// Completion webhook events, built from a request's state: workflow-safe and pure, so the workflow builds the exact
// payload it hands the delivery (and the history records it). Parameters never enter an event, secret or not.
import type { ActionRequestState, WebhookEvent, WebhookEventStatus } from './types';

/** The failure type of a delivery attempt that another attempt cannot fix (refused URL, no signing secret). */
export const WEBHOOK_REFUSED = 'WebhookRefused';

/** The statuses a webhook is sent for. */
export const WEBHOOK_EVENT_STATUSES: readonly WebhookEventStatus[] = [
  'pending_approval',
  'succeeded',
  'failed',
  'denied',
  'rejected',
  'expired',
  'cancelled',
];

/** True when a request in this status gets a webhook. */
export function isWebhookStatus(status: ActionRequestState['status']): status is WebhookEventStatus {
  return (WEBHOOK_EVENT_STATUSES as readonly string[]).includes(status);
}

/** The `webhook-id` of a request's event for a status: one per request and status, the same on every retry. */
export function webhookDeliveryId(requestId: string, status: WebhookEventStatus): string {
  return `msg_${requestId.replace(/^req_/, '')}_${status}`;
}

/** The workflow id of the delivery of that event (a child of the request's workflow that outlives it). */
export function webhookWorkflowId(requestId: string, status: WebhookEventStatus): string {
  return `${requestId}-webhook-${status}`;
}

/** The event a request in `status` sends, as of `at` (ISO). */
export function webhookEventOf(state: ActionRequestState, status: WebhookEventStatus, at: string): WebhookEvent {
  const d = state.decision;
  const rejection = state.rejections[0];
  const data: WebhookEvent['data'] = {
    requestId: state.requestId,
    status,
    action: state.action,
    agent: state.agent.id,
    risk: state.risk,
    paramsHash: state.paramsHash,
    submittedAt: state.submittedAt,
    decision: {
      effect: d.effect,
      rules: d.rules,
      policyVersion: d.policyVersion,
      ...(d.reason ? { reason: d.reason } : {}),
    },
  };
  if (status === 'pending_approval') {
    data.waitingFor = state.requirements
      .filter((r) => !r.satisfied)
      .map((r) => ({ group: r.group, quorum: r.quorum, approvedBy: r.approvedBy }));
    if (state.expiresAt) data.expiresAt = state.expiresAt;
  } else {
    if (state.approvals.length > 0) data.approvedBy = state.approvals.map((a) => a.approver);
    if (rejection)
      data.rejection = { by: rejection.approver, ...(rejection.reason ? { reason: rejection.reason } : {}) };
    if (state.cancellation) {
      data.cancellation = {
        by: state.cancellation.by,
        ...(state.cancellation.reason ? { reason: state.cancellation.reason } : {}),
      };
    }
    if (state.outcome) {
      const { ok, status: httpStatus, summary } = state.outcome;
      data.outcome = { ok, ...(httpStatus !== undefined ? { status: httpStatus } : {}), summary };
    }
  }
  return { type: `request.${status}`, timestamp: at, data };
}
