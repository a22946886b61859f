// What the Slack layer asks of the running requests, over the Temporal client: a request's state, the decision
// signal, and the visibility queries behind App Home and `/countersign pending`.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { getStateQuery, submitDecisionSignal } from '../src/contracts/messages';
import { WORKFLOW_TYPE } from '../src/contracts/names';
import type { ActionRequestState, DecisionChoice, DecisionSubmission } from '../src/contracts/types';

export interface SlackRequestGateway {
  /** The request's state, or undefined when there is no such request. Throws when no worker answers in time. */
  state(requestId: string): Promise<ActionRequestState | undefined>;
  /** True when the request's workflow is still running (answered by the server alone, no worker needed). */
  isOpen(requestId: string): Promise<boolean>;
  /** Sends a decision to the request's workflow (durable even with no worker up). */
  submitDecision(requestId: string, submission: DecisionSubmission): Promise<void>;
  /** Requests waiting for this approver, newest first. */
  pendingFor(approver: string, limit: number): Promise<ActionRequestState[]>;
  /** This approver's latest decisions, newest first. */
  recentDecisionsOf(
    approver: string,
    limit: number,
  ): Promise<{ state: ActionRequestState; decision: DecisionChoice; at: string }[]>;
}

export interface TemporalGatewayOptions {
  /** Lists only requests of this control task queue (deployments sharing a namespace). */
  taskQueue?: string;
  /** How long a state query may wait for a worker (default 3 s): a stalled request must not stall a click or a list. */
  queryTimeoutMs?: number;
}

/** The gateway over a Temporal client. */
export function createTemporalGateway(client: Client, options: TemporalGatewayOptions = {}): SlackRequestGateway {
  const queryTimeoutMs = options.queryTimeoutMs ?? 3_000;
  const scope = `WorkflowType = '${WORKFLOW_TYPE}'${options.taskQueue ? ` AND TaskQueue = '${quote(options.taskQueue)}'` : ''}`;

  async function state(requestId: string): Promise<ActionRequestState | undefined> {
    const handle = client.workflow.getHandle(requestId);
    try {
      const description = await handle.describe();
      if (description.type !== WORKFLOW_TYPE) return undefined;
      const deadline = Date.now() + queryTimeoutMs;
      if (description.status.name === 'COMPLETED') {
        return (await client.connection.withDeadline(deadline, () => handle.result())) as ActionRequestState;
      }
      return await client.connection.withDeadline(deadline, () => handle.query(getStateQuery));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  async function list(query: string, limit: number): Promise<ActionRequestState[]> {
    const ids: string[] = [];
    for await (const wf of client.workflow.list({ query: `${scope} AND ${query}`, pageSize: limit })) {
      ids.push(wf.workflowId);
      if (ids.length >= limit) break;
    }
    // A request that cannot be read right now (no worker to answer the query) is left out rather than failing the list.
    const states = await Promise.all(ids.map((id) => state(id).catch(() => undefined)));
    return states.filter((s): s is ActionRequestState => s !== undefined);
  }

  return {
    state,
    async isOpen(requestId) {
      try {
        const description = await client.workflow.getHandle(requestId).describe();
        return description.type === WORKFLOW_TYPE && description.status.name === 'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    },
    async submitDecision(requestId, submission) {
      await client.workflow.getHandle(requestId).signal(submitDecisionSignal, submission);
    },
    async pendingFor(approver, limit) {
      const states = await list(`CsApprovers = '${quote(approver)}' AND CsStatus = 'pending_approval'`, limit);
      // Visibility lags the workflow a little: keep only what still waits and still lists this approver.
      return states.filter((s) => s.status === 'pending_approval' && s.eligibleApprovers.includes(approver));
    },
    async recentDecisionsOf(approver, limit) {
      const states = await list(`CsApprovers = '${quote(approver)}' AND CsStatus != 'pending_approval'`, limit * 3);
      const out: { state: ActionRequestState; decision: DecisionChoice; at: string }[] = [];
      for (const s of states) {
        const d = [...s.approvals, ...s.rejections].find((x) => x.approver === approver);
        if (d) out.push({ state: s, decision: d.decision, at: d.receivedAt });
      }
      return out.sort((a, b) => b.at.localeCompare(a.at)).slice(0, limit);
    },
  };
}

function quote(value: string): string {
  return value.replace(/['"\\]/g, '');
}
