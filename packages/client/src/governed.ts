// What every framework adapter shares: a catalog action as a tool whose call is a Countersign request. The call's id
// (the framework's tool-call id) becomes the Idempotency-Key, so a run that is retried or resumed after a crash lands
// on the same request; the wait is a long poll on Countersign's workflow, never a timer in the agent's memory.
import { isTerminal, type ActionDescription, type ActionRequest, type CountersignClient } from './client.js';

export interface GovernedToolOptions {
  /** How long one tool call waits for a decision and the execution before it returns the status (default 5 min). */
  waitMs?: number;
  /** Prefix of idempotency keys made from tool-call ids (default `tool`), to keep frameworks or runs apart. */
  keyPrefix?: string;
}

/** What a governed tool returns to the model. */
export interface GovernedResult {
  requestId: string;
  status: ActionRequest['status'];
  ok: boolean;
  outcome?: ActionRequest['outcome'];
  /** For denied: the policy's reason; for pending: what to do next. */
  message: string;
  waitingFor?: { group: string; quorum: number; approvedBy: string[] }[];
}

/** The arguments of a governed tool, as the model fills them. */
export interface GovernedInput {
  params: Record<string, unknown>;
  reason: string;
}

/** The tool name of an action: tool APIs accept letters, digits, `_` and `-`. */
export function toolName(action: string): string {
  return action.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** The JSON Schema of a governed tool's arguments: the action's parameters and the reason for asking. */
export function governedInputSchema(action: ActionDescription): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      params: action.params,
      reason: { type: 'string', description: 'Why you ask for this; shown to the people who approve it.' },
    },
    required: ['params', 'reason'],
    additionalProperties: false,
  };
}

/** The description a model reads. */
export function governedDescription(action: ActionDescription): string {
  return `${action.description} Governed by Countersign (risk: ${action.risk}): policy may allow, deny or ask people to approve.`;
}

/** Runs one governed call: submit under the call's key, wait on Countersign, report the outcome. */
export async function runGoverned(
  client: CountersignClient,
  action: ActionDescription,
  input: GovernedInput,
  callId: string | undefined,
  options: GovernedToolOptions & { signal?: AbortSignal } = {},
): Promise<GovernedResult> {
  const key = callId ? `${options.keyPrefix ?? 'tool'}:${callId}` : undefined;
  const submitted = await client.submit(
    { action: action.name, params: input.params, reason: input.reason },
    { ...(key ? { idempotencyKey: key } : {}), ...(options.signal ? { signal: options.signal } : {}) },
  );
  const request = isTerminal(submitted.status)
    ? submitted
    : await client.wait(submitted.id, {
        timeoutMs: options.waitMs ?? 5 * 60_000,
        ...(options.signal ? { signal: options.signal } : {}),
      });
  return resultOf(request);
}

function resultOf(r: ActionRequest): GovernedResult {
  const base = { requestId: r.id, status: r.status, ok: r.status === 'succeeded' };
  const outcome = r.outcome ? { outcome: r.outcome } : {};
  switch (r.status) {
    case 'succeeded':
      return { ...base, ...outcome, message: `done: ${r.outcome?.summary ?? ''}`.trim() };
    case 'denied':
      return { ...base, message: `denied by policy: ${r.decision.reason ?? 'no reason given'}` };
    case 'pending_approval':
      return {
        ...base,
        message: `still waiting for approval; ask again later with request id ${r.id}`,
        waitingFor: r.decision.approvals
          .filter((a) => !a.satisfied)
          .map((a) => ({ group: a.group, quorum: a.quorum, approvedBy: a.approvedBy })),
      };
    default:
      return { ...base, ...outcome, message: `${r.status}${r.outcome ? `: ${r.outcome.summary}` : ''}` };
  }
}
