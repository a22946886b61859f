// The request domain: submit, read, list, cancel and decide. HTTP routes, Slack and the CLI stay thin over this; every
// Temporal call goes through the adapter (src/temporal/adapter.ts).
import { randomUUID } from 'node:crypto';
import type { AgentRecord } from '../agents';
import { canonicalJson, sha256Hex } from '../canonical';
import type { ActionCatalog } from '../catalog';
import type { ActionConfig, CountersignConfig } from '../config/schema';
import { describeRefusal } from '../contracts/authorization';
import { initialState } from '../contracts/lifecycle';
import {
  isTerminal,
  type ActionRequestState,
  type DecisionChannel,
  type DecisionChoice,
  type DecisionSubmission,
  type PolicyDecision,
  type RequestStatus,
} from '../contracts/types';
import { AppError, type ErrorCode } from '../errors';
import type { Logger } from '../logger';
import type { PolicyEngine, PolicyInput } from '../policy/engine';
import {
  createTemporalAdapter,
  startMemo,
  type Client,
  type RequestExecution,
  type TemporalAdapter,
} from '../temporal/adapter';
import type { TaskQueues } from '../temporal/worker';
import type { SealedParams } from '../vault/sealed-params';
import { activeTraceparent, inSpan, SPAN_NAMES, TRACE_MEMO_KEY } from '../tracing';
import { callbackUrlProblem, hasWebhookSecret } from '../webhooks/callback-url';
import { isRequestId, requestIdFor } from './ids';
import { refuseReferenceShapes, sealSecrets } from './secret-params';
import { staticDetails, workflowInput, type SubmitBody } from './workflow-input';

export { isRequestId, requestIdFor } from './ids';
export type { SubmitBody } from './workflow-input';

/** Hooks for metrics; all optional. */
export interface RequestObserver {
  /** A new request was decided by policy (replays are not decided again). */
  decided?(action: string, decision: PolicyDecision, seconds: number, agent?: AgentRecord): void;
  /** A submit was refused before any decision; `action` is `unknown` when it is not in the catalog. */
  refused?(action: string, code: ErrorCode, agent?: AgentRecord): void;
}

export interface RequestServiceDeps {
  client: Client;
  /** The Temporal adapter; by default one over `client` scoped to the control task queue. */
  temporal?: TemporalAdapter;
  /** Starts requests eagerly on the control worker of this process (dev mode); see TemporalAdapterOptions. */
  eagerStarter?: Client;
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
  /** Where secret parameters are sealed instead of entering Temporal; without it a submit carrying one is refused. */
  sealedParams?: SealedParams;
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

/** A decision's answer: the state after it, and whether it was only queued (no worker answered). */
export type DecisionAnswer = ActionRequestState & { queued?: boolean };

/** The longest `wait` anyone may ask for, in seconds. */
export const MAX_WAIT_SECONDS = 30;

/** The request service. */
export function createRequestService(deps: RequestServiceDeps) {
  const maxWait = Math.min(deps.maxWaitSeconds ?? MAX_WAIT_SECONDS, MAX_WAIT_SECONDS);
  const temporal =
    deps.temporal ??
    createTemporalAdapter(deps.client, {
      taskQueue: deps.taskQueues.control,
      namespace: deps.client.options.namespace,
      ...(deps.eagerStarter ? { eagerStarter: deps.eagerStarter } : {}),
    });

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
    return inSpan(
      SPAN_NAMES.submit,
      { attributes: { 'countersign.agent': agent.id, 'countersign.action': body.action } },
      async (span) => {
        const result = await submitTraced(agent, body, idempotencyKey, options);
        span?.setAttributes({
          'countersign.request_id': result.state.requestId,
          'countersign.created': result.created,
        });
        return result;
      },
    );
  }

