// The one module that talks to Temporal for requests: start, read, list (one escaping rule for visibility queries),
// decide, cancel, cancel-in-scope (a batch operation), readiness, the connection itself, and the reads operations
// and compliance need (recorded requests, pending by group, the doctor's checks). HTTP, Slack, the CLI and
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
  type ConnectionLike,
  type WorkflowClientInterceptor,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import { tsToMs, type DataConverter } from '@temporalio/common';
import { InterceptingCall, Metadata, status as grpcStatus, type Interceptor } from '@grpc/grpc-js';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes.js';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
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
import { activeSpanLinks, inSpan, SPAN_NAMES, TRACE_MEMO_KEY, tracingEnabled } from '../tracing';

export type { Client } from '@temporalio/client';

// temporal.api.enums.v1 values; @temporalio/proto is not a direct dependency, so its enums are not imported.
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;
const BATCH_STATE_RUNNING = 1;
const BATCH_STATE_COMPLETED = 2;
const BATCH_STATE_FAILED = 3;
/** Temporal's WorkflowExecutionStatus codes by the names the client reports them under. */
const EXECUTION_STATUS_NAMES = [
  'UNSPECIFIED',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TERMINATED',
  'CONTINUED_AS_NEW',
  'TIMED_OUT',
  'PAUSED',
] as const;
// gRPC UNAVAILABLE: Temporal cannot be reached right now.
const GRPC_UNAVAILABLE = 14;
/** The server keeps pollers listed for minutes after they stop; a live worker re-polls at least every ~70 s. */
const POLLER_FRESH_MS = 2 * 60_000;
/** How long a poller check is believed: a click must not pay for one each time. */
const POLLER_CACHE_MS = 5_000;
const RETRY_AFTER = { 'Retry-After': '5' };
/** Deadline of server-only calls (count, batch start and progress): bounded, with room for a loaded server. */
const CALL_TIMEOUT_MS = 10_000;
/** Parallel signals of a cancel-in-scope drained by this process (when Temporal's batch operations are busy). */
const LOCAL_DRAIN_CONCURRENCY = 32;

/**
 * The innermost interceptor of every connection: a call attempt made after the connection was closed (the SDK's
 * retry interceptor schedules its next attempt on a timer, which may fire after close) fails the call with CANCELLED
 * instead of throwing "Channel has been shut down" from that timer, which would crash the process.
 */
const noop = () => undefined;
/** The call beneath a failed attempt: nothing reaches a channel. */
const inertCall = {
  cancelWithStatus: noop,
  getPeer: () => '',
  start: noop,
  sendMessageWithContext: noop,
  sendMessage: noop,
  startRead: noop,
  halfClose: noop,
  getAuthContext: () => null,
} as unknown as ConstructorParameters<typeof InterceptingCall>[0];

export const closedConnectionGuard: Interceptor = (options, nextCall) => {
  try {
    return new InterceptingCall(nextCall(options));
  } catch (err) {
    const details = `Temporal connection closed: ${err instanceof Error ? err.message : String(err)}`;
    return new InterceptingCall(inertCall, {
      start: (_metadata, listener) => {
        setImmediate(() => {
          // An empty message first, as the channel gives a failed call: the SDK's retry interceptor forwards the
          // status only after it has seen one.
          listener.onReceiveMessage(null);
          listener.onReceiveStatus({ code: grpcStatus.CANCELLED, details, metadata: new Metadata() });
        });
      },
      sendMessage: noop,
      halfClose: noop,
      cancel: noop,
    });
  }
};

type ConnectOptions = NonNullable<Parameters<typeof Connection.connect>[0]>;

/**
 * gRPC's reconnect backoff, capped. grpc-js grows the wait between reconnect attempts by 1.6x up to 120 s by
 * default, so after a five-minute Temporal outage a process went on refusing for up to two more minutes although the
 * server was back. One attempt every 2 s at most costs a refused TCP connect during an outage and bounds recovery.
 */
export const RECONNECT_CHANNEL_ARGS = {
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 2_000,
} as const;

