// Every shape the HTTP API reads or writes, as zod schemas: requests are validated with them, and /openapi.json is
// generated from them, so the document cannot drift from what the API does.
import { z } from 'zod';
import { REQUEST_STATUSES, RISK_TIERS, type WebhookEventStatus } from '../contracts/types';
import { WEBHOOK_EVENT_STATUSES } from '../contracts/webhooks';
import { AppError, ERROR_CODES, formatPath, type ErrorCode } from '../errors';
import { MAX_WAIT_SECONDS } from '../requests';

const ref = z.string().min(1).max(128);

export const actionTargetSchema = z
  .object({
    system: ref.optional().describe('The system the action lands in (e.g. "billing").'),
    environment: ref.optional().describe('Its environment (e.g. "production").'),
    resource: z.string().min(1).max(256).optional().describe('The resource acted on (e.g. a customer id).'),
  })
  .strict()
  .describe('Where the action lands; ids only, never secrets.');

/** The envelope of `POST /v1/action-requests`; `params` is checked against the action's own schema afterwards. */
export const submitRequestSchema = z
  .object({
    action: z.string().min(1).max(128).describe('Catalog name of the action, e.g. "payments.refund".'),
    params: z
      .record(z.string(), z.unknown())
      .describe('Parameters of the action, validated against its JSON Schema (see the per-action variants).'),
    reason: z.string().min(1).max(2000).describe('Why the agent asks; shown to approvers after the facts.'),
    onBehalfOf: z
      .string()
      .min(1)
      .max(254)
      .optional()
      .describe('The person the agent acts for (person id, email or Slack user id); they may not approve it.'),
    target: actionTargetSchema.optional(),
    callbackUrl: z
      .string()
      .min(1)
      .max(2048)
      .optional()
      .describe(
        'Where Countersign POSTs this request’s signed webhook events (`request.pending_approval` and the terminal ' +
          'one; see `webhooks`). https to a public address, unless the deployment allow-lists the host; no credentials ' +
          'in the URL (receivers verify the signature).',
      ),
  })
  .strict()
  .describe('An action request.');

export const decisionRequestSchema = z
  .object({
    decision: z.enum(['approve', 'reject']).describe('Approve or reject.'),
    approver: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe(
        'Optional: the decision is always recorded as the operator token’s owner; a different person id is refused (403).',
      ),
    reason: z.string().min(1).max(2000).optional().describe('Why; recorded in the history.'),
    channel: z.enum(['api', 'cli']).default('api').describe('Where the decision was made.'),
  })
  .strict()
  .describe('A decision by the operator whose token makes the call; the workflow checks they may decide.');

export const cancelRequestSchema = z
  .object({ reason: z.string().min(1).max(2000).optional().describe('Why the request is withdrawn.') })
  .strict()
  .describe('Cancels a pending request.');

export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
  .describe('Same key and same body return the same request; same key with another body is refused (422).');

const waitSchema = z.coerce
  .number()
  .int()
  .min(0)
  .max(MAX_WAIT_SECONDS)
  .optional()
  .describe(`Hold the response until the request is terminal or this many seconds (at most ${MAX_WAIT_SECONDS}) pass.`);

export const waitQuerySchema = z.object({ wait: waitSchema });

export const requestStatusSchema = z.enum(REQUEST_STATUSES).describe('Status of a request.');

export const listQuerySchema = z.object({
  status: requestStatusSchema.optional(),
  agent: ref.optional().describe('Operators only: one agent’s requests.'),
  action: ref.optional().describe('One action’s requests.'),
  limit: z.coerce.number().int().min(1).max(500).optional().describe('At most this many, newest first (default 50).'),
});

// --- responses --------------------------------------------------------------------------------------------------------

export const approvalProgressSchema = z.object({
  group: z.string().describe('Approver group.'),
  quorum: z.number().int().describe('Distinct people of the group who must approve.'),
  approvedBy: z.array(z.string()).describe('People who approved so far.'),
  satisfied: z.boolean(),
  escalated: z.boolean(),
});

export const decisionSchema = z.object({
  effect: z.enum(['allow', 'deny', 'require_approval']).describe('The effect that governs the request.'),
  evaluatedEffect: z
    .enum(['allow', 'deny', 'require_approval'])
    .describe('What the rules produced (differs from `effect` in shadow mode).'),
  mode: z.enum(['enforce', 'shadow']),
  rules: z.array(z.string()).describe('Ids of every rule that matched.'),
  policyVersion: z.string(),
  reason: z.string().optional().describe('For deny: why.'),
  approvals: z.array(approvalProgressSchema),
});

export const outcomeSchema = z.object({
  ok: z.boolean(),
  status: z.number().int().optional().describe('Downstream HTTP status.'),
  summary: z.string().describe('Size-bounded, secret-free summary of the downstream response.'),
  unknown: z
    .boolean()
    .optional()
    .describe('True when the call may have reached the downstream and was not re-sent: reconcile by hand.'),
});

export const linksSchema = z.object({
  self: z.string(),
  cancel: z.string(),
  temporalUi: z.string().optional().describe('The workflow in the Temporal Web UI.'),
});

