// The request domain: submit, read, list, cancel and decide. HTTP routes and the CLI stay thin over this.
import { randomUUID } from 'node:crypto';
import {
  isGrpcCancelledError,
  isGrpcDeadlineError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
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
import type { ActionConfig, CountersignConfig } from './config/schema';
import { describeRefusal, authorizeDecision, eligibleApprovers } from './contracts/authorization';
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
import { AppError, type ErrorCode } from './errors';
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
  /** A new request was decided by policy (replays are not decided again). */
  decided?(action: string, decision: PolicyDecision, seconds: number): void;
  /** A submit was refused before any decision; `action` is `unknown` when it is not in the catalog. */
  refused?(action: string, code: ErrorCode): void;
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

/** How long a read may be held for a terminal state, and what ends it early (the HTTP client hanging up). */
export interface WaitOptions {
  waitSeconds?: number;
  signal?: AbortSignal;
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

/** The longest `wait` anyone may ask for, in seconds. */
export const MAX_WAIT_SECONDS = 30;
/** A query needs a worker; without one the server would hold it, so it is bounded and answered as "not ready". */
const QUERY_TIMEOUT_MS = 5_000;
/** How long cancel and decide wait for the workflow to take in their signal. */
const SETTLE_TIMEOUT_MS = 5_000;
const REQUEST_ID = /^req_[0-9a-f]{32}$/;
/** Values spliced into a visibility query: ids and enums only, so nothing needs escaping. */
const QUERY_LITERAL = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Derives the request (and workflow) id from the agent and its idempotency key: a retried submit lands on it again. */
export function requestIdFor(agentId: string, idempotencyKey: string): string {
  return `req_${sha256Hex(`${agentId}\u0000${idempotencyKey}`).slice(0, 32)}`;
}

/** True for strings shaped like a request id (anything else cannot name a request). */
export function isRequestId(id: string): boolean {
  return REQUEST_ID.test(id);
}

/** The request service. */
export function createRequestService(deps: RequestServiceDeps) {
  const maxWait = Math.min(deps.maxWaitSeconds ?? MAX_WAIT_SECONDS, MAX_WAIT_SECONDS);

  /**
   * Validates, decides by policy and starts the request's workflow. With an idempotency key a retried submit returns
   * the request it made the first time (same body) or is refused (different body); it never starts a second workflow.
   */
  async function submit(
    agent: AgentRecord,
    body: SubmitBody,
    idempotencyKey?: string,
    options: WaitOptions = {},
  ): Promise<SubmitResult> {
    const action = admit(agent, body);
    const requestId = requestIdFor(agent.id, idempotencyKey ?? randomUUID());
    const bodyHash = sha256Hex(canonicalJson(body));
    const nonce = randomUUID();
    const handle = deps.client.workflow.getHandle(requestId);

    const started = performance.now();
    const policyInput: PolicyInput = {
      action: body.action,
      params: body.params,
      agent: { id: agent.id, owner: agent.owner, description: agent.description, allowedActions: agent.allowedActions },
      request: { reason: body.reason, onBehalfOf: body.onBehalfOf, target: body.target, time: new Date() },
      extra: deps.policyExtras ? await deps.policyExtras(agent, body) : undefined,
    };
    const { decision } = deps.policy.evaluate(policyInput);
    const decisionSeconds = (performance.now() - started) / 1000;
    const input = workflowInput(requestId, agent, body, action, decision);

    let existing = false;
    try {
      await deps.client.workflow.start(WORKFLOW_TYPE, {
        workflowId: requestId,
        taskQueue: deps.taskQueues.control,
        args: [input],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        // groups: the approver groups it may wait for (ids only), for the pending-approvals-by-group gauge.
        memo: { bodyHash, nonce, groups: [...new Set(decision.approvals.map((a) => a.group))] },
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.agent, value: agent.id },
          { key: SEARCH_ATTRIBUTES.action, value: body.action },
          { key: SEARCH_ATTRIBUTES.status, value: initialStatus(decision) },
          { key: SEARCH_ATTRIBUTES.risk, value: action.risk },
          { key: SEARCH_ATTRIBUTES.policy, value: decision.policyVersion },
          // Who may decide, as the workflow computes it: never the agent's owner or the person it acts for.
          {
            key: SEARCH_ATTRIBUTES.approvers,
            value: eligibleApprovers(decision.approvals, new Set(), input.excludedApprovers),
          },
        ],
        staticSummary: `${body.action} by ${agent.id}: ${decision.effect} (${decision.rules.join(', ') || 'no rule matched'})`,
        staticDetails: staticDetails(input),
      });
    } catch (err) {
      // A closed workflow under this id (REJECT_DUPLICATE): the request was made before.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      existing = true;
    }

    if (idempotencyKey) {
      // USE_EXISTING answers a running duplicate without an error, so the memo's nonce tells whose start it was.
      const description = await describe(handle);
      if (existing || description.memo?.nonce !== nonce) {
        if (description.memo?.bodyHash !== bodyHash) {
          throw new AppError('idempotency_mismatch', 'this Idempotency-Key was used with a different request body', {
            errors: [{ path: 'Idempotency-Key', message: 'reused with a different body' }],
          });
        }
        const state = await currentState(handle, description);
        return { created: false, state: await waitIfAsked(handle, state, options) };
      }
    }

    deps.observer?.decided?.(body.action, decision, decisionSeconds);
    deps.logger.info(
      { requestId, agent: agent.id, action: body.action, effect: decision.effect, rules: decision.rules },
      'request submitted',
    );
    return { created: true, state: await waitIfAsked(handle, initialState(input), options) };
  }

  /** Everything that refuses a submit before policy runs; nothing is started for a refused one. */
  function admit(agent: AgentRecord, body: SubmitBody): ActionConfig {
    const action = deps.catalog.get(body.action);
    try {
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
      if (issues.length > 0) {
        throw new AppError('invalid_params', 'parameters do not match the action’s schema', { errors: issues });
      }
      return action;
    } catch (err) {
      if (err instanceof AppError) deps.observer?.refused?.(action ? body.action : 'unknown', err.code);
      throw err;
    }
  }

  function workflowInput(
    requestId: string,
    agent: AgentRecord,
    body: SubmitBody,
    action: ActionConfig,
    decision: PolicyDecision,
  ): ActionRequestInput {
    const connector = deps.config.connectors[action.connector];
    return {
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
  }

  /** Reads a request the caller may see; 404 for anything else. Waits up to `waitSeconds` for a terminal state. */
  async function get(caller: Caller, id: string, waitSeconds = 0, options: { signal?: AbortSignal } = {}) {
    const handle = deps.client.workflow.getHandle(id);
    const description = await describeVisible(caller, id, handle);
    const state = await currentState(handle, description);
    return waitIfAsked(handle, state, { waitSeconds, signal: options.signal });
  }

  async function waitIfAsked(
    handle: WorkflowHandle,
    state: ActionRequestState,
    { waitSeconds = 0, signal }: WaitOptions,
  ): Promise<ActionRequestState> {
    if (waitSeconds <= 0 || isTerminal(state.status)) return state;
    return waitForTerminal(handle, state, waitSeconds, signal);
  }

  /** Waits until the request is terminal or the wait is over, returning the latest state. */
  async function waitForTerminal(
    handle: WorkflowHandle,
    current: ActionRequestState,
    waitSeconds: number,
    signal: AbortSignal | undefined,
  ): Promise<ActionRequestState> {
    const deadline = Date.now() + Math.min(waitSeconds, maxWait) * 1000;
    // A long poll on the workflow's close event; the gRPC deadline (or the caller's abort) ends it server-side too.
    const poll = () =>
      deps.client.connection.withDeadline(deadline, async () => (await handle.result()) as ActionRequestState);
    try {
      return signal ? await deps.client.connection.withAbortSignal(signal, poll) : await poll();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound();
      const waitEnded = isGrpcDeadlineError(err) || isGrpcCancelledError(err);
      // A failed or terminated workflow has no result but its state is still readable.
      if (!waitEnded && !(err instanceof WorkflowFailedError)) throw err;
      if (signal?.aborted) return current;
      return queryState(handle);
    }
  }

  /** Lists requests of this deployment: an agent's own, or across agents for operators. */
  async function list(caller: Caller, filter: ListFilter = {}): Promise<RequestSummary[]> {
    const query = visibilityQuery({ ...filter, agentId: caller.kind === 'agent' ? caller.agent.id : filter.agentId });
    const limit = Math.max(1, Math.min(filter.limit ?? 50, 500));
    const out: RequestSummary[] = [];
    for await (const wf of deps.client.workflow.list({ query, pageSize: limit })) {
      const sa = wf.typedSearchAttributes;
      const risk = sa.get(SEARCH_ATTRIBUTES.risk);
      out.push({
        id: wf.workflowId,
        agent: sa.get(SEARCH_ATTRIBUTES.agent) ?? '',
        action: sa.get(SEARCH_ATTRIBUTES.action) ?? '',
        status: (sa.get(SEARCH_ATTRIBUTES.status) ?? 'pending_approval') as RequestStatus,
        ...(risk ? { risk } : {}),
        submittedAt: wf.startTime.toISOString(),
        ...(wf.closeTime ? { closedAt: wf.closeTime.toISOString() } : {}),
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Counts this deployment's requests matching a filter (operators; the pending-approvals gauge). */
  async function count(filter: Omit<ListFilter, 'limit'> = {}): Promise<number> {
    // Bounded: a metrics scrape must answer within the scraper's timeout even while Temporal is away.
    const { count } = await deps.client.connection.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () =>
      deps.client.workflow.count(visibilityQuery(filter)),
    );
    return count;
  }

  /** Scoped to this deployment's control task queue: other deployments (and test suites) may share the namespace. */
  function visibilityQuery(filter: Omit<ListFilter, 'limit'>): string {
    const clauses = [
      `WorkflowType = '${WORKFLOW_TYPE}'`,
      `TaskQueue = '${literal('taskQueue', deps.taskQueues.control)}'`,
    ];
    if (filter.agentId) clauses.push(`CsAgent = '${literal('agent', filter.agentId)}'`);
    if (filter.status) clauses.push(`CsStatus = '${literal('status', filter.status)}'`);
    if (filter.action) clauses.push(`CsAction = '${literal('action', filter.action)}'`);
    return clauses.join(' AND ');
  }

  /** Cancels a pending request (its agent or an operator). */
  async function cancel(caller: Caller, id: string, reason?: string): Promise<ActionRequestState> {
    const handle = deps.client.workflow.getHandle(id);
    const description = await describeVisible(caller, id, handle);
    const state = await currentState(handle, description);
    const notPending = () =>
      new AppError('conflict', `request is ${state.status}; only pending requests can be cancelled`, {
        errors: [{ path: 'status', message: state.status }],
      });
    if (state.status !== 'pending_approval') throw notPending();
    const by = caller.kind === 'agent' ? `agent:${caller.agent.id}` : `operator:${caller.id}`;
    try {
      await handle.signal(cancelRequestSignal, { by, ...(reason ? { reason } : {}) });
    } catch (err) {
      // It closed between the read and the signal (expired, say).
      if (err instanceof WorkflowNotFoundError) throw notPending();
      throw err;
    }
    return waitForChange(handle, state);
  }

  /** Records an operator's decision; refusals are answered at once and still recorded by the workflow. */
  async function decide(
    id: string,
    decision: { decision: DecisionChoice; approver: string; reason?: string; channel?: DecisionChannel },
  ): Promise<ActionRequestState> {
    const handle = deps.client.workflow.getHandle(id);
    const description = await describeVisible({ kind: 'operator', id: decision.approver }, id, handle);
    const state = await currentState(handle, description);
    const submission = {
      approver: decision.approver,
      decision: decision.decision,
      channel: decision.channel ?? 'api',
      paramsHash: state.paramsHash,
      at: new Date().toISOString(),
      ...(decision.reason ? { reason: decision.reason } : {}),
    } as const;
    let refusal = authorizeDecision(
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
    if (!isTerminal(state.status)) {
      try {
        await handle.signal(submitDecisionSignal, submission);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        refusal = 'already_decided';
      }
    }
    if (refusal) {
      throw new AppError('decision_refused', describeRefusal(refusal), {
        errors: [{ path: 'approver', message: refusal }],
      });
    }
    return waitForChange(handle, state);
  }

  async function describe(handle: WorkflowHandle): Promise<WorkflowExecutionDescription> {
    try {
      return await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound();
      throw err;
    }
  }

  /** The workflow behind a request id, if the caller may see it; 404 alike for absent and for someone else's. */
  async function describeVisible(
    caller: Caller,
    id: string,
    handle: WorkflowHandle,
  ): Promise<WorkflowExecutionDescription> {
    if (!isRequestId(id)) throw notFound();
    const description = await describe(handle);
    if (description.type !== WORKFLOW_TYPE) throw notFound();
    if (caller.kind === 'agent' && description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.agent) !== caller.agent.id) {
      throw notFound();
    }
    return description;
  }

  async function currentState(
    handle: WorkflowHandle,
    description: WorkflowExecutionDescription,
  ): Promise<ActionRequestState> {
    if (description.status.name === 'COMPLETED') return (await handle.result()) as ActionRequestState;
    return queryState(handle);
  }

  async function queryState(handle: WorkflowHandle): Promise<ActionRequestState> {
    try {
      return await deps.client.connection.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () =>
        handle.query(getStateQuery),
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound();
      if (isGrpcDeadlineError(err)) {
        throw new AppError(
          'not_ready',
          'the request’s state is not available right now (no worker answered); try again',
          {
            cause: err,
            headers: { 'Retry-After': '5' },
          },
        );
      }
      throw err;
    }
  }

  /** After a signal: the state once the workflow has processed it (bounded). */
  async function waitForChange(handle: WorkflowHandle, before: ActionRequestState): Promise<ActionRequestState> {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    const seen = before.timeline.length;
    for (;;) {
      const state = await queryState(handle);
      if (state.timeline.length > seen || isTerminal(state.status) || Date.now() > deadline) return state;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  return { submit, get, list, count, cancel, decide };
}

export type RequestService = ReturnType<typeof createRequestService>;

function excludedFromState(state: ActionRequestState, config: CountersignConfig): string[] {
  return excludedApprovers(config, state.agent.owner, state.onBehalfOf);
}

function initialStatus(decision: PolicyDecision): RequestStatus {
  return decision.effect === 'allow' ? 'executing' : decision.effect === 'deny' ? 'denied' : 'pending_approval';
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
    ...(expireAfter !== undefined
      ? { expiresAt: new Date(Date.parse(input.submittedAt) + expireAfter).toISOString() }
      : {}),
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
    input.target
      ? `**Target:** ${[input.target.system, input.target.environment, input.target.resource].filter(Boolean).join(' / ')}`
      : '',
    `**Policy:** ${d.evaluatedEffect} (${d.mode}) by ${d.rules.join(', ') || 'default deny'}, version ${d.policyVersion}`,
    d.approvals.length ? `**Approvals:** ${d.approvals.map((a) => `${a.quorum} of ${a.group}`).join(', ')}` : '',
    `**Params hash:** ${input.paramsHash}`,
  ]
    .filter(Boolean)
    .join('\n');
}

function notFound(): AppError {
  return new AppError('not_found', 'no such request');
}

function literal(field: string, value: string): string {
  if (!QUERY_LITERAL.test(value)) {
    throw new AppError('validation_failed', `invalid ${field} filter`, {
      errors: [{ path: field, message: 'not a valid id' }],
    });
  }
  return value;
}