/**
 * Connects to Temporal. `interceptors` replace the SDK's default retry interceptor (as in `Connection.connect`);
 * the closed-connection guard always comes last, next to the channel. The reconnect backoff is capped
 * (RECONNECT_CHANNEL_ARGS) unless `channelArgs` say otherwise.
 */
export async function connectTemporal(options: ConnectOptions & { address: string }): Promise<Connection> {
  const outer = options.interceptors ?? [makeGrpcRetryInterceptor(defaultGrpcRetryOptions())];
  return Connection.connect({
    ...options,
    channelArgs: { ...RECONNECT_CHANNEL_ARGS, ...options.channelArgs },
    interceptors: [...outer, closedConnectionGuard],
  });
}

/**
 * Connects a client whose calls fail fast when Temporal is unreachable (a few quick retries, not twenty seconds).
 * `interceptors`: the tracing ones, when tracing is on (they carry the caller's trace into the workflow).
 */
export async function connectClient(options: {
  address: string;
  namespace: string;
  interceptors?: WorkflowClientInterceptor[];
  /** The payload codec's converter (src/temporal/codec.ts); plain without it. */
  dataConverter?: DataConverter;
}): Promise<Client> {
  const connection = await connectTemporal({
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
    ...(options.interceptors ? { interceptors: { workflow: options.interceptors } } : {}),
  });
}

/**
 * The client for eager starts: over the worker's NativeConnection (the SDK hands an eagerly started workflow's first
 * task only to a worker registered on the very connection that started it), with the same payload converter and
 * tracing interceptors as the process's client. It borrows the connection: closing the connection closes it.
 */
export function eagerStartClient(
  native: ConnectionLike,
  options: { namespace: string; interceptors?: WorkflowClientInterceptor[]; dataConverter?: DataConverter },
): Client {
  return new Client({
    connection: native,
    namespace: options.namespace,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    ...(options.interceptors ? { interceptors: { workflow: options.interceptors } } : {}),
  });
}

/** Resolves once a Temporal frontend answers at `address` (start-up probes). */
export async function temporalAnswers(address: string): Promise<void> {
  const connection = await connectTemporal({ address, connectTimeout: 1000 });
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
  /** Who may decide it now (CsApprovers), as the workflow last published it. */
  approvers?: string[];
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
  /** How long a state query may wait for a worker (default 5 s). */
  queryTimeoutMs?: number;
  /** How long a decision or cancellation may wait for the workflow to answer (default 10 s). */
  updateTimeoutMs?: number;
  /** Requests per second a cancel-in-scope batch may signal (default 500). */
  batchRps?: number;
  /**
   * A client over the NativeConnection of a control worker in this process (dev mode: API and workers in one
   * process; see eagerStartClient). Starts go through it with eager start requested, so the server hands the first
   * workflow task back in the start's response to that worker instead of waiting for its poll. Absent (the API as
   * a process of its own), starts are plain; with no free slot or no worker on that connection, the server queues
   * the task as usual.
   */
  eagerStarter?: Client;
}

/** Statuses of running requests a kill switch reaches; the workflow cancels `pending_approval`, the re-check the rest. */
const RUNNING_STATUSES: readonly RequestStatus[] = ['pending_approval', 'approved', 'executing'];

