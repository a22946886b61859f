// The request domain: submit, read, list, cancel and decide. HTTP routes and the CLI stay thin over this.
import { randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import type { AgentRecord } from './agents';
import { canonicalJson, paramsHash, sha256Hex } from './canonical';
import type { ActionCatalog } from './catalog';
import type { CountersignConfig } from './config/schema';
import { describeRefusal, authorizeDecision } from './contracts/authorization';
import { cancelRequestSignal, getStateQuery, submitDecisionSignal } from './contracts/messages';
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPE } from './contracts/names';
import {
  isTerminal,
  type ActionRequestInput,
  type ActionRequestState,
  type ActionTarget,
  type DecisionChannel,
  type DecisionChoice,
  type PolicyDecision,
  type RequestStatus,
} from './contracts/types';
import { excludedApprovers } from './directory';
import { AppError } from './errors';
import type { Logger } from './logger';
import type { PolicyEngine, PolicyInput } from './policy/engine';
import type { TaskQueues } from './temporal/worker';

/** What an agent submits. */
export interface SubmitBody {
  action: string;
  params: Record<string, unknown>;
  reason: string;
  onBehalfOf?: string;
  target?: ActionTarget;
}

/** Hooks for metrics; all optional. */
export interface RequestObserver {
  decided?(action: string, decision: PolicyDecision, seconds: number): void;
}

export interface RequestServiceDeps {
  client: Client;
  config: CountersignConfig;
  catalog: ActionCatalog;
  policy: PolicyEngine;
  taskQueues: TaskQueues;
  logger: Logger;
  observer?: RequestObserver;
  /** Extra CEL variables (usage, signals) for a request; later stages provide them. */
  policyExtras?: (agent: AgentRecord, body: SubmitBody) => Promise<Record<string, unknown>>;
  /** Longest `wait` a caller may ask for, in seconds. */
  maxWaitSeconds?: number;
}

/** Who is asking: an agent sees only its own requests; an operator sees all. */
export type Caller = { kind: 'agent'; agent: AgentRecord } | { kind: 'operator'; id: string };

export interface SubmitResult {
  created: boolean;
  state: ActionRequestState;
}

export interface ListFilter {
  status?: RequestStatus;
  agentId?: string;
  action?: string;
  limit?: number;
}

export interface RequestSummary {
  id: string;
  agent: string;
  action: string;
  status: RequestStatus;
  risk?: string;
  submittedAt: string;
  closedAt?: string;
}

const MAX_WAIT_SECONDS = 30;

/** Derives the request (and workflow) id from the agent and its idempotency key: a retried submit lands on it again. */
export function requestIdFor(agentId: string, idempotencyKey: string): string {
  return `req_${sha256Hex(`${agentId}\u0000${idempotencyKey}`).slice(0, 32)}`;
}

