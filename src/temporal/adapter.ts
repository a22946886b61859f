// The one module that talks to Temporal for requests: start, read, list (one escaping rule for visibility queries),
// decide, cancel, cancel-in-scope (a batch operation), readiness, and the connection itself. HTTP, Slack, the CLI and
// the kill switch call it; nothing else imports @temporalio/client.
import {
  Client,
  Connection,
  defaultGrpcRetryOptions,
  isGrpcCancelledError,
  isGrpcDeadlineError,
  isGrpcServiceError,
  makeGrpcRetryInterceptor,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import { tsToMs, type DataConverter } from '@temporalio/common';
import { bounded, initialState } from '../contracts/lifecycle';
import {
  cancelRequestSignal,
  cancelUpdate,
  decideUpdate,
  getStateQuery,
  submitDecisionSignal,
} from '../contracts/messages';
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPE } from '../contracts/names';
import {
  REQUEST_STATUSES,
  type ActionRequestInput,
  type ActionRequestState,
  type CancelRequest,
  type CancelResult,
  type DecideResult,
  type DecisionSubmission,
  type RequestStatus,
} from '../contracts/types';
import { AppError } from '../errors';

export type { Client } from '@temporalio/client';

// temporal.api.enums.v1 values; @temporalio/proto is not a direct dependency, so its enums are not imported.
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;
const BATCH_STATE_RUNNING = 1;
const BATCH_STATE_COMPLETED = 2;
const BATCH_STATE_FAILED = 3;
// gRPC UNAVAILABLE: Temporal cannot be reached right now.
const GRPC_UNAVAILABLE = 14;
/** The server keeps pollers listed for minutes after they stop; a live worker re-polls at least every ~70 s. */
const POLLER_FRESH_MS = 2 * 60_000;
/** How long a poller check is believed: a click must not pay for one each time. */
const POLLER_CACHE_MS = 5_000;
const RETRY_AFTER = { 'Retry-After': '5' };
/** Parallel signals of a cancel-in-scope drained by this process (when Temporal's batch operations are busy). */
const LOCAL_DRAIN_CONCURRENCY = 32;

/** Connects a client whose calls fail fast when Temporal is unreachable (a few quick retries, not twenty seconds). */
export async function connectClient(options: {
  address: string;
  namespace: string;
  /** The payload codec's converter (src/temporal/codec.ts); plain without it. */
  dataConverter?: DataConverter;
}): Promise<Client> {
  const connection = await Connection.connect({
    address: options.address,
    connectTimeout: '2 seconds',
    interceptors: [
      makeGrpcRetryInterceptor(
        defaultGrpcRetryOptions({ maxAttempts: 4, initialIntervalMs: () => 100, maxIntervalMs: () => 400 }),
      ),
    ],
  });
  return new Client({
    connection,
    namespace: options.namespace,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
  });
}

/** Resolves once a Temporal frontend answers at `address` (start-up probes). */
export async function temporalAnswers(address: string): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    await connection.workflowService.getSystemInfo({});
  } finally {
    await connection.close();
  }
}

/** Closes a client's connection. */
export async function closeClient(client: Client): Promise<void> {
  await client.connection.close();
}

/** True for errors that mean Temporal itself could not be reached (or did not answer in time). */
export function isTemporalUnavailable(err: unknown): boolean {
  if (isGrpcDeadlineError(err)) return true;
  let current: unknown = err;
  while (current instanceof Error) {
    if (isGrpcServiceError(current) && Number(current.code) === GRPC_UNAVAILABLE) return true;
    current = current.cause;
  }
  return false;
}

/** What starting a request's workflow needs besides its input. */
export interface StartOptions {
  memo: Record<string, unknown>;
  searchAttributes: {
    agent: string;
    action: string;
    status: RequestStatus;
    risk: string;
    policy: string;
    approvers: string[];
  };
  summary: string;
  details: string;
}

