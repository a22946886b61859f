// What the Slack layer asks of the requests, through the Temporal adapter: a request's fixed facts (to identify a
// clicker), its state, the decision update (and the durable rejection when no worker answers), and the visibility
// queries behind App Home and `/countersign pending`, whose rows come from what visibility returns (search attributes
// and memo) rather than from a read of each request.
import type {
  ActionRequestState,
  DecideResult,
  DecisionChoice,
  DecisionSubmission,
  RequirementProgress,
} from '../src/contracts/types';
import type { RequestExecution, TemporalAdapter } from '../src/temporal/adapter';
import { factsFromMemo, factsOf, type RequestFacts, type RequestFactsCache } from './request-facts';

export interface SlackRequestGateway {
  /**
   * A request's fixed facts: from this process's cache, else from its start memo (one Describe, no worker), else from
   * the workflow. Undefined when there is no such request; throws when none of these can answer.
   */
  facts(requestId: string): Promise<RequestFacts | undefined>;
  /** The request's state in one call, or undefined when there is no such request. Throws when no worker answers. */
  state(requestId: string): Promise<ActionRequestState | undefined>;
  /** The workflow's verdict on a decision (one update); undefined when the request is no longer running. */
  decide(requestId: string, submission: DecisionSubmission): Promise<DecideResult | undefined>;
  /** Queues a rejection durably for when a worker runs again; false when the request is not running. */
  queueRejection(requestId: string, submission: DecisionSubmission): Promise<boolean>;
  /** Requests waiting for this approver, newest first. */
  pendingFor(approver: string, limit: number): Promise<ActionRequestState[]>;
  /** This approver's latest decisions, newest first. */
  recentDecisionsOf(
    approver: string,
    limit: number,
  ): Promise<{ state: ActionRequestState; decision: DecisionChoice; at: string }[]>;
}

/** Memo key the workflow upserts with `state.requirements` whenever a decision is accepted or an escalation fires. */
export const REQUIREMENTS_MEMO_KEY = 'requirements';

/** The gateway over the Temporal adapter; `facts` is this process's cache of fixed facts (filled as requests pass). */
export function createRequestGateway(temporal: TemporalAdapter, facts?: RequestFactsCache): SlackRequestGateway {
  const remember = (state: RequestFacts) => facts?.remember(state);

  /** Rows as visibility holds them; a row whose memo cannot stand in for the request is read from it instead. */
  async function rows(
    executions: RequestExecution[],
    fromVisibility: (e: RequestExecution) => ActionRequestState | undefined,
  ): Promise<ActionRequestState[]> {
    const out = await Promise.all(
      // A request that cannot be read right now is left out rather than failing the list.
      executions.map(async (e) => fromVisibility(e) ?? temporal.read(e).catch(() => undefined)),
    );
    return out.filter((s): s is ActionRequestState => s !== undefined);
  }

  return {
    async facts(requestId) {
      const known = facts?.get(requestId);
      if (known) return known;
      const execution = await temporal.describe(requestId);
      if (!execution) return undefined;
      const found = factsFromMemo(execution.memo, requestId) ?? factsOf(await temporal.read(execution));
      remember(found);
      return found;
    },
    state: (requestId) => temporal.query(requestId),
    async decide(requestId, submission) {
      const result = await temporal.decide(requestId, submission);
      if (result) remember(result.state);
      return result;
    },
    queueRejection: (requestId, submission) => temporal.queueRejection(requestId, submission),
    async pendingFor(approver, limit) {
      const listed = await temporal.list({ approver, status: 'pending_approval' }, limit);
      const nowMs = Date.now();
      const found = await rows(listed, (e) => pendingRow(e, nowMs));
      // Visibility lags the workflow a little: keep only what still runs, still waits and still lists this approver.
      return found.filter((s) => s.status === 'pending_approval' && s.eligibleApprovers.includes(approver));
    },
    async recentDecisionsOf(approver, limit) {
      const listed = await temporal.list({ approver, notStatus: 'pending_approval' }, limit * 3);
      // Only requests this approver may have decided are read (their decisions and times are not in visibility).
      const candidates = listed.filter((e) => !undecidedBy(e, approver));
      const found = await rows(candidates, () => undefined);
      const out: { state: ActionRequestState; decision: DecisionChoice; at: string }[] = [];
      for (const s of found) {
        const d = [...s.approvals, ...s.rejections].find((x) => x.approver === approver);
        if (d) out.push({ state: s, decision: d.decision, at: d.receivedAt });
      }
      return out.sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit);
    },
  };
}