export const actionRequestSchema = z
  .object({
    id: z.string().describe('Request id (also the workflow id).'),
    status: requestStatusSchema,
    action: z.string(),
    agent: z.string().describe('Id of the agent that asked.'),
    risk: z.enum(RISK_TIERS),
    paramsHash: z
      .string()
      .describe('sha256 over the canonical JSON (RFC 8785) of the parameters; params are not echoed.'),
    reason: z.string(),
    onBehalfOf: z.string().optional(),
    target: actionTargetSchema.optional(),
    submittedAt: z.string(),
    decision: decisionSchema,
    expiresAt: z.string().optional().describe('When a pending request expires.'),
    rejections: z
      .array(
        z.object({
          by: z.string().describe('The approver who rejected.'),
          reason: z.string().optional().describe('Why, in their words (shown to the agent and the other approvers).'),
          at: z.string().describe('When the workflow recorded it.'),
          channel: z.enum(['slack', 'api', 'cli']).describe('Where it was made.'),
        }),
      )
      .describe('Every accepted rejection: who, why and when (a rejection ends the request as `rejected`).'),
    cancellation: z
      .object({ by: z.string(), reason: z.string().optional(), at: z.string() })
      .optional()
      .describe('Who cancelled the request and why: an agent, an operator, a kill switch, or `temporal`.'),
    outcome: outcomeSchema.optional(),
    timeline: z.array(z.object({ at: z.string(), event: z.string(), detail: z.string().optional() })),
    stale: z
      .boolean()
      .optional()
      .describe(
        'True when no worker answered: the status is current (from Temporal’s search attributes) but decisions and timeline are as at submit.',
      ),
    queued: z
      .boolean()
      .optional()
      .describe('On a decision’s answer: true when no worker was running and the rejection was queued durably.'),
    links: linksSchema,
  })
  .describe('An action request and where it stands.');

const webhookStatusSchema = z.enum(WEBHOOK_EVENT_STATUSES as [WebhookEventStatus, ...WebhookEventStatus[]]);

/** The body of a completion webhook (Standard Webhooks payload: `type`, `timestamp`, `data`). */
export const webhookEventSchema = z
  .object({
    type: z
      .enum(WEBHOOK_EVENT_STATUSES.map((s) => `request.${s}`) as [string, ...string[]])
      .describe('`request.<status>`: `request.pending_approval`, then one terminal event.'),
    timestamp: z.string().describe('When the request reached the status (ISO 8601).'),
    data: z.object({
      requestId: z.string(),
      status: webhookStatusSchema,
      action: z.string(),
      agent: z.string().describe('The agent that asked (whose secret signs the event).'),
      risk: z.enum(RISK_TIERS),
      paramsHash: z.string().describe('sha256 of the canonical parameters; parameters are never sent.'),
      submittedAt: z.string(),
      decision: z.object({
        effect: z.enum(['allow', 'deny', 'require_approval']),
        rules: z.array(z.string()),
        policyVersion: z.string(),
        reason: z.string().optional().describe('For deny: why.'),
      }),
      waitingFor: z
        .array(z.object({ group: z.string(), quorum: z.number().int(), approvedBy: z.array(z.string()) }))
        .optional()
        .describe('For `pending_approval`: the groups whose quorum is not met yet.'),
      expiresAt: z.string().optional().describe('For `pending_approval`: when the request expires.'),
      approvedBy: z.array(z.string()).optional().describe('People whose approvals counted.'),
      rejection: z.object({ by: z.string(), reason: z.string().optional() }).optional(),
      cancellation: z.object({ by: z.string(), reason: z.string().optional() }).optional(),
      outcome: outcomeSchema.optional().describe('The execution’s outcome, when it ran (or was blocked).'),
    }),
  })
  .describe(
    'A completion webhook event. Signed per Standard Webhooks: verify `webhook-signature` over ' +
      '`${webhook-id}.${webhook-timestamp}.${body}` with the agent’s `whsec_` secret, and de-duplicate on `webhook-id`.',
  );

export const actionRequestSummarySchema = z.object({
  id: z.string(),
  status: requestStatusSchema,
  action: z.string(),
  agent: z.string(),
  risk: z.string().optional(),
  submittedAt: z.string(),
  closedAt: z.string().optional(),
  outcome: z
    .enum(['unknown'])
    .optional()
    .describe('`unknown`: the execution failed with outcome unknown (the call may have arrived; reconcile by hand).'),
  links: linksSchema,
});

export const actionRequestListSchema = z.object({ items: z.array(actionRequestSummarySchema) });

export const problemSchema = z
  .object({
    type: z.string().describe('URI naming the problem type.'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().describe('The request path.'),
    code: z.enum(ERROR_CODES).describe('Stable error code clients can match on.'),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .describe('Every problem, with its field path.'),
  })
  .describe('RFC 9457 problem details (application/problem+json).');

export const healthSchema = z.object({ status: z.literal('ok') });

export const readinessSchema = z.object({ ready: z.boolean(), checks: z.record(z.string(), z.string()) });

export type ActionRequestResource = z.output<typeof actionRequestSchema>;
export type ActionRequestSummaryResource = z.output<typeof actionRequestSummarySchema>;
export type Problem = z.output<typeof problemSchema>;

/** Parses `value` or throws an AppError with every issue, paths prefixed by `prefix` (e.g. `query`). */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  options: { code?: ErrorCode; prefix?: string; message?: string } = {},
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const prefix = options.prefix ? [options.prefix] : [];
  const at = (path: readonly PropertyKey[]) => formatPath([...prefix, ...path]) || 'body';
  throw new AppError(options.code ?? 'validation_failed', options.message ?? 'the request is invalid', {
    // An unknown key is reported at the key itself, so a client sees which field to drop.
    errors: result.error.issues.flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((key) => ({ path: at([...i.path, key]), message: 'unknown field' }))
        : [{ path: at(i.path), message: i.message }],
    ),
  });
}
