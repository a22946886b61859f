// Temporal reads for operations and compliance, in one module so they can move into the Temporal adapter unchanged:
// recorded requests for evidence export and policy replay (each request's workflow input, with the decision inputs
// recorded then, and its state), pending approvals by group for the metrics, and the doctor's checks (frontend,
// namespace, search attributes, pollers on each task queue).
import { Client, Connection, type WorkflowExecutionInfo } from '@temporalio/client';
import { tsToMs } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { getStateQuery } from '../contracts/messages';
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPE } from '../contracts/names';
import type { ActionRequestInput, ActionRequestState } from '../contracts/types';
import { AppError } from '../errors';

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

const LITERAL = /^[A-Za-z0-9._:@-]{1,128}$/;
const QUERY_TIMEOUT_MS = 5_000;

/** The visibility query for a filter; values are ids and enums only, so nothing needs escaping. */
export function recordedRequestsQuery(filter: RecordedRequestFilter): string {
  const clauses = [
    `WorkflowType = '${WORKFLOW_TYPE}'`,
    `TaskQueue = '${literal('taskQueue', filter.taskQueue)}'`,
    `StartTime >= '${filter.from.toISOString()}'`,
    `StartTime < '${filter.to.toISOString()}'`,
  ];
  if (filter.agent) clauses.push(`CsAgent = '${literal('agent', filter.agent)}'`);
  if (filter.action) clauses.push(`CsAction = '${literal('action', filter.action)}'`);
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

function literal(field: string, value: string): string {
  if (!LITERAL.test(value)) {
    throw new AppError('validation_failed', `invalid ${field} filter`, {
      errors: [{ path: field, message: 'not a valid id' }],
    });
  }
  return value;
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
    `TaskQueue = '${literal('taskQueue', taskQueue)}'`,
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

// temporal.api.enums.v1 values; @temporalio/proto is not a direct dependency, so its enums are not imported.
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;
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
/** The server lists pollers for minutes after they stop; a live worker re-polls at least every ~70 s. */
const POLLER_FRESH_MS = 2 * 60_000;

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
    connection = await Connection.connect({ address: options.address, connectTimeout: options.timeoutMs });
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
