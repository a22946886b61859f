// One completion webhook, delivered durably: a child of the request's workflow that outlives it (its parent closes at
// once and never waits for the receiver), retrying the signed POST with backoff for the configured window. However it
// ends, the request's outcome is already recorded; a given-up delivery is only counted and logged.
import { ActivityFailure, ApplicationFailure, log, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { WebhookDeliveryInput, WebhookDeliveryResult } from '../src/contracts/types';
import { WEBHOOK_REFUSED } from '../src/contracts/webhooks';

type ControlActivities = ReturnType<typeof createActivities>;

const MAX_RETRY_INTERVAL_MS = 60 * 60 * 1000;

const { webhookGaveUp } = proxyLocalActivities<ControlActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});

/** Delivers one webhook event to its receiver, retrying until it is accepted or its window has passed. */
export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<WebhookDeliveryResult> {
  const { deliverWebhook } = proxyActivities<ControlActivities>({
    startToCloseTimeout: input.callback.timeoutMs + 5_000,
    scheduleToCloseTimeout: input.callback.retryForMs,
    retry: {
      initialInterval: input.callback.firstRetryMs,
      backoffCoefficient: 2,
      maximumInterval: Math.max(MAX_RETRY_INTERVAL_MS, input.callback.firstRetryMs),
      nonRetryableErrorTypes: [WEBHOOK_REFUSED],
    },
  });
  try {
    return await deliverWebhook(input);
  } catch (err) {
    const reason = failureReason(err);
    log.warn('Webhook delivery given up', { requestId: input.requestId, deliveryId: input.deliveryId, reason });
    await webhookGaveUp({ deliveryId: input.deliveryId, requestId: input.requestId, reason });
    const [status] =
      err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? (err.cause.details ?? []) : [];
    return {
      deliveryId: input.deliveryId,
      delivered: false,
      ...(typeof status === 'number' ? { status } : {}),
      reason,
    };
  }
}

function failureReason(err: unknown): string {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) return cause.message;
    if (cause instanceof Error) {
      // A timeout failure (the window passed) wraps the last attempt's failure, when there was one.
      const last = cause.cause;
      return last instanceof Error ? `${cause.message}: ${last.message}` : cause.message;
    }
  }
  return err instanceof Error ? err.message : String(err);
}