  async function submitTraced(
    agent: AgentRecord,
    body: SubmitBody,
    idempotencyKey: string | undefined,
    options: WaitOptions,
  ): Promise<SubmitResult> {
    const action = admit(agent, body);
    const requestId = requestIdFor(agent.id, idempotencyKey ?? randomUUID());
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
    const { decision } = await inSpan(SPAN_NAMES.policy, {}, async (span) => {
      const evaluated = deps.policy.evaluate(policyInput);
      span?.setAttributes({
        'countersign.effect': evaluated.decision.effect,
        'countersign.policy_version': evaluated.decision.policyVersion,
        'countersign.rules': evaluated.decision.rules,
      });
      return evaluated;
    });
    const decisionSeconds = (performance.now() - started) / 1000;
    // The params hash is computed over the real values; then the secret ones are sealed and only referenced.
    const sealed = await sealSecrets(
      deps.sealedParams,
      workflowInput(deps, requestId, agent, body, action, decision),
      action.params,
      deps.config.execution.secretExpiryGrace,
    );
    const input = sealed.input;
    const initial = initialState(input);

    // The submit's span context (ids only) lets each later approval join this request's trace.
    const traceparent = activeTraceparent();
    const startedNew = await temporal.start(input, {
      memo: startMemo(input, { bodyHash, nonce, ...(traceparent ? { [TRACE_MEMO_KEY]: traceparent } : {}) }),
      searchAttributes: {
        agent: agent.id,
        action: body.action,
        status: initial.status,
        risk: action.risk,
        policy: decision.policyVersion,
        // Who may decide, as the workflow computes it: never the agent's owner or the person it acts for.
        approvers: initial.eligibleApprovers,
      },
      summary: `${body.action} by ${agent.id}: ${decision.effect} (${decision.rules.join(', ') || 'no rule matched'})`,
      details: staticDetails(input),
    });

    if (idempotencyKey) {
      // USE_EXISTING answers a running duplicate without an error, so the memo's nonce tells whose start it was.
      const execution = await temporal.describe(requestId);
      if (!execution) throw notFound();
      if (!startedNew || execution.memo.nonce !== nonce) {
        // Not this submit's workflow: what it sealed belongs to nothing.
        if (sealed.sealId) await discardSealed(requestId, sealed.sealId);
        if (execution.memo.bodyHash !== bodyHash) {
          throw new AppError('idempotency_mismatch', 'this Idempotency-Key was used with a different request body', {
            errors: [{ path: 'Idempotency-Key', message: 'reused with a different body' }],
          });
        }
        const state = await temporal.read(execution);
        return { created: false, state: await waitIfAsked(state, options) };
      }
    }

    deps.observer?.decided?.(body.action, decision, decisionSeconds, agent);
    deps.logger.info(
      { requestId, agent: agent.id, action: body.action, effect: decision.effect, rules: decision.rules },
      'request submitted',
    );
    return { created: true, state: await waitIfAsked(initial, options) };
  }

