// Request ids: derived from the agent and its idempotency key, so a retried submit lands on the same workflow.
import { sha256Hex } from '../canonical';

const REQUEST_ID = /^req_[0-9a-f]{32}$/;

/** Derives the request (and workflow) id from the agent and its idempotency key: a retried submit lands on it again. */
export function requestIdFor(agentId: string, idempotencyKey: string): string {
  return `req_${sha256Hex(`${agentId}\u0000${idempotencyKey}`).slice(0, 32)}`;
}

/** True for strings shaped like a request id (anything else cannot name a request). */
export function isRequestId(id: string): boolean {
  return REQUEST_ID.test(id);
}