/** The request service. */
export function createRequestService(deps: RequestServiceDeps) {
  const maxWait = Math.min(deps.maxWaitSeconds ?? MAX_WAIT_SECONDS, MAX_WAIT_SECONDS);

  /** Validates, decides by policy and starts (or finds) the request's workflow. */
  async function submit(agent: AgentRecord, body: SubmitBody, idempotencyKey?: string): Promise<SubmitResult> {
    const action = deps.catalog.get(body.action);
    if (!action) {
      throw new AppError('unknown_action', `unknown action "${body.action}"`, {
        errors: [{ path: 'action', message: `not in the catalog; known: ${deps.catalog.names().join(', ')}` }],
      });
    }
    if (!agent.enabled) throw new AppError('forbidden', `agent ${agent.id} is not active`);
    if (!agent.allowedActions.includes(body.action)) {
      throw new AppError('forbidden', `agent ${agent.id} may not request ${body.action}`, {
        errors: [{ path: 'action', message: 'not in the agent’s allowed actions' }],
      });
    }
    const issues = deps.catalog.validate(body.action, body.params);
    if (issues.length > 0) throw new AppError('invalid_params', 'parameters do not match the action’s schema', { errors: issues });

    const key = idempotencyKey ?? randomUUID();
    const requestId = requestIdFor(agent.id, key);
    const bodyHash = sha256Hex(canonicalJson(body));
    const nonce = randomUUID();

    const started = performance.now();
    const policyInput: PolicyInput = {
      action: body.action,
      params: body.params,
      agent: { id: agent.id, owner: agent.owner, description: agent.description, allowedActions: agent.allowedActions },
      request: { reason: body.reason, onBehalfOf: body.onBehalfOf, target: body.target, time: new Date() },
      extra: deps.policyExtras ? await deps.policyExtras(agent, body) : undefined,
    };
    const { decision } = deps.policy.evaluate(policyInput);
    deps.observer?.decided?.(body.action, decision, (performance.now() - started) / 1000);

    const connector = deps.config.connectors[action.connector];
    const input: ActionRequestInput = {
      requestId,
      agent: { id: agent.id, owner: agent.owner },
      action: body.action,
      risk: action.risk,
      params: body.params,
      paramsHash: paramsHash(body.params),
      reason: body.reason,
      ...(body.onBehalfOf ? { onBehalfOf: body.onBehalfOf } : {}),
      ...(body.target ? { target: body.target } : {}),
      submittedAt: new Date().toISOString(),
      decision,
      excludedApprovers: excludedApprovers(deps.config, agent.owner, body.onBehalfOf),
      connector: {
        name: action.connector,
        type: connector?.type ?? 'http',
        taskQueue: deps.taskQueues.connector(action.connector),
        timeoutMs: connector?.timeout ?? 10_000,
      },
    };

    try {
      await deps.client.workflow.start(WORKFLOW_TYPE, {
        workflowId: requestId,
        taskQueue: deps.taskQueues.control,
        args: [input],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        memo: { bodyHash, nonce },
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.agent, value: agent.id },
          { key: SEARCH_ATTRIBUTES.action, value: body.action },
          { key: SEARCH_ATTRIBUTES.status, value: initialStatus(decision) },
          { key: SEARCH_ATTRIBUTES.risk, value: action.risk },
          { key: SEARCH_ATTRIBUTES.policy, value: decision.policyVersion },
          { key: SEARCH_ATTRIBUTES.approvers, value: decision.approvals.flatMap((a) => a.members) },
        ],
        staticSummary: `${body.action} by ${agent.id}: ${decision.effect} (${decision.rules.join(', ') || 'no rule matched'})`,
        staticDetails: staticDetails(input),
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }

    if (idempotencyKey) {
      const description = await deps.client.workflow.getHandle(requestId).describe();
      const memo = description.memo ?? {};
      if (memo.nonce !== nonce) {
        if (memo.bodyHash !== bodyHash) {
          throw new AppError('idempotency_mismatch', 'this Idempotency-Key was used with a different request body', {
            errors: [{ path: 'Idempotency-Key', message: 'reused with a different body' }],
          });
        }
        return { created: false, state: await currentState(deps.client.workflow.getHandle(requestId), description) };
      }
    }
    deps.logger.info(
      { requestId, agent: agent.id, action: body.action, effect: decision.effect, rules: decision.rules },
      'request submitted',
    );
    return { created: true, state: initialState(input) };
  }

  /** Reads a request the caller may see; 404 for anything else. Waits up to `waitSeconds` for a terminal state. */
  async function get(caller: Caller, id: string, waitSeconds = 0): Promise<ActionRequestState> {
    const handle = deps.client.workflow.getHandle(id);
    const description = await describeVisible(caller, handle);
    let state = await currentState(handle, description);
    if (waitSeconds > 0 && !isTerminal(state.status)) state = await waitForTerminal(handle, state, waitSeconds);
    return state;
  }

  /** Waits until the request is terminal or the wait is over, returning the latest state. */
  async function waitForTerminal(
    handle: WorkflowHandle,
    current: ActionRequestState,
    waitSeconds: number,
  ): Promise<ActionRequestState> {
    const deadline = Date.now() + Math.min(waitSeconds, maxWait) * 1000;
    try {
      // A bounded long poll on the workflow's close event; it ends with the deadline, leaving nothing behind.
      return (await deps.client.connection.withDeadline(deadline, () => handle.result())) as ActionRequestState;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new AppError('not_found', 'no such request');
      return (await handle.query(getStateQuery).catch(() => current)) ?? current;
    }
  }

  /** Lists requests: an agent's own, or across agents for operators. */
  async function list(caller: Caller, filter: ListFilter = {}): Promise<RequestSummary[]> {
    const clauses = [`WorkflowType = '${WORKFLOW_TYPE}'`];
    const agentId = caller.kind === 'agent' ? caller.agent.id : filter.agentId;
    if (agentId) clauses.push(`CsAgent = '${quote(agentId)}'`);
    if (filter.status) clauses.push(`CsStatus = '${quote(filter.status)}'`);
    if (filter.action) clauses.push(`CsAction = '${quote(filter.action)}'`);
    const limit = Math.min(filter.limit ?? 50, 500);
    const out: RequestSummary[] = [];
    for await (const wf of deps.client.workflow.list({ query: clauses.join(' AND '), pageSize: limit })) {
      const sa = wf.typedSearchAttributes;
      out.push({
        id: wf.workflowId,
        agent: sa.get(SEARCH_ATTRIBUTES.agent) ?? '',
        action: sa.get(SEARCH_ATTRIBUTES.action) ?? '',
        status: (sa.get(SEARCH_ATTRIBUTES.status) ?? 'pending_approval') as RequestStatus,
        risk: sa.get(SEARCH_ATTRIBUTES.risk),
        submittedAt: wf.startTime.toISOString(),
        ...(wf.closeTime ? { closedAt: wf.closeTime.toISOString() } : {}),
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Cancels a pending request (its agent or an operator). */
  async function cancel(caller: Caller, id: string, reason?: string): Promise<ActionRequestState> {
    const handle = deps.client.workflow.getHandle(id);
    const description = await describeVisible(caller, handle);
    const state = await currentState(handle, description);
    if (state.status !== 'pending_approval') {
      throw new AppError('conflict', `request is ${state.status}; only pending requests can be cancelled`);
    }
    const by = caller.kind === 'agent' ? `agent:${caller.agent.id}` : `operator:${caller.id}`;
    await handle.signal(cancelRequestSignal, { by, ...(reason ? { reason } : {}) });
    return waitForChange(handle, state);
  }

  /** Records an operator's decision; refusals are answered at once and still recorded by the workflow. */
  async function decide(
    id: string,
    decision: { decision: DecisionChoice; approver: string; reason?: string; channel?: DecisionChannel },
  ): Promise<ActionRequestState> {
    const handle = deps.client.workflow.getHandle(id);
    const description = await describeVisible({ kind: 'operator', id: decision.approver }, handle);
    const state = await currentState(handle, description);
    const submission = {
      approver: decision.approver,
      decision: decision.decision,
      channel: decision.channel ?? 'api',
      paramsHash: state.paramsHash,
      at: new Date().toISOString(),
      ...(decision.reason ? { reason: decision.reason } : {}),
    } as const;
    const refusal = authorizeDecision(
      {
        status: state.status,
        paramsHash: state.paramsHash,
        excludedApprovers: excludedFromState(state, deps.config),
        eligibleApprovers: state.eligibleApprovers,
        decidedBy: [...state.approvals, ...state.rejections].map((d) => d.approver),
      },
      submission,
    );
    // The workflow is the authority and records every attempt, refused ones included.
    if (!isTerminal(state.status)) await handle.signal(submitDecisionSignal, submission);
    if (refusal) {
      throw new AppError('decision_refused', describeRefusal(refusal), { errors: [{ path: 'approver', message: refusal }] });
    }
    return waitForChange(handle, state);
  }

  async function describeVisible(caller: Caller, handle: WorkflowHandle): Promise<WorkflowExecutionDescription> {
    let description: WorkflowExecutionDescription;
    try {
      description = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new AppError('not_found', 'no such request');
      throw err;
    }
    if (description.type !== WORKFLOW_TYPE) throw new AppError('not_found', 'no such request');
    if (caller.kind === 'agent' && description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.agent) !== caller.agent.id) {
      throw new AppError('not_found', 'no such request');
    }
    return description;
  }

  /** After a signal: the state once the workflow has processed it (bounded). */
  async function waitForChange(handle: WorkflowHandle, before: ActionRequestState): Promise<ActionRequestState> {
    const deadline = Date.now() + 5000;
    const seen = before.timeline.length;
    for (;;) {
      const state = await handle.query(getStateQuery);
      if (state.timeline.length > seen || isTerminal(state.status) || Date.now() > deadline) return state;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  return { submit, get, list, cancel, decide };
}

export type RequestService = ReturnType<typeof createRequestService>;

async function currentState(handle: WorkflowHandle, description: WorkflowExecutionDescription): Promise<ActionRequestState> {
  if (description.status.name === 'COMPLETED') return (await handle.result()) as ActionRequestState;
  return handle.query(getStateQuery);
}

function excludedFromState(state: ActionRequestState, config: CountersignConfig): string[] {
  return excludedApprovers(config, state.agent.owner, state.onBehalfOf);
}

function initialStatus(decision: PolicyDecision): RequestStatus {
  return decision.effect === 'allow' ? 'approved' : decision.effect === 'deny' ? 'denied' : 'pending_approval';
}

/** The state a new request starts in, before its workflow's first task runs. */
function initialState(input: ActionRequestInput): ActionRequestState {
  const expireAfter = input.decision.approvals.length
    ? Math.min(...input.decision.approvals.map((a) => a.expireAfterMs))
    : undefined;
  const eligible = [...new Set(input.decision.approvals.flatMap((a) => a.members))].filter(
    (m) => !input.excludedApprovers.includes(m),
  );
  return {
    requestId: input.requestId,
    status: initialStatus(input.decision),
    agent: input.agent,
    action: input.action,
    risk: input.risk,
    paramsHash: input.paramsHash,
    reason: input.reason,
    ...(input.onBehalfOf ? { onBehalfOf: input.onBehalfOf } : {}),
    ...(input.target ? { target: input.target } : {}),
    submittedAt: input.submittedAt,
    decision: input.decision,
    ...(expireAfter !== undefined ? { expiresAt: new Date(Date.parse(input.submittedAt) + expireAfter).toISOString() } : {}),
    eligibleApprovers: eligible,
    requirements: input.decision.approvals.map((a) => ({
      ruleId: a.ruleId,
      group: a.group,
      quorum: a.quorum,
      approvedBy: [],
      satisfied: false,
      escalated: false,
    })),
    approvals: [],
    rejections: [],
    refused: [],
    timeline: [{ at: input.submittedAt, event: 'submitted' }],
  };
}

function staticDetails(input: ActionRequestInput): string {
  const d = input.decision;
  return [
    `**Action:** ${input.action} (risk ${input.risk})`,
    `**Agent:** ${input.agent.id} (owner ${input.agent.owner})${input.onBehalfOf ? `, on behalf of ${input.onBehalfOf}` : ''}`,
    input.target ? `**Target:** ${[input.target.system, input.target.environment, input.target.resource].filter(Boolean).join(' / ')}` : '',
    `**Policy:** ${d.evaluatedEffect} (${d.mode}) by ${d.rules.join(', ') || 'default deny'}, version ${d.policyVersion}`,
    d.approvals.length ? `**Approvals:** ${d.approvals.map((a) => `${a.quorum} of ${a.group}`).join(', ')}` : '',
    `**Params hash:** ${input.paramsHash}`,
  ]
    .filter(Boolean)
    .join('\n');
}

function quote(value: string): string {
  return value.replace(/['\\]/g, '');
}