/** A request's workflow as the server describes it, without asking a worker. */
export interface RequestExecution {
  id: string;
  /** Temporal's own execution status (RUNNING, COMPLETED, TERMINATED, …). */
  executionStatus: string;
  agent: string;
  action: string;
  status?: RequestStatus;
  risk?: string;
  memo: Record<string, unknown>;
  startTime: string;
  closeTime?: string;
}

export interface ListFilter {
  status?: RequestStatus;
  agentId?: string;
  action?: string;
  approver?: string;
  notStatus?: RequestStatus;
}

/** One progress reading of a cancel-in-scope operation. */
export interface OperationProgress {
  id: string;
  state: 'running' | 'completed' | 'failed' | 'unknown';
  total: number;
  completed: number;
  failed: number;
  startedAt?: string;
  closedAt?: string;
}

/** A scope of running requests as the kill switch names it. */
export interface CancelScope {
  agentId?: string;
  /** An action, or a prefix ending in `*`. */
  action?: string;
}

export interface TemporalAdapterOptions {
  /** This deployment's control task queue: other deployments (and test suites) may share the namespace. */
  taskQueue: string;
  namespace: string;
  /** How long a state query may wait for a worker (default 2 s). */
  queryTimeoutMs?: number;
  /** How long a decision or cancellation may wait for the workflow to answer (default 5 s). */
  updateTimeoutMs?: number;
  /** Requests per second a cancel-in-scope batch may signal (default 500). */
  batchRps?: number;
}

/** Statuses of running requests a kill switch reaches; the workflow cancels `pending_approval`, the re-check the rest. */
const RUNNING_STATUSES: readonly RequestStatus[] = ['pending_approval', 'approved', 'executing'];

