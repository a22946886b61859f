// What the Slack layer asks of the requests, through the Temporal adapter: a request's fixed facts (to identify a
// clicker), its state, the decision update (and the durable rejection when no worker answers), and the visibility
// queries behind App Home and `/countersign pending`.
import type { ActionRequestState, DecideResult, DecisionChoice, DecisionSubmission } from '../src/contracts/types';
import type { TemporalAdapter } from '../src/temporal/adapter';
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

/** The gateway over the Temporal adapter; `facts` is this process's cache of fixed facts (filled as requests pass). */
export function createRequestGateway(temporal: TemporalAdapter, facts?: RequestFactsCache): SlackRequestGateway {
  const remember = (state: RequestFacts) => facts?.remember(state);

  async function states(filter: Parameters<TemporalAdapter['list']>[0], limit: number): Promise<ActionRequestState[]> {
    const executions = await temporal.list(filter, limit);
    // A request that cannot be read right now is left out rather than failing the list.
    const read = await Promise.all(executions.map((e) => temporal.read(e).catch(() => undefined)));
    return read.filter((s): s is ActionRequestState => s !== undefined);
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
      const found = await states({ approver, status: 'pending_approval' }, limit);
      // Visibility lags the workflow a little: keep only what still waits and still lists this approver.
      return found.filter((s) => s.status === 'pending_approval' && s.eligibleApprovers.includes(approver));
    },
    async recentDecisionsOf(approver, limit) {
      const found = await states({ approver, notStatus: 'pending_approval' }, limit * 3);
      const out: { state: ActionRequestState; decision: DecisionChoice; at: string }[] = [];
      for (const s of found) {
        const d = [...s.approvals, ...s.rejections].find((x) => x.approver === approver);
        if (d) out.push({ state: s, decision: d.decision, at: d.receivedAt });
      }
      return out.sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit);
    },
  };
}
