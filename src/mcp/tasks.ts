// MCP Tasks (spec revision 2025-11-25) over Countersign requests. A client that augments a tools/call with `task` gets
// a task handle whose id is the request id; the task store is the request's Temporal workflow and the registry behind
// the request service, so nothing is held in this process: a task outlives the MCP session that created it, a
// reconnect, and a restart of the API. Every request the agent made is one of its tasks; no other agent's is.
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CancelTaskRequestSchema,
  ErrorCode,
  GetTaskPayloadRequestSchema,
  GetTaskRequestSchema,
  ListTasksRequestSchema,
  McpError,
  RELATED_TASK_META_KEY,
  type CallToolResult,
  type CreateTaskResult,
  type ServerNotification,
  type ServerRequest,
  type Task,
} from '@modelcontextprotocol/sdk/types.js';
import type { AgentRecord } from '../agents';
import { isTerminal, type ActionRequestState, type RequestStatus } from '../contracts/types';
import { AppError } from '../errors';
import { presentRequest, type LinkOptions } from '../http/present';
import type { RequestService, RequestSummary } from '../requests';
import { describeRequest, MAX_AWAIT_SECONDS, pollWithProgress, PROGRESS_EVERY_SECONDS, resultOf } from './results';

/** The `tasks` capability: task-augmented tools/call, tasks/list and tasks/cancel. */
export const TASKS_CAPABILITY = { list: {}, cancel: {}, requests: { tools: { call: {} } } };
/** `_meta` key of the sentence a host may hand the model at once while the task runs (spec, "Creating Tasks"). */
export const IMMEDIATE_RESPONSE_META_KEY = 'io.modelcontextprotocol/model-immediate-response';
/** Suggested pause between tasks/get polls, by task status. */
const POLL_INTERVAL_MS = { working: 2_000, input_required: 15_000 } as const;
/** Tasks per tasks/list page. */
const LIST_PAGE_SIZE = 50;