/**
 * A pending request's row from visibility alone: the start memo's initial state with the status and approvers of the
 * search attributes and, when the workflow keeps it in the memo, the requirements' progress. Undefined when only the
 * workflow can say (no start memo; or no progress in the memo while approvals or an escalation may have moved it).
 * A row of a closed workflow reads as its Temporal status, so the pending filter drops it.
 */
export function pendingRow(execution: RequestExecution, nowMs: number): ActionRequestState | undefined {
  const request = execution.memo.request as ActionRequestState | undefined;
  if (!isInitialState(request, execution.id)) return undefined;
  const progress = requirementsOf(execution.memo);
  if (!progress && mayHaveProgressed(request, nowMs)) return undefined;
  const state = structuredClone(request);
  state.status = execution.executionStatus === 'RUNNING' ? (execution.status ?? state.status) : 'terminated';
  if (execution.approvers) state.eligibleApprovers = [...execution.approvers];
  if (progress) state.requirements = progress;
  return state;
}

/** True when visibility alone shows the approver made no accepted decision on a closed or running request. */
function undecidedBy(execution: RequestExecution, approver: string): boolean {
  const progress = requirementsOf(execution.memo);
  if (!progress || execution.status === 'rejected' || execution.status === undefined) return false;
  // An accepted approval counts toward a requirement, and progress only grows: absent from every one, none was made.
  return !progress.some((r) => r.approvedBy.includes(approver));
}

/**
 * Without the progress in the memo, a pending request still reads as submitted only when one approval would have
 * ended its wait and no escalation can have fired yet.
 */
function mayHaveProgressed(request: ActionRequestState, nowMs: number): boolean {
  const requirements = request.decision.approvals;
  if (requirements.reduce((n, r) => n + r.quorum, 0) > 1) return true;
  const submittedMs = Date.parse(request.submittedAt);
  return requirements.some((r) => r.escalateAfterMs !== undefined && !(submittedMs + r.escalateAfterMs > nowMs));
}

function isInitialState(value: unknown, requestId: string): value is ActionRequestState {
  const s = value as Partial<ActionRequestState> | undefined;
  return (
    typeof s === 'object' &&
    s !== null &&
    s.requestId === requestId &&
    typeof s.action === 'string' &&
    typeof s.paramsHash === 'string' &&
    typeof s.submittedAt === 'string' &&
    typeof s.agent?.id === 'string' &&
    Array.isArray(s.decision?.approvals) &&
    Array.isArray(s.requirements) &&
    Array.isArray(s.eligibleApprovers)
  );
}

function requirementsOf(memo: Record<string, unknown>): RequirementProgress[] | undefined {
  const value = memo[REQUIREMENTS_MEMO_KEY];
  if (!Array.isArray(value)) return undefined;
  const valid = value.every((r: Partial<RequirementProgress> | null) => {
    return (
      typeof r === 'object' &&
      r !== null &&
      typeof r.ruleId === 'string' &&
      typeof r.group === 'string' &&
      typeof r.quorum === 'number' &&
      Array.isArray(r.approvedBy) &&
      r.approvedBy.every((a) => typeof a === 'string') &&
      typeof r.satisfied === 'boolean' &&
      typeof r.escalated === 'boolean'
    );
  });
  return valid ? structuredClone(value as RequirementProgress[]) : undefined;
}
