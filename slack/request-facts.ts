// What a click needs to know about a request that never changes while it runs: the agent (and its owner), the person it
// acts for, the action and the decision's approval requirements (escalations included). With these the clicker is
// identified (self-approval exclusion, user-group attestations) without asking the workflow: they come from a cache
// filled when this process posted the request's approval message or decided it, else from the start memo that
// Describe returns (`memo.request`, the request's initial state). Everything that changes (status, approvals,
// escalations) the workflow alone judges, inside the decide update.
import type { ActionRequestState, ApprovalRequirement } from '../src/contracts/types';

/** The fixed facts of one request. An ActionRequestState is one too. */
export interface RequestFacts {
  requestId: string;
  agent: { id: string; owner: string };
  action: string;
  onBehalfOf?: string;
  decision: { approvals: ApprovalRequirement[] };
  /** When the request stops waiting for people (ISO); absent when it never waited. */
  expiresAt?: string;
}

/** A slim copy of a state's fixed facts (the cache keeps no parameters, decisions or timeline). */
export function factsOf(state: RequestFacts): RequestFacts {
  return {
    requestId: state.requestId,
    agent: { id: state.agent.id, owner: state.agent.owner },
    action: state.action,
    ...(state.onBehalfOf ? { onBehalfOf: state.onBehalfOf } : {}),
    decision: { approvals: structuredClone(state.decision.approvals) },
    ...(state.expiresAt ? { expiresAt: state.expiresAt } : {}),
  };
}

/**
 * The facts held by a start memo's `request` (the initial state), or undefined when the memo has none in that shape
 * (requests started before it was kept, or a memo that was slimmed): the caller then asks the workflow.
 */
export function factsFromMemo(memo: Record<string, unknown>, requestId: string): RequestFacts | undefined {
  const request = memo.request as Partial<ActionRequestState> | undefined;
  if (!request || typeof request !== 'object' || request.requestId !== requestId) return undefined;
  const { agent, decision, action, onBehalfOf, expiresAt } = request;
  if (typeof agent?.id !== 'string' || typeof agent.owner !== 'string' || typeof action !== 'string') return undefined;
  if (onBehalfOf !== undefined && typeof onBehalfOf !== 'string') return undefined;
  if (!Array.isArray(decision?.approvals) || !decision.approvals.every(isRequirement)) return undefined;
  return factsOf({
    requestId,
    agent,
    action,
    decision: { approvals: decision.approvals },
    ...(onBehalfOf ? { onBehalfOf } : {}),
    ...(typeof expiresAt === 'string' ? { expiresAt } : {}),
  });
}

function isRequirement(value: unknown): value is ApprovalRequirement {
  const r = value as Partial<ApprovalRequirement> | null;
  const strings = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((s) => typeof s === 'string'));
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.ruleId === 'string' &&
    Array.isArray(r.members) &&
    strings(r.members) &&
    Array.isArray(r.escalationMembers) &&
    strings(r.escalationMembers) &&
    strings(r.usergroups) &&
    strings(r.escalationUsergroups)
  );
}

export interface RequestFactsCacheOptions {
  /** Most requests kept (default 10,000; the oldest entry goes first). */
  max?: number;
  /** How long facts stay after the request's expiry, or at all when it never waited (default 5 min). */
  graceMs?: number;
  now?: () => number;
}

/** Facts of the requests this process has seen, kept while they can still be decided. */
export function createRequestFactsCache(options: RequestFactsCacheOptions = {}) {
  const max = options.max ?? 10_000;
  const graceMs = options.graceMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, { facts: RequestFacts; untilMs: number }>();

  return {
    /** The facts of a request, if this process has them. */
    get(requestId: string): RequestFacts | undefined {
      const hit = entries.get(requestId);
      if (!hit) return undefined;
      if (hit.untilMs <= now()) {
        entries.delete(requestId);
        return undefined;
      }
      return hit.facts;
    },
    /** Keeps a request's facts until shortly after it expires. */
    remember(state: RequestFacts): void {
      if (entries.has(state.requestId)) return;
      const expiresMs = state.expiresAt ? Date.parse(state.expiresAt) : Number.NaN;
      const untilMs = (Number.isFinite(expiresMs) ? Math.max(expiresMs, now()) : now()) + graceMs;
      while (entries.size >= max) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
      entries.set(state.requestId, { facts: factsOf(state), untilMs });
    },
    /** Drops a request that has ended. */
    forget(requestId: string): void {
      entries.delete(requestId);
    },
    get size(): number {
      return entries.size;
    },
  };
}

export type RequestFactsCache = ReturnType<typeof createRequestFactsCache>;
