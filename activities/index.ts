// Control activities: the re-check before execution and notifications. Dependencies come in; nothing is global.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { AgentDirectory } from '../src/agents';
import { paramsHash } from '../src/canonical';
import type {
  NotificationRef,
  NotifiedState,
  NotifyApproversInput,
  NotifyOutcomeInput,
  RecheckInput,
  RecheckResult,
  WebhookDeliveryInput,
  WebhookDeliveryResult,
  WebhookGaveUpInput,
} from '../src/contracts/types';
import { WEBHOOK_REFUSED } from '../src/contracts/webhooks';
import { AppError } from '../src/errors';
import type { Logger } from '../src/logger';
import type { Notifier } from '../src/notifier';
import { findSealedRefs, type SealedParams } from '../src/vault/sealed-params';
import type { WebhookSender } from '../src/webhooks/sender';

/** Answers whether execution is halted for an agent or action (the kill switch); undefined when it is not. */
export interface ExecutionGuard {
  blockedReason(agentId: string, action: string): Promise<string | undefined>;
}

export interface ActivityDeps {
  logger: Logger;
  agents: AgentDirectory;
  notifier: Notifier;
  guard?: ExecutionGuard;
  /** Told once when a request reaches its terminal status (the metrics' closed requests and decision times). */
  observeClosed?: (state: NotifiedState) => void;
  /** Secret parameters sealed at submit: opened in memory for the re-check's hash, erased when the request ends. */
  sealedParams?: SealedParams;
  /** How long sealed parameters are kept after the request's end (ms; 0: erased at once). */
  secretRetentionMs?: number;
  /** Signs and sends completion webhooks; without it every delivery is given up as not configured. */
  webhooks?: WebhookSender;
}

/** The control activities registered on the control task queue. */
export function createActivities(deps: ActivityDeps) {
  return {
    /** Confirms, just before execution, that the agent is active, nothing halts it and the params are those approved. */
    async recheckBeforeExecution(input: RecheckInput): Promise<RecheckResult> {
      const agent = await deps.agents.get(input.agentId);
      if (!agent) return { ok: false, reason: `agent ${input.agentId} no longer exists` };
      if (!agent.enabled) return { ok: false, reason: `agent ${input.agentId} is not active` };
      if (!agent.allowedActions.includes(input.action)) {
        return { ok: false, reason: `agent ${input.agentId} may no longer request ${input.action}` };
      }
      const blocked = await deps.guard?.blockedReason(input.agentId, input.action);
      if (blocked) return { ok: false, reason: `kill switch: ${blocked}` };
      const params = await openedForHash(input.requestId, input.params);
      if (!params.ok) return params;
      // The hash covers the real values; they stay in this function and never reach the result.
      const actual = paramsHash(params.params);
      if (actual !== input.paramsHash) return { ok: false, reason: 'parameters differ from the submitted ones' };
      if (input.approvedParamsHashes.some((h) => h !== actual)) {
        return { ok: false, reason: 'parameters differ from the approved ones' };
      }
      return { ok: true };
    },

    /** Tells approvers a request waits for them (or reminds, escalates, updates progress). */
    async notifyApprovers(input: NotifyApproversInput): Promise<NotificationRef[]> {
      try {
        return await deps.notifier.notifyApprovers(input);
      } catch (err) {
        deps.logger.warn(
          { requestId: input.state.requestId, kind: input.kind, err: errorText(err) },
          'notify approvers failed',
        );
        throw err;
      }
    },

    /** Tells people and the agent's trail how the request ended. */
    async notifyOutcome(input: NotifyOutcomeInput): Promise<void> {
      // The workflow's last step: its first attempt is where the request is counted as closed, retries are not.
      if (Context.current().info.attempt === 1) deps.observeClosed?.(input.state);
      await eraseSealed(input.state.requestId);
      try {
        await deps.notifier.notifyOutcome(input);
      } catch (err) {
        deps.logger.warn({ requestId: input.state.requestId, err: errorText(err) }, 'notify outcome failed');
        throw err;
      }
    },

    /** One attempt at a completion webhook; a failed attempt throws, so Temporal retries it with backoff. */
    async deliverWebhook(input: WebhookDeliveryInput): Promise<WebhookDeliveryResult> {
      if (!deps.webhooks) {
        throw ApplicationFailure.create({
          type: WEBHOOK_REFUSED,
          message: 'completion webhooks are not configured on this worker',
          nonRetryable: true,
        });
      }
      const result = await deps.webhooks.attempt(input, Context.current().info.attempt);
      if (result.ok) return { deliveryId: input.deliveryId, delivered: true, status: result.status };
      throw ApplicationFailure.create({
        type: result.retryable ? 'WebhookAttemptFailed' : WEBHOOK_REFUSED,
        message: result.reason,
        nonRetryable: !result.retryable,
        ...(result.status !== undefined ? { details: [result.status] } : {}),
      });
    },

    /** A delivery was given up: counted and logged once. */
    async webhookGaveUp(input: WebhookGaveUpInput): Promise<void> {
      if (deps.webhooks) deps.webhooks.gaveUp(input);
      else
        deps.logger.warn(
          { requestId: input.requestId, deliveryId: input.deliveryId, reason: input.reason },
          'webhook delivery given up',
        );
    },
  };

  /** The parameters with sealed values opened, or why the re-check must refuse: a value gone or not openable here. */
  async function openedForHash(
    requestId: string,
    params: Record<string, unknown>,
  ): Promise<{ ok: true; params: Record<string, unknown> } | { ok: false; reason: string }> {
    if (findSealedRefs(params).length === 0) return { ok: true, params };
    if (!deps.sealedParams) return { ok: false, reason: 'sealed secret parameters cannot be opened by this worker' };
    try {
      return { ok: true, params: (await deps.sealedParams.open(requestId, params)).params };
    } catch (err) {
      // Erased, expired, altered or a locked vault will not heal; a database that does not answer may (retried).
      if (err instanceof AppError) return { ok: false, reason: `secret parameters unavailable: ${err.message}` };
      throw err;
    }
  }

  /** The request ended: its sealed values go now (or after the retention); a failure is left to the sweep. */
  async function eraseSealed(requestId: string): Promise<void> {
    if (!deps.sealedParams) return;
    try {
      await deps.sealedParams.ended(requestId, deps.secretRetentionMs ?? 0);
      await deps.sealedParams.sweep();
    } catch (err) {
      deps.logger.warn({ requestId, err: errorText(err) }, 'sealed parameters not erased yet; the sweep will');
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