/** The adapter over one client. */
export function createTemporalAdapter(client: Client, options: TemporalAdapterOptions) {
  const queryTimeoutMs = options.queryTimeoutMs ?? 5_000;
  const updateTimeoutMs = options.updateTimeoutMs ?? 10_000;
  // What the last look at the workers found: a query answered (or not), or the server's poller list.
  let answered: { atMs: number; ok: boolean } | undefined;
  /** When the server last listed a fresh poller on the control task queue. */
  let pollersSeenAtMs: number | undefined;
  const localOperations = new Map<string, OperationProgress>();
  const within = <T>(ms: number, fn: () => Promise<T>) => client.connection.withDeadline(Date.now() + ms, fn);

  /** Starts the workflow; false when one already exists under this id (a retried submit). */
  async function start(input: ActionRequestInput, opts: StartOptions): Promise<boolean> {
    const sa = opts.searchAttributes;
    const starter = options.eagerStarter ?? client;
    try {
      await starter.workflow.start(WORKFLOW_TYPE, {
        ...(options.eagerStarter ? { requestEagerStart: true } : {}),
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
    try {
      const state = await within(queryTimeoutMs, () => handle.query(getStateQuery));
      answered = { atMs: Date.now(), ok: true };
      return state;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound();
      if (!noAnswer(err)) throw err;
      answered = { atMs: Date.now(), ok: false };
      return staleState(execution);
    }
  }

  /** Reads straight from the workflow (one call); undefined when there is no such request. Throws when none answers. */
  async function query(id: string): Promise<ActionRequestState | undefined> {
    try {
      const state = await within(queryTimeoutMs, () => client.workflow.getHandle(id).query(getStateQuery));
      answered = { atMs: Date.now(), ok: true };
      return state;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      if (noAnswer(err)) answered = { atMs: Date.now(), ok: false };
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

  /**
   * One page of the requests matching a filter, with an opaque token for the next one (Temporal's own page token, so a
   * request closing between pages is neither skipped nor repeated). The memo is not read: ids, statuses and times only.
   */
  async function listPage(
    filter: ListFilter,
    pageSize: number,
    pageToken?: string,
  ): Promise<{ executions: RequestExecution[]; nextPageToken?: string }> {
    const response = await within(CALL_TIMEOUT_MS, () =>
      client.workflowService.listWorkflowExecutions({
        namespace: options.namespace,
        query: visibilityQuery(filter),
        pageSize,
        nextPageToken: pageToken ? Buffer.from(pageToken, 'base64url') : Buffer.alloc(0),
      }),
    );
    const executions = response.executions.map((raw) =>
      executionOf({
        workflowId: raw.execution?.workflowId ?? '',
        status: { name: EXECUTION_STATUS_NAMES[raw.status ?? 0] ?? 'UNSPECIFIED' },
        typedSearchAttributes: decodeTypedSearchAttributes(raw.searchAttributes?.indexedFields),
        memo: {},
        startTime: new Date(tsToMs(raw.startTime)),
        closeTime: raw.closeTime ? new Date(tsToMs(raw.closeTime)) : undefined,
      }),
    );
    const next = response.nextPageToken;
    return {
      executions,
      ...(next && next.length > 0 ? { nextPageToken: Buffer.from(next).toString('base64url') } : {}),
    };
  }

  /** Counts this deployment's requests matching a filter (bounded: a metrics scrape must answer in time). */
  async function count(filter: ListFilter): Promise<number> {
    const { count } = await within(CALL_TIMEOUT_MS, () => client.workflow.count(visibilityQuery(filter)));
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
    requireWorker();
    const send = () =>
      update(id, () => client.workflow.getHandle(id).executeUpdate(decideUpdate, { args: [submission] }));
    if (!tracingEnabled()) return send();
    // The approval joins its request's trace (the submit's span context, kept in the memo), linked to the call that
    // carried it (an operator's HTTP request); a Slack click has no trace of its own.
    const parent = await requestTraceparent(id);
    return inSpan(
      SPAN_NAMES.approval,
      {
        ...(parent ? { parent } : {}),
        links: activeSpanLinks(),
        attributes: {
          'countersign.request_id': id,
          'countersign.decision': submission.decision,
          'countersign.channel': submission.channel,
        },
      },
      async (span) => {
        const result = await send();
        if (result) span?.setAttribute('countersign.accepted', result.accepted);
        return result;
      },
    );
  }

  /** The traceparent a request was submitted under, from its memo; undefined when it was not traced. */
  async function requestTraceparent(id: string): Promise<string | undefined> {
    try {
      const memo = (await client.workflow.getHandle(id).describe()).memo ?? {};
      const value = memo[TRACE_MEMO_KEY];
      return typeof value === 'string' ? value : undefined;
    } catch {
      // Only the span's parent is lost: the decision itself still goes through (and says why it cannot).
      return undefined;
    }
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
    requireWorker();
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
        answered = { atMs: Date.now(), ok: false };
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
    const { count: inScope } = await within(CALL_TIMEOUT_MS, () => client.workflow.count(query));
    if (inScope === 0) return { operationId: input.operationId, inScope };
    const payload = { by: input.by, reason: input.reason };
    try {
      await within(CALL_TIMEOUT_MS, () =>
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
      const d = await within(CALL_TIMEOUT_MS, () =>
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

  function recently(ok: boolean): boolean {
    return answered !== undefined && answered.ok === ok && Date.now() - answered.atMs < POLLER_CACHE_MS;
  }

  /** Refuses at once when a worker was just found not answering; otherwise the update itself finds out (bounded). */
  function requireWorker(): void {
    if (recently(false)) {
      throw new AppError('not_ready', 'no Countersign worker is answering, so the request cannot decide; try again', {
        headers: RETRY_AFTER,
      });
    }
  }

  /** Temporal answers and a worker polls the control task queue (the server's poller list; no worker asked). */
  async function readiness(): Promise<{ temporal: string; worker: string; ready: boolean }> {
    try {
      const response = await within(2_000, () =>
        client.workflowService.describeTaskQueue({
          namespace: options.namespace,
          taskQueue: { name: options.taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
          taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
        }),
      );
      const nowMs = Date.now();
      const count = (response.pollers ?? []).filter((p) => nowMs - tsToMs(p.lastAccessTime) < POLLER_FRESH_MS).length;
      if (count > 0) pollersSeenAtMs = nowMs;
      // A restarted Temporal server has an empty poller list until each worker's next poll, which the worker's own
      // backoff may delay by ten seconds or more; a worker seen polling within the same freshness window as the
      // server's list counts, so the API is ready as soon as Temporal answers again.
      const remembered = count === 0 && pollersSeenAtMs !== undefined && nowMs - pollersSeenAtMs < POLLER_FRESH_MS;
      // A query that found no worker a moment ago outweighs a poller list that remembers stopped workers.
      const polling = (count > 0 || remembered) && !recently(false);
      return {
        temporal: 'ok',
        worker: polling
          ? remembered
            ? `ok (a worker polled ${Math.round((nowMs - pollersSeenAtMs!) / 1000)} s ago; none listed since Temporal restarted)`
            : `ok (${count} poller${count === 1 ? '' : 's'})`
          : count > 0
            ? `no worker answered a query on ${options.taskQueue} just now`
            : `no worker polling ${options.taskQueue}`,
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
    listPage,
    count,
    decide,
    queueRejection,
    cancel,
    cancelInScope,
    operation,
    readiness,
    taskQueue: options.taskQueue,
  };
}

export type TemporalAdapter = ReturnType<typeof createTemporalAdapter>;

/** The memo a request's workflow starts with: what a read needs when no worker can answer. */
export function startMemo(input: ActionRequestInput, extra: Record<string, unknown>): Record<string, unknown> {
  // groups: the approver groups it may wait for (ids only), for the pending-approvals-by-group gauge.
  const groups = [...new Set(input.decision.approvals.map((a) => a.group))];
  return { ...extra, groups, request: memoRequest(initialState(input)) };
}

/**
 * The state at submit as the memo keeps it, without the policy's evaluation record (`decision.signals` and
 * `decision.inputs`, half the memo): the workflow's input in its history holds that record for evidence and
 * `policy replay`, and no read without a worker shows it. The memo is stored three times (the start event, the
 * execution's mutable state and visibility), so this is about 1.5 KB less database per request. Memos written before
 * keep both fields; readers take either.
 */
export function memoRequest(state: ActionRequestState): ActionRequestState {
  const decision = { ...state.decision };
  delete decision.signals;
  delete decision.inputs;
  return { ...state, decision };
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

function executionOf(
  wf: Pick<WorkflowExecutionInfo, 'workflowId' | 'typedSearchAttributes' | 'memo' | 'startTime' | 'closeTime'> & {
    status: { name: string };
  },
): RequestExecution {
  const sa = wf.typedSearchAttributes;
  const status = sa.get(SEARCH_ATTRIBUTES.status);
  const risk = sa.get(SEARCH_ATTRIBUTES.risk);
  const approvers = sa.get(SEARCH_ATTRIBUTES.approvers);
  return {
    id: wf.workflowId,
    executionStatus: wf.status.name,
    agent: sa.get(SEARCH_ATTRIBUTES.agent) ?? '',
    action: sa.get(SEARCH_ATTRIBUTES.action) ?? '',
    ...(status && (REQUEST_STATUSES as readonly string[]).includes(status) ? { status: status as RequestStatus } : {}),
    ...(risk ? { risk } : {}),
    ...(approvers ? { approvers: [...approvers] } : {}),
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

/** A query that no worker answered: our deadline passed (reported as DEADLINE_EXCEEDED or CANCELLED), or no poller. */
function noAnswer(err: unknown): boolean {
  if (isGrpcDeadlineError(err) || isGrpcCancelledError(err)) return true;
  // FAILED_PRECONDITION "no poller seen for task queue recently"
  let current: unknown = err;
  while (current instanceof Error) {
    if (isGrpcServiceError(current) && Number(current.code) === 9) return true;
    current = current.cause;
  }
  return false;
}

function notFound(): AppError {
  return new AppError('not_found', 'no such request');
}

// ---- Reads for operations and compliance: recorded requests (evidence export, policy replay), pending approvals by
// group (metrics) and the doctor's checks (frontend, namespace, search attributes, pollers on each task queue).

/** One request as the trail holds it. */
export interface RecordedRequest {
  input: ActionRequestInput;
  /** The final state for a closed workflow; the current one (queried) for a running one; absent when unreadable. */
  state?: ActionRequestState;
  /** Temporal's view: RUNNING, COMPLETED, TERMINATED… */
  workflowStatus: string;
  startedAt: string;
  closedAt?: string;
}

/** Which requests to read: submitted in [from, to), on one deployment's control task queue. */
export interface RecordedRequestFilter {
  from: Date;
  to: Date;
  taskQueue: string;
  agent?: string;
  action?: string;
}

const QUERY_TIMEOUT_MS = 5_000;

/** The visibility query for a filter; values are ids and enums only, so nothing needs escaping. */
export function recordedRequestsQuery(filter: RecordedRequestFilter): string {
  const clauses = [
    `WorkflowType = '${WORKFLOW_TYPE}'`,
    `TaskQueue = ${literal('taskQueue', filter.taskQueue)}`,
    `StartTime >= '${filter.from.toISOString()}'`,
    `StartTime < '${filter.to.toISOString()}'`,
  ];
  if (filter.agent) clauses.push(`CsAgent = ${literal('agent', filter.agent)}`);
  if (filter.action) clauses.push(`CsAction = ${literal('action', filter.action)}`);
  return clauses.join(' AND ');
}

/** Every request matching the filter, oldest first (submit time, then id, so two exports of a range agree). */
export async function readRecordedRequests(client: Client, filter: RecordedRequestFilter): Promise<RecordedRequest[]> {
  if (!(filter.from < filter.to)) {
    throw new AppError('validation_failed', '--from must be before --to', {
      errors: [{ path: 'from', message: 'not before --to' }],
    });
  }
  const infos: WorkflowExecutionInfo[] = [];
  for await (const wf of client.workflow.list({ query: recordedRequestsQuery(filter), pageSize: 500 })) infos.push(wf);
  infos.sort((a, b) => a.startTime.getTime() - b.startTime.getTime() || a.workflowId.localeCompare(b.workflowId));
  const out: RecordedRequest[] = [];
  for (const info of infos) out.push(await readOne(client, info));
  return out;
}

async function readOne(client: Client, info: WorkflowExecutionInfo): Promise<RecordedRequest> {
  const handle = client.workflow.getHandle(info.workflowId, info.runId);
  const history = await handle.fetchHistory();
  const converter = client.options.loadedDataConverter;
  let input: ActionRequestInput | undefined;
  let state: ActionRequestState | undefined;
  for (const event of history.events ?? []) {
    const started = event.workflowExecutionStartedEventAttributes;
    if (started) input = await decodeFromPayloadsAtIndex<ActionRequestInput>(converter, 0, started.input?.payloads);
    const completed = event.workflowExecutionCompletedEventAttributes;
    if (completed) {
      state = await decodeFromPayloadsAtIndex<ActionRequestState>(converter, 0, completed.result?.payloads);
    }
  }
  if (!input) throw new Error(`workflow ${info.workflowId} has no start event`);
  if (!state && info.status.name === 'RUNNING') {
    try {
      state = await client.connection.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => handle.query(getStateQuery));
    } catch {
      // No worker answered: the record still carries what was asked and decided; the outcome reads as open.
      state = undefined;
    }
  }
  return {
    input,
    ...(state ? { state } : {}),
    workflowStatus: info.status.name,
    startedAt: info.startTime.toISOString(),
    ...(info.closeTime ? { closedAt: info.closeTime.toISOString() } : {}),
  };
}

// --- metrics ----------------------------------------------------------------------------------------------------

/** Longest wait for the pending-approvals listing at scrape time (a scrape must answer while Temporal is away). */
const PENDING_LIST_TIMEOUT_MS = 5_000;
/** Pending requests counted by group per scrape; beyond it the by-group gauge undercounts (the total stays exact). */
const PENDING_LIST_LIMIT = 5_000;

/**
 * Pending requests by the approver groups they wait for, from visibility: each request's start memo names its groups
 * (requests started before the memo did count as `unknown`).
 */
export async function countPendingByGroup(client: Client, taskQueue: string): Promise<Map<string, number>> {
  const query = [
    `WorkflowType = '${WORKFLOW_TYPE}'`,
    `TaskQueue = ${literal('taskQueue', taskQueue)}`,
    `CsStatus = 'pending_approval'`,
  ].join(' AND ');
  return client.connection.withDeadline(Date.now() + PENDING_LIST_TIMEOUT_MS, async () => {
    const counts = new Map<string, number>();
    let seen = 0;
    for await (const wf of client.workflow.list({ query, pageSize: 1000 })) {
      const memo = (wf.memo ?? {}) as { groups?: unknown };
      const groups = Array.isArray(memo.groups) && memo.groups.length > 0 ? memo.groups.map(String) : ['unknown'];
      for (const g of new Set(groups)) counts.set(g, (counts.get(g) ?? 0) + 1);
      if (++seen >= PENDING_LIST_LIMIT) break;
    }
    return counts;
  });
}

// --- doctor -----------------------------------------------------------------------------------------------------

/** One line of the doctor's report. */
export interface TemporalCheck {
  name: string;
  ok: boolean;
  detail: string;
}

const TASK_QUEUE_TYPE_ACTIVITY = 2;
/** IndexedValueType names by the number the operator service answers with. */
const INDEXED_VALUE_TYPES: Record<number, string> = {
  1: 'TEXT',
  2: 'KEYWORD',
  3: 'INT',
  4: 'DOUBLE',
  5: 'BOOL',
  6: 'DATETIME',
  7: 'KEYWORD_LIST',
};
export interface TemporalCheckOptions {
  address: string;
  namespace: string;
  /** Queues with the kinds of task a worker must poll them for. */
  taskQueues: { name: string; kinds: ('workflow' | 'activity')[] }[];
  timeoutMs: number;
}

/** Runs the Temporal checks; when the frontend does not answer, the others fail as "not checked". */
export async function checkTemporal(options: TemporalCheckOptions): Promise<TemporalCheck[]> {
  let connection: Connection;
  try {
    connection = await connectTemporal({ address: options.address, connectTimeout: options.timeoutMs });
    await connection.withDeadline(Date.now() + options.timeoutMs, () => connection.workflowService.getSystemInfo({}));
  } catch (err) {
    const why = `not checked: Temporal unreachable`;
    return [
      { name: 'temporal', ok: false, detail: `${options.address} unreachable (${message(err)})` },
      { name: 'namespace', ok: false, detail: why },
      { name: 'search attributes', ok: false, detail: why },
      ...options.taskQueues.map((q) => ({ name: `worker ${q.name}`, ok: false, detail: why })),
    ];
  }
  const client = new Client({ connection, namespace: options.namespace });
  const deadline = <T>(fn: () => Promise<T>) => connection.withDeadline(Date.now() + options.timeoutMs, fn);
  const out: TemporalCheck[] = [{ name: 'temporal', ok: true, detail: `${options.address} answers` }];
  try {
    let namespaceOk = false;
    try {
      await deadline(() => client.workflowService.describeNamespace({ namespace: options.namespace }));
      namespaceOk = true;
      out.push({ name: 'namespace', ok: true, detail: `${options.namespace} exists` });
    } catch (err) {
      out.push({ name: 'namespace', ok: false, detail: `${options.namespace}: ${message(err)}` });
    }
    if (namespaceOk) {
      out.push(await searchAttributes(client, options.namespace, deadline));
      for (const q of options.taskQueues) out.push(await pollers(client, options.namespace, q, deadline));
    } else {
      out.push({ name: 'search attributes', ok: false, detail: 'not checked: no namespace' });
      for (const q of options.taskQueues) out.push({ name: `worker ${q.name}`, ok: false, detail: 'not checked' });
    }
  } finally {
    await connection.close();
  }
  return out;
}

async function searchAttributes(
  client: Client,
  namespace: string,
  deadline: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<TemporalCheck> {
  try {
    const response = await deadline(() => client.connection.operatorService.listSearchAttributes({ namespace }));
    const custom = (response.customAttributes ?? {}) as Record<string, number>;
    const problems = Object.values(SEARCH_ATTRIBUTES).flatMap((key) => {
      const actual = custom[key.name];
      if (actual === undefined) return [`${key.name} missing`];
      const type = INDEXED_VALUE_TYPES[actual] ?? String(actual);
      return type === key.type ? [] : [`${key.name} is ${type}, expected ${key.type}`];
    });
    return problems.length === 0
      ? {
          name: 'search attributes',
          ok: true,
          detail: Object.values(SEARCH_ATTRIBUTES)
            .map((k) => k.name)
            .join(', '),
        }
      : {
          name: 'search attributes',
          ok: false,
          detail: `${problems.join('; ')} (register them: temporal operator search-attribute create)`,
        };
  } catch (err) {
    return { name: 'search attributes', ok: false, detail: message(err) };
  }
}

async function pollers(
  client: Client,
  namespace: string,
  queue: TemporalCheckOptions['taskQueues'][number],
  deadline: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<TemporalCheck> {
  const name = `worker ${queue.name}`;
  try {
    const counts: string[] = [];
    const missing: string[] = [];
    for (const kind of queue.kinds) {
      const response = await deadline(() =>
        client.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: queue.name, kind: TASK_QUEUE_KIND_NORMAL },
          taskQueueType: kind === 'workflow' ? TASK_QUEUE_TYPE_WORKFLOW : TASK_QUEUE_TYPE_ACTIVITY,
        }),
      );
      const now = Date.now();
      const live = (response.pollers ?? []).filter((p) => now - tsToMs(p.lastAccessTime) < POLLER_FRESH_MS).length;
      if (live === 0) missing.push(kind);
      counts.push(`${live} ${kind} poller${live === 1 ? '' : 's'}`);
    }
    return missing.length === 0
      ? { name, ok: true, detail: counts.join(', ') }
      : { name, ok: false, detail: `no worker polls it for ${missing.join(' and ')} tasks` };
  } catch (err) {
    return { name, ok: false, detail: message(err) };
  }
}

function message(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'error';
}