export interface McpTaskDeps {
  service: RequestService;
  links?: LinkOptions;
  /** How long tasks/result holds a task that is not terminal before answering RequestTimeout; default 45 s. */
  taskResultWaitSeconds?: number;
  /** Progress notifications while tasks/result waits come this often; default 5 s. */
  progressEverySeconds?: number;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** A request status as a task status: pending approval is the input (people's decision) the task waits for. */
export function taskStatusOf(status: RequestStatus): Task['status'] {
  switch (status) {
    case 'pending_approval':
      return 'input_required';
    case 'approved':
    case 'executing':
      return 'working';
    case 'succeeded':
      return 'completed';
    case 'cancelled':
      return 'cancelled';
    default:
      // denied, rejected, expired, failed, terminated: the tool call's result is an error (`isError`).
      return 'failed';
  }
}

/** A request as a task. `ttl` is null: Countersign deletes nothing; the namespace's retention governs closed ones. */
export function taskOf(state: ActionRequestState, links?: LinkOptions): Task {
  const status = taskStatusOf(state.status);
  const last = state.timeline.at(-1)?.at ?? state.submittedAt;
  return {
    taskId: state.requestId,
    status,
    statusMessage: describeRequest(presentRequest(state, links)),
    createdAt: state.submittedAt,
    lastUpdatedAt: last,
    ttl: null,
    ...(status === 'working' || status === 'input_required' ? { pollInterval: POLL_INTERVAL_MS[status] } : {}),
  };
}

/** A listed request as a task (visibility only: the last update is its close, else its start). */
function taskOfSummary(summary: RequestSummary): Task {
  const status = taskStatusOf(summary.status);
  return {
    taskId: summary.id,
    status,
    statusMessage: `${summary.action} is ${summary.status} (${summary.id}).`,
    createdAt: summary.submittedAt,
    lastUpdatedAt: summary.closedAt ?? summary.submittedAt,
    ttl: null,
    ...(status === 'working' || status === 'input_required' ? { pollInterval: POLL_INTERVAL_MS[status] } : {}),
  };
}

/** The answer to a task-augmented tools/call that submitted a request. */
export function createTaskResult(state: ActionRequestState, links?: LinkOptions): CreateTaskResult {
  const task = taskOf(state, links);
  return { task, _meta: { [IMMEDIATE_RESPONSE_META_KEY]: task.statusMessage } };
}

/** Installs tasks/get, tasks/result, tasks/list and tasks/cancel, each answering for the calling agent only. */
export function registerTaskHandlers(server: Server, deps: McpTaskDeps, agentOf: (extra: Extra) => AgentRecord): void {
  const who = (extra: Extra) => ({ kind: 'agent' as const, agent: agentOf(extra) });

  server.setRequestHandler(GetTaskRequestSchema, async (request, extra) => {
    const state = await read(deps, who(extra), request.params.taskId);
    return taskOf(state, deps.links);
  });

  server.setRequestHandler(GetTaskPayloadRequestSchema, async (request, extra) => {
    const id = request.params.taskId;
    const caller = who(extra);
    const seconds = deps.taskResultWaitSeconds ?? MAX_AWAIT_SECONDS;
    // The spec has tasks/result block until the task ends; a human decision can take days, so the hold is bounded
    // (hosts give up on a request near 60 s) and the client asks again, as after any dropped stream.
    const state = await pollWithProgress({
      id,
      state: await read(deps, caller, id),
      seconds,
      everySeconds: deps.progressEverySeconds ?? PROGRESS_EVERY_SECONDS,
      extra,
      poll: (wait) => guarded(() => deps.service.get(caller, id, wait, { signal: extra.signal })),
    });
    if (!isTerminal(state.status)) {
      throw new McpError(
        ErrorCode.RequestTimeout,
        `task ${id} is still ${taskStatusOf(state.status)} (${state.status}) after ${seconds} s; call tasks/result again`,
        { taskId: id, status: taskStatusOf(state.status), requestStatus: state.status },
      );
    }
    const result: CallToolResult = resultOf(presentRequest(state, deps.links));
    return { ...result, _meta: { ...result._meta, [RELATED_TASK_META_KEY]: { taskId: id } } };
  });

  server.setRequestHandler(ListTasksRequestSchema, async (request, extra) => {
    const cursor = request.params?.cursor;
    const page = await guarded(() =>
      deps.service.listPage(who(extra), { pageSize: LIST_PAGE_SIZE, ...(cursor ? { cursor } : {}) }),
    );
    return { tasks: page.requests.map(taskOfSummary), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  });

  server.setRequestHandler(CancelTaskRequestSchema, async (request, extra) => {
    const id = request.params.taskId;
    const caller = who(extra);
    const current = await read(deps, caller, id);
    if (isTerminal(current.status)) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Cannot cancel task in terminal status: ${taskStatusOf(current.status)}`,
        {
          taskId: id,
          requestStatus: current.status,
        },
      );
    }
    // The agent's own cancel: the workflow answers it, and only a request still waiting for people can be cancelled.
    const state = await guarded(() => deps.service.cancel(caller, id));
    return taskOf(state, deps.links);
  });
}

/** The caller's request behind a task id; any other (absent, someone else's) is "not found" alike. */
async function read(deps: McpTaskDeps, caller: { kind: 'agent'; agent: AgentRecord }, id: string) {
  return guarded(() => deps.service.get(caller, id));
}

/** Refusals of the request service as JSON-RPC errors: the task methods have no tool result to carry them. */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    const data = { code: err.code, detail: err.message, errors: err.errors };
    if (err.code === 'not_found')
      throw new McpError(ErrorCode.InvalidParams, 'Failed to retrieve task: Task not found', data);
    if (err.code === 'validation_failed' || err.code === 'conflict') {
      throw new McpError(ErrorCode.InvalidParams, `${err.code}: ${err.message}`, data);
    }
    throw new McpError(ErrorCode.InternalError, `${err.code}: ${err.message}`, data);
  }
}
