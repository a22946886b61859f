// Reads recorded requests out of Temporal for evidence export and policy replay: each request's workflow input (what
// was asked, with the decision inputs recorded then) and its state (who decided, what happened). The only Temporal
// client calls of this feature, kept here so they can move into the Temporal adapter unchanged.
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { getStateQuery } from '../contracts/messages';
import { WORKFLOW_TYPE } from '../contracts/names';
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