  async function discardSealed(requestId: string, sealId: string): Promise<void> {
    try {
      await deps.sealedParams?.discard(requestId, sealId);
    } catch (err) {
      // Left to the sweep, which erases it by its absolute expiry.
      deps.logger.warn(
        { requestId, err: err instanceof Error ? err.message : String(err) },
        'sealed parameters of a duplicate submit not discarded',
      );
    }
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
      refuseReferenceShapes(body.params);
      if (body.callbackUrl !== undefined) {
        const problem =
          callbackUrlProblem(body.callbackUrl, deps.config.webhooks) ??
          (hasWebhookSecret(deps.config.webhooks, agent.id)
            ? undefined
            : 'webhooks are not configured for this agent (no signing secret)');
        if (problem) {
          throw new AppError('validation_failed', 'the callback URL is not accepted', {
            errors: [{ path: 'callbackUrl', message: problem }],
          });
        }
      }
      return action;
    } catch (err) {
      if (err instanceof AppError) deps.observer?.refused?.(action ? body.action : 'unknown', err.code, agent);
      throw err;
    }
  }

  /** Reads a request the caller may see; 404 for anything else. Waits up to `waitSeconds` for a terminal state. */
  async function get(caller: Caller, id: string, waitSeconds = 0, options: { signal?: AbortSignal } = {}) {
    const execution = await visible(caller, id);
    const state = await temporal.read(execution);
    return waitIfAsked(state, { waitSeconds, signal: options.signal });
  }

  async function waitIfAsked(
    state: ActionRequestState,
    { waitSeconds = 0, signal }: WaitOptions,
  ): Promise<ActionRequestState> {
    if (waitSeconds <= 0 || isTerminal(state.status)) return state;
    const deadline = Date.now() + Math.min(waitSeconds, maxWait) * 1000;
    // A long poll on the workflow's close event; the gRPC deadline (or the caller's abort) ends it server-side too.
    const closed = await temporal.waitForClose(state.requestId, deadline, signal);
    if (closed) return closed;
    if (signal?.aborted) return state;
    const execution = await temporal.describe(state.requestId);
    return execution ? temporal.read(execution) : state;
  }

  /** Lists requests of this deployment: an agent's own, or across agents for operators. */
  async function list(caller: Caller, filter: ListFilter = {}): Promise<RequestSummary[]> {
    const limit = Math.max(1, Math.min(filter.limit ?? 50, 500));
    const executions = await temporal.list(
      {
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.action ? { action: filter.action } : {}),
        ...(caller.kind === 'agent' ? { agentId: caller.agent.id } : filter.agentId ? { agentId: filter.agentId } : {}),
      },
      limit,
    );
    return executions.map(summaryOf);
  }

  /** One page of the caller's requests (an agent's own only), newest first; `cursor` is a `nextCursor` it returned. */
  async function listPage(
    caller: Caller,
    page: { pageSize?: number; cursor?: string } = {},
  ): Promise<{ requests: RequestSummary[]; nextCursor?: string }> {
    const pageSize = Math.max(1, Math.min(page.pageSize ?? 50, 500));
    // The cursor is Temporal's page token with a check bound to the caller: a cursor that is not one this list gave
    // the caller is refused here, before Temporal would retry a token it cannot parse.
    const scope = caller.kind === 'agent' ? `agent:${caller.agent.id}` : 'operator';
    const check = (token: string) => sha256Hex(`${scope}:${token}`).slice(0, 22);
    let pageToken: string | undefined;
    if (page.cursor !== undefined) {
      const [token, sum] = page.cursor.split('.');
      if (!token || sum !== check(token)) {
        throw new AppError('validation_failed', 'the page cursor is not valid', {
          errors: [{ path: 'cursor', message: 'not a cursor this list returned' }],
        });
      }
      pageToken = token;
    }
    const { executions, nextPageToken } = await temporal.listPage(
      caller.kind === 'agent' ? { agentId: caller.agent.id } : {},
      pageSize,
      pageToken,
    );
    return {
      requests: executions.map(summaryOf),
      ...(nextPageToken ? { nextCursor: `${nextPageToken}.${check(nextPageToken)}` } : {}),
    };
  }

  /** Counts this deployment's requests matching a filter (operators; the pending-approvals gauge). */
  async function count(filter: Omit<ListFilter, 'limit'> = {}): Promise<number> {
    return temporal.count(filter);
  }

  /** Cancels a pending request (its agent or an operator): one update that the workflow answers. */
  async function cancel(caller: Caller, id: string, reason?: string): Promise<ActionRequestState> {
    const execution = await visible(caller, id);
    const notPending = (status: RequestStatus) =>
      new AppError('conflict', `request is ${status}; only pending requests can be cancelled`, {
        errors: [{ path: 'status', message: status }],
      });
    const by = caller.kind === 'agent' ? `agent:${caller.agent.id}` : `operator:${caller.id}`;
    if (execution.executionStatus === 'RUNNING') {
      const result = await temporal.cancel(id, { by, ...(reason ? { reason } : {}) });
      if (result?.cancelled) return result.state;
      if (result) throw notPending(result.status);
    }
    // Closed (before or while asking): say what it ended as.
    const closed = await temporal.describe(id);
    throw notPending(closed ? (await temporal.read(closed)).status : ('unknown' as RequestStatus));
  }

  /**
   * Records an operator's decision through the workflow's update: authorized, recorded (refusals too) and answered in
   * one round trip. With no worker running, a rejection is queued durably and the answer says so; an approval is 503.
   */
  async function decide(
    id: string,
    decision: { decision: DecisionChoice; approver: string; reason?: string; channel?: DecisionChannel },
  ): Promise<DecisionAnswer> {
    const execution = await visible({ kind: 'operator', id: decision.approver }, id);
    if (execution.executionStatus !== 'RUNNING') throw refused('already_decided');
    const submitted = submittedState(execution) ?? (await temporal.read(execution));
    const submission: DecisionSubmission = {
      approver: decision.approver,
      decision: decision.decision,
      channel: decision.channel ?? 'api',
      paramsHash: submitted.paramsHash,
      at: new Date().toISOString(),
      ...(decision.reason ? { reason: decision.reason } : {}),
    };
    let result;
    try {
      result = await temporal.decide(id, submission);
    } catch (err) {
      // No worker answered: a rejection is kept by Temporal as a signal and recorded when one runs (an update that
      // still lands later only adds a refused duplicate to the record); an approval is never sent blind.
      if (!(err instanceof AppError) || err.code !== 'not_ready' || decision.decision !== 'reject') throw err;
      if (!(await temporal.queueRejection(id, submission))) throw refused('already_decided');
      deps.logger.info({ requestId: id, approver: decision.approver }, 'rejection queued (no worker answering)');
      return { ...(await temporal.read(execution)), queued: true };
    }
    if (!result) throw refused('already_decided');
    if (result.refusal) throw refused(result.refusal);
    return result.state;
  }

  /** The request behind an id, if the caller may see it; 404 alike for absent and for someone else's. */
  async function visible(caller: Caller, id: string): Promise<RequestExecution> {
    if (!isRequestId(id)) throw notFound();
    const execution = await temporal.describe(id);
    if (!execution) throw notFound();
    if (caller.kind === 'agent' && execution.agent !== caller.agent.id) throw notFound();
    return execution;
  }

  return { submit, get, list, listPage, count, cancel, decide, temporal };
}