/** The adapter over one client. */
export function createTemporalAdapter(client: Client, options: TemporalAdapterOptions) {
  const queryTimeoutMs = options.queryTimeoutMs ?? 2_000;
  const updateTimeoutMs = options.updateTimeoutMs ?? 5_000;
  let pollers: { atMs: number; polling: boolean } | undefined;
  const localOperations = new Map<string, OperationProgress>();
  const within = <T>(ms: number, fn: () => Promise<T>) => client.connection.withDeadline(Date.now() + ms, fn);

  /** Starts the workflow; false when one already exists under this id (a retried submit). */
  async function start(input: ActionRequestInput, opts: StartOptions): Promise<boolean> {
    const sa = opts.searchAttributes;
    try {
      await client.workflow.start(WORKFLOW_TYPE, {
        workflowId: input.requestId,
        taskQueue: options.taskQueue,
        args: [input],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        memo: opts.memo,
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.agent, value: sa.agent },
          { key: SEARCH_ATTRIBUTES.action, value: sa.action },
          { key: SEARCH_ATTRIBUTES.status, value: sa.status },
          { key: SEARCH_ATTRIBUTES.risk, value: sa.risk },
          { key: SEARCH_ATTRIBUTES.policy, value: sa.policy },
          { key: SEARCH_ATTRIBUTES.approvers, value: sa.approvers },
        ],
        staticSummary: opts.summary,
        staticDetails: opts.details,
      });
      return true;
    } catch (err) {
      // A closed workflow under this id (REJECT_DUPLICATE): the request was made before.
      if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw err;
    }
  }

  /** The request's execution, or undefined when there is none (or it is not a request). */
  async function describe(id: string): Promise<RequestExecution | undefined> {
    let d: WorkflowExecutionDescription;
    try {
      d = await client.workflow.getHandle(id).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
    if (d.type !== WORKFLOW_TYPE) return undefined;
    return executionOf(d);
  }

  /**
   * The request's state with no more calls than needed: a closed request from its result or memo (no worker needed);
   * a running one from the workflow, or, when no worker answers, from its search attributes and memo marked stale.
   */
  async function read(execution: RequestExecution): Promise<ActionRequestState> {
    const handle = client.workflow.getHandle(execution.id);
    switch (execution.executionStatus) {
      case 'RUNNING':
        break;
      case 'COMPLETED':
        return (await handle.result()) as ActionRequestState;
      default:
        return closedWithoutResult(execution, await failureOf(execution));
    }
    if ((await workerPolling()) === false) return staleState(execution);
    try {
      return await within(queryTimeoutMs, () => handle.query(getStateQuery));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound();
      if (!isGrpcDeadlineError(err) && !isNoPoller(err)) throw err;
      pollers = { atMs: Date.now(), polling: false };
      return staleState(execution);
    }
  }

  /** Reads straight from the workflow (one call); undefined when there is no such request. Throws when none answers. */
  async function query(id: string): Promise<ActionRequestState | undefined> {
    try {
      const state = await within(queryTimeoutMs, () => client.workflow.getHandle(id).query(getStateQuery));
      pollers = { atMs: Date.now(), polling: true };
      return state;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /** Waits until the request is closed or the deadline passes; undefined when the wait ended without a close. */
  async function waitForClose(
    id: string,
    deadlineMs: number,
    signal?: AbortSignal,
  ): Promise<ActionRequestState | undefined> {
    const handle = client.workflow.getHandle(id);
    const poll = () =>
      client.connection.withDeadline(deadlineMs, async () => (await handle.result()) as ActionRequestState);
    try {
      return signal ? await client.connection.withAbortSignal(signal, poll) : await poll();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound();
      if (isGrpcDeadlineError(err) || isGrpcCancelledError(err)) return undefined;
      // A terminated (or failed) workflow has no result: it is read from its memo.
      if (err instanceof WorkflowFailedError) {
        const execution = await describe(id);
        if (execution) return read(execution);
      }
      throw err;
    }
  }

  /** Requests of this deployment matching a filter, newest first, with what visibility holds (no worker asked). */
  async function list(filter: ListFilter, limit: number): Promise<RequestExecution[]> {
    const out: RequestExecution[] = [];
    for await (const wf of client.workflow.list({ query: visibilityQuery(filter), pageSize: limit })) {
      out.push(executionOf(wf));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Counts this deployment's requests matching a filter (bounded: a metrics scrape must answer in time). */
  async function count(filter: ListFilter): Promise<number> {
    const { count } = await within(5_000, () => client.workflow.count(visibilityQuery(filter)));
    return count;
  }

  /** Scoped to this deployment's control task queue; every value goes through `literal`. */
  function visibilityQuery(
    filter: ListFilter & { running?: boolean; statuses?: readonly RequestStatus[]; actionPrefix?: string },
  ) {
    const clauses = [
      `WorkflowType = ${literal('type', WORKFLOW_TYPE)}`,
      `TaskQueue = ${literal('taskQueue', options.taskQueue)}`,
    ];
    if (filter.running) clauses.push(`ExecutionStatus = 'Running'`);
    if (filter.agentId) clauses.push(`CsAgent = ${literal('agent', filter.agentId)}`);
    if (filter.status) clauses.push(`CsStatus = ${literal('status', filter.status)}`);
    if (filter.notStatus) clauses.push(`CsStatus != ${literal('status', filter.notStatus)}`);
    if (filter.statuses) clauses.push(`CsStatus IN (${filter.statuses.map((s) => literal('status', s)).join(', ')})`);
    if (filter.action) clauses.push(`CsAction = ${literal('action', filter.action)}`);
    if (filter.actionPrefix) clauses.push(`CsAction STARTS_WITH ${literal('action', filter.actionPrefix)}`);
    if (filter.approver) clauses.push(`CsApprovers = ${literal('approver', filter.approver)}`);
    return clauses.join(' AND ');
  }

  /**
   * One decision, one round trip: the workflow's update authorizes, records and answers. No worker polling: 503
   * (nothing is sent, so nothing can be recorded later behind the caller's back). Undefined: no such running request.
   */
  async function decide(id: string, submission: DecisionSubmission): Promise<DecideResult | undefined> {
    await requireWorker();
    return update(id, () => client.workflow.getHandle(id).executeUpdate(decideUpdate, { args: [submission] }));
  }

  /** The durable path for a rejection when no worker answers: Temporal keeps the signal until the workflow runs. */
  async function queueRejection(id: string, submission: DecisionSubmission): Promise<boolean> {
    if (submission.decision !== 'reject') throw new Error('only rejections are queued');
    try {
      await client.workflow.getHandle(id).signal(submitDecisionSignal, submission);
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  /** Cancels a pending request through the workflow's update; undefined when it is not running. */
  async function cancel(id: string, request: CancelRequest): Promise<CancelResult | undefined> {
    await requireWorker();
    return update(id, () => client.workflow.getHandle(id).executeUpdate(cancelUpdate, { args: [request] }));
  }

  async function update<T>(id: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await within(updateTimeoutMs, run);
    } catch (err) {
      // A closed workflow takes no update; the caller reads it to say why.
      if (err instanceof WorkflowNotFoundError) return undefined;
      if (err instanceof WorkflowUpdateFailedError) {
        throw new AppError('validation_failed', `the workflow refused the input: ${bounded(causeText(err))}`, {
          errors: [{ path: 'body', message: 'malformed' }],
        });
      }
      if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isGrpcDeadlineError(err)) {
        pollers = undefined;
        throw new AppError(
          'not_ready',
          `request ${id} did not answer in time (no worker took it); it may still be recorded once a worker runs — read the request before trying again`,
          { cause: err, headers: RETRY_AFTER },
        );
      }
      throw err;
    }
  }

  /**
   * Signals cancelRequestSignal to every running request in scope as one Temporal batch operation, so the caller is
   * answered at once and the server drains it. Returns the operation id and how many requests were in scope.
   */
  async function cancelInScope(
    scope: CancelScope,
    input: { operationId: string; by: string; reason: string },
  ): Promise<{ operationId: string; inScope: number }> {
    const prefix = scope.action?.endsWith('*') ? scope.action.slice(0, -1) : undefined;
    const query = visibilityQuery({
      running: true,
      statuses: RUNNING_STATUSES,
      ...(scope.agentId ? { agentId: scope.agentId } : {}),
      ...(scope.action && !prefix ? { action: scope.action } : {}),
      ...(prefix ? { actionPrefix: prefix } : {}),
    });
    const { count: inScope } = await within(5_000, () => client.workflow.count(query));
    if (inScope === 0) return { operationId: input.operationId, inScope };
    const payload = { by: input.by, reason: input.reason };
    try {
      await within(5_000, () =>
        client.workflowService.startBatchOperation({
          namespace: options.namespace,
          jobId: input.operationId,
          visibilityQuery: query,
          reason: bounded(`${input.reason} (by ${input.by})`),
          maxOperationsPerSecond: options.batchRps ?? 500,
          signalOperation: {
            signal: cancelRequestSignal.name,
            input: { payloads: [client.options.loadedDataConverter.payloadConverter.toPayload(payload)] },
            identity: input.by,
          },
        }),
      );
    } catch (err) {
      if (isTemporalUnavailable(err)) throw err;
      // The namespace's batch operations are limited (one at a time by default): this process drains it instead,
      // with bounded parallel signals, and keeps the progress readable under the same id.
      void drainLocally(input.operationId, query, payload);
    }
    return { operationId: input.operationId, inScope };
  }

  async function drainLocally(operationId: string, query: string, payload: CancelRequest): Promise<void> {
    const progress: OperationProgress = {
      id: operationId,
      state: 'running',
      total: 0,
      completed: 0,
      failed: 0,
      startedAt: new Date().toISOString(),
    };
    localOperations.set(operationId, progress);
    try {
      const ids: string[] = [];
      for await (const wf of client.workflow.list({ query, pageSize: 1000 })) ids.push(wf.workflowId);
      progress.total = ids.length;
      let next = 0;
      const lane = async () => {
        while (next < ids.length) {
          const id = ids[next++] ?? '';
          try {
            await client.workflow.getHandle(id).signal(cancelRequestSignal, payload);
            progress.completed += 1;
          } catch {
            // Counted, not thrown: a request that closed meanwhile needs no cancel; the rest can be retried.
            progress.failed += 1;
          }
        }
      };
      await Promise.all(Array.from({ length: LOCAL_DRAIN_CONCURRENCY }, lane));
      progress.state = 'completed';
    } catch {
      progress.state = 'failed';
    }
    progress.closedAt = new Date().toISOString();
  }

  /** Progress of a cancel-in-scope operation; undefined when Temporal knows no such operation. */
  async function operation(operationId: string): Promise<OperationProgress | undefined> {
    const local = localOperations.get(operationId);
    if (local) return { ...local };
    try {
      const d = await within(5_000, () =>
        client.workflowService.describeBatchOperation({ namespace: options.namespace, jobId: operationId }),
      );
      const code = Number(d.state);
      const state =
        code === BATCH_STATE_RUNNING
          ? 'running'
          : code === BATCH_STATE_COMPLETED
            ? 'completed'
            : code === BATCH_STATE_FAILED
              ? 'failed'
              : 'unknown';
      return {
        id: operationId,
        state,
        total: Number(d.totalOperationCount ?? 0),
        completed: Number(d.completeOperationCount ?? 0),
        failed: Number(d.failureOperationCount ?? 0),
        ...(d.startTime ? { startedAt: new Date(tsToMs(d.startTime)).toISOString() } : {}),
        ...(d.closeTime && tsToMs(d.closeTime) > 0 ? { closedAt: new Date(tsToMs(d.closeTime)).toISOString() } : {}),
      };
    } catch (err) {
      if (isGrpcServiceError(err) && Number(err.code) === 5) return undefined;
      throw err;
    }
  }

  /** Whether a worker polls the control task queue (answered by the server alone), believed for a few seconds. */
  async function workerPolling(): Promise<boolean> {
    if (pollers && Date.now() - pollers.atMs < POLLER_CACHE_MS) return pollers.polling;
    const response = await within(2_000, () =>
      client.workflowService.describeTaskQueue({
        namespace: options.namespace,
        taskQueue: { name: options.taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
        taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
      }),
    );
    const nowMs = Date.now();
    const count = (response.pollers ?? []).filter((p) => nowMs - tsToMs(p.lastAccessTime) < POLLER_FRESH_MS).length;
    pollers = { atMs: nowMs, polling: count > 0 };
    return pollers.polling;
  }

  async function requireWorker(): Promise<void> {
    if (!(await workerPolling())) {
      throw new AppError('not_ready', 'no Countersign worker is running, so the request cannot answer; try again', {
        headers: RETRY_AFTER,
      });
    }
  }

  /** Temporal answers and a worker polls the control task queue. */
  async function readiness(): Promise<{ temporal: string; worker: string; ready: boolean }> {
    pollers = undefined;
    try {
      const polling = await workerPolling();
      return {
        temporal: 'ok',
        worker: polling ? 'ok' : `no worker polling ${options.taskQueue}`,
        ready: polling,
      };
    } catch (err) {
      return {
        temporal: `unreachable: ${bounded(err instanceof Error ? err.message : String(err))}`,
        worker: 'unknown',
        ready: false,
      };
    }
  }

  async function failureOf(execution: RequestExecution): Promise<string | undefined> {
    if (execution.executionStatus !== 'FAILED') return undefined;
    try {
      await client.workflow.getHandle(execution.id).result();
      return undefined;
    } catch (err) {
      return err instanceof WorkflowFailedError ? causeText(err) : undefined;
    }
  }

  return {
    start,
    describe,
    read,
    query,
    waitForClose,
    list,
    count,
    decide,
    queueRejection,
    cancel,
    cancelInScope,
    operation,
    workerPolling,
    readiness,
    taskQueue: options.taskQueue,
  };
}

export type TemporalAdapter = ReturnType<typeof createTemporalAdapter>;

/** The memo a request's workflow starts with: what a read needs when no worker can answer. */
export function startMemo(input: ActionRequestInput, extra: Record<string, unknown>): Record<string, unknown> {
  return { ...extra, request: initialState(input) };
}

/**
 * A value as a visibility-query string literal. The one rule for every query: ids, enums and names pass; anything
 * that would need escaping (quotes, backslashes, control characters) is refused rather than altered.
 */
export function literal(field: string, value: string): string {
  if (value.length === 0 || value.length > 256 || /['"\\`\p{Cc}]/u.test(value)) {
    throw new AppError('validation_failed', `invalid ${field} filter`, {
      errors: [
        { path: field, message: 'not expressible in a visibility query (quotes, backslashes or control characters)' },
      ],
    });
  }
  return `'${value}'`;
}

function executionOf(wf: Omit<WorkflowExecutionInfo, 'raw'>): RequestExecution {
  const sa = wf.typedSearchAttributes;
  const status = sa.get(SEARCH_ATTRIBUTES.status);
  const risk = sa.get(SEARCH_ATTRIBUTES.risk);
  return {
    id: wf.workflowId,
    executionStatus: wf.status.name,
    agent: sa.get(SEARCH_ATTRIBUTES.agent) ?? '',
    action: sa.get(SEARCH_ATTRIBUTES.action) ?? '',
    ...(status && (REQUEST_STATUSES as readonly string[]).includes(status) ? { status: status as RequestStatus } : {}),
    ...(risk ? { risk } : {}),
    memo: wf.memo ?? {},
    startTime: wf.startTime.toISOString(),
    ...(wf.closeTime ? { closeTime: wf.closeTime.toISOString() } : {}),
  };
}

function memoState(execution: RequestExecution): ActionRequestState {
  const request = execution.memo.request as ActionRequestState | undefined;
  if (!request || typeof request !== 'object' || typeof request.requestId !== 'string') {
    throw new AppError('not_ready', 'the request’s state is not available right now (no worker answered); try again', {
      headers: RETRY_AFTER,
    });
  }
  return structuredClone(request);
}

/** A running request read without a worker: the status from the search attributes, the rest as at submit. */
function staleState(execution: RequestExecution): ActionRequestState {
  const state = memoState(execution);
  if (execution.status) state.status = execution.status;
  return { ...state, stale: true };
}

/** A closed workflow that returned no state: terminated, failed, cancelled or timed out in Temporal. */
function closedWithoutResult(execution: RequestExecution, failure: string | undefined): ActionRequestState {
  const state = memoState(execution);
  const at = execution.closeTime ?? new Date().toISOString();
  switch (execution.executionStatus) {
    case 'TERMINATED':
      state.status = 'terminated';
      state.timeline.push({ at, event: 'terminated', detail: 'terminated in Temporal; no code ran to record an end' });
      break;
    case 'CANCELLED':
    case 'CANCELED':
      state.status = 'cancelled';
      state.cancellation = { by: 'temporal', reason: 'workflow cancelled in Temporal', at };
      state.timeline.push({ at, event: 'cancelled', detail: 'temporal' });
      break;
    default: {
      const summary = `Not completed: ${bounded(failure ?? `workflow ${execution.executionStatus.toLowerCase()}`)}`;
      state.status = 'failed';
      state.outcome = { ok: false, summary };
      state.timeline.push({ at, event: 'failed', detail: summary });
    }
  }
  return state;
}

function causeText(err: Error): string {
  let current: unknown = err.cause ?? err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

function isNoPoller(err: unknown): boolean {
  // FAILED_PRECONDITION "no poller seen for task queue recently"
  return isGrpcServiceError(err) && Number(err.code) === 9;
}

function notFound(): AppError {
  return new AppError('not_found', 'no such request');
}
