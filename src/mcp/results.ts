// How a request reads as an MCP tool result, shared by the tools and the task handlers: the same structured content and
// text whether the result comes back from tools/call or, for a task, from tasks/result.
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { isTerminal, type RequestStatus } from '../contracts/types';
import type { AppError } from '../errors';
import type { ActionRequestResource } from '../http/schemas';

/** Tools beside the action tools. */
export const STATUS_TOOL = 'countersign_request_status';
export const AWAIT_TOOL = 'countersign_await_decision';
/** Longest wait of `countersign_await_decision`: MCP hosts time a call out near 60 s. */
export const MAX_AWAIT_SECONDS = 45;
/** A request as a tool result: terminal failures are errors, pending ones say what they wait for. */
export function resultOf(request: ActionRequestResource): CallToolResult {
  const structured = {
    requestId: request.id,
    status: request.status,
    action: request.action,
    ...(request.outcome ? { outcome: request.outcome } : {}),
    ...(request.decision.reason ? { reason: request.decision.reason } : {}),
    ...(request.status === 'pending_approval'
      ? {
          waitingFor: request.decision.approvals
            .filter((a) => !a.satisfied)
            .map((a) => ({ group: a.group, quorum: a.quorum, approvedBy: a.approvedBy })),
          ...(request.expiresAt ? { expiresAt: request.expiresAt } : {}),
        }
      : {}),
    links: request.links,
  };
  const failed = ['failed', 'denied', 'rejected', 'expired', 'cancelled'].includes(request.status);
  return {
    content: [{ type: 'text', text: describeRequest(request) }],
    structuredContent: structured,
    ...(failed ? { isError: true } : {}),
  };
}

/** One sentence on where a request stands, for the model. */
export function describeRequest(r: ActionRequestResource): string {
  switch (r.status) {
    case 'succeeded':
      return `${r.action} ran (${r.id}): ${r.outcome?.summary ?? 'done'}`;
    case 'failed':
      return `${r.action} failed (${r.id}): ${r.outcome?.summary ?? 'no outcome'}`;
    case 'denied':
      return `${r.action} was denied by policy (${r.id}): ${r.decision.reason ?? 'no reason given'}`;
    case 'pending_approval': {
      const waits = r.decision.approvals
        .filter((a) => !a.satisfied)
        .map((a) => `${a.quorum - a.approvedBy.length} of group ${a.group}`)
        .join(', ');
      return `${r.action} needs approval (${r.id}); waiting for ${waits || 'approvers'}${r.expiresAt ? ` until ${r.expiresAt}` : ''}. Call ${AWAIT_TOOL} with this requestId to wait for the decision.`;
    }
    default:
      return `${r.action} is ${r.status} (${r.id}).${isTerminal(r.status) ? '' : ` Call ${AWAIT_TOOL} to wait.`}`;
  }
}

/** A refusal (schema, scope, policy) as an error result the model can read. */
export function errorResult(err: AppError): CallToolResult {
  const issues = err.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
  return {
    content: [{ type: 'text', text: `${err.code}: ${err.message}${issues ? ` (${issues})` : ''}` }],
    structuredContent: { code: err.code, detail: err.message, errors: err.errors },
    isError: true,
  };
}

/** How often a waiting call reports progress (and re-polls the request), in seconds. */
export const PROGRESS_EVERY_SECONDS = 5;

/**
 * Long-polls a request from `state` until it is terminal, the caller aborts or `seconds` have passed, sending an MCP
 * progress notification before each poll when the call carries a progressToken. `poll(waitSeconds)` reads it again.
 */
export async function pollWithProgress<S extends { status: RequestStatus }>(options: {
  id: string;
  state: S;
  seconds: number;
  everySeconds: number;
  extra: RequestHandlerExtra<ServerRequest, ServerNotification>;
  poll: (waitSeconds: number) => Promise<S>;
}): Promise<S> {
  const { id, extra } = options;
  const deadline = Date.now() + options.seconds * 1000;
  const progressToken = extra._meta?.progressToken;
  let state = options.state;
  let step = 0;
  while (!isTerminal(state.status) && !extra.signal.aborted) {
    const left = Math.ceil((deadline - Date.now()) / 1000);
    if (left <= 0) break;
    if (progressToken !== undefined) {
      step += 1;
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken, progress: step, message: `${id} is ${state.status}` },
      });
    }
    state = await options.poll(Math.min(options.everySeconds, left));
  }
  return state;
}