export type RequestService = ReturnType<typeof createRequestService>;

/** The state as submitted, from the memo (no worker needed); undefined for requests started before it was kept. */
function submittedState(execution: RequestExecution): ActionRequestState | undefined {
  const request = execution.memo.request as ActionRequestState | undefined;
  return request && typeof request.paramsHash === 'string' ? request : undefined;
}

function summaryOf(e: RequestExecution): RequestSummary {
  return {
    id: e.id,
    agent: e.agent,
    action: e.action,
    status: listedStatus(e),
    ...(e.risk ? { risk: e.risk } : {}),
    submittedAt: e.startTime,
    ...(e.closeTime ? { closedAt: e.closeTime } : {}),
  };
}

/** A listed request's status: Temporal's own word for a workflow that ended without recording one. */
function listedStatus(e: RequestExecution): RequestStatus {
  if (e.executionStatus === 'TERMINATED') return 'terminated';
  if (
    e.executionStatus !== 'RUNNING' &&
    e.executionStatus !== 'COMPLETED' &&
    !isTerminal(e.status ?? 'pending_approval')
  ) {
    return e.executionStatus === 'CANCELLED' ? 'cancelled' : 'failed';
  }
  return e.status ?? 'pending_approval';
}

function refused(code: Parameters<typeof describeRefusal>[0]): AppError {
  return new AppError('decision_refused', describeRefusal(code), { errors: [{ path: 'approver', message: code }] });
}

function notFound(): AppError {
  return new AppError('not_found', 'no such request');
}
