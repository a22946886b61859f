// The MCP face of the request service: one tool per catalog action the agent may request, plus status and await
// tools. A governed call never waits in the host's memory for a human: a request that needs approval returns at once
// with its id, and `countersign_await_decision` (or a later status read) picks it up from the durable workflow.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type CreateTaskResult,
  type ServerNotification,
  type ServerRequest,
  type Tool,
  type ToolAnnotations,
} from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { AgentRecord } from '../agents';
import type { ActionCatalog } from '../catalog';
import type { ActionConfig, CountersignConfig } from '../config/schema';
import { AppError } from '../errors';
import { presentRequest, type LinkOptions } from '../http/present';
import type { RequestService } from '../requests';
import {
  AWAIT_TOOL,
  errorResult,
  MAX_AWAIT_SECONDS,
  pollWithProgress,
  PROGRESS_EVERY_SECONDS,
  resultOf,
  STATUS_TOOL,
} from './results';
import { createTaskResult, registerTaskHandlers, TASKS_CAPABILITY, type McpTaskDeps } from './tasks';

export { AWAIT_TOOL, MAX_AWAIT_SECONDS, resultOf, STATUS_TOOL } from './results';

/** `_meta` key through which a bridge (the stdio server) hands down its own idempotency key for a call. */
export const IDEMPOTENCY_META_KEY = 'countersign/idempotency-key';
/** How long an allowed call waits for its execution before answering with the request's status. */
const SUBMIT_WAIT_SECONDS = 25;
/** Progress notifications while a decision is awaited come this often. */

export interface McpToolDeps extends McpTaskDeps {
  service: RequestService;
  config: CountersignConfig;
  catalog: ActionCatalog;
  links?: LinkOptions;
  /** Shortens waits in tests; production uses the defaults. */
  progressEverySeconds?: number;
}

/** Who calls: the agent, as its access token narrows it, and the MCP session that scopes request-id idempotency. */
export interface McpCaller {
  agent: AgentRecord;
  sessionId?: string;
}

/** The MCP tool name of an action: hosts accept letters, digits, `_` and `-` only, so dots become underscores. */
export function toolNameOf(action: string): string {
  return action.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** Hints for the host, from the action's risk and what its connector does downstream. */
export function toolAnnotations(action: ActionConfig, config: CountersignConfig): ToolAnnotations {
  const method = action.http?.method ?? 'POST';
  const connector = config.connectors[action.connector];
  return {
    title: action.description,
    readOnlyHint: method === 'GET',
    destructiveHint: method === 'DELETE' || action.risk === 'high' || action.risk === 'critical',
    idempotentHint: method === 'GET' || method === 'PUT' || method === 'DELETE',
    // An HTTP connector reaches a system outside Countersign.
    openWorldHint: connector?.type === 'http',
  };
}

/** The input schema of an action's tool: the action's parameters, the agent's reason, and optional extras. */
export function toolInputSchema(action: ActionConfig): Tool['inputSchema'] {
  return {
    type: 'object',
    properties: {
      params: rebaseRefs(action.params, '#/properties/params') as Record<string, unknown>,
      reason: {
        type: 'string',
        minLength: 1,
        maxLength: 2000,
        description: 'Why you ask for this; shown to the people who approve it.',
      },
      onBehalfOf: { type: 'string', description: 'The person you act for (id, email or Slack user id).' },
      target: {
        type: 'object',
        additionalProperties: false,
        properties: { system: { type: 'string' }, environment: { type: 'string' }, resource: { type: 'string' } },
        description: 'Where the action lands; ids only.',
      },
      idempotencyKey: {
        type: 'string',
        description: 'Send the same key again to get the same request back instead of a second one.',
      },
      callbackUrl: {
        type: 'string',
        minLength: 1,
        maxLength: 2048,
        format: 'uri',
        description:
          'Where Countersign POSTs this request’s signed webhook events (pending approval and the end); https to a ' +
          'public address unless the deployment allow-lists the host.',
      },
    },
    required: ['params', 'reason'],
    additionalProperties: false,
  };
}

/** The tools this agent sees: one per catalog action it may request, then status and await. */
export function listTools(deps: McpToolDeps, agent: AgentRecord): Tool[] {
  const tools: Tool[] = [];
  for (const name of deps.catalog.names()) {
    const action = deps.catalog.get(name);
    if (!action || !agent.allowedActions.includes(name)) continue;
    tools.push({
      name: toolNameOf(name),
      title: name,
      description: `${action.description} Countersign governs it (risk: ${action.risk}): policy allows, denies or asks people to approve; a call that needs approval returns its request id at once.`,
      inputSchema: toolInputSchema(action),
      annotations: toolAnnotations(action, deps.config),
      // A client that opts in (task-augmented tools/call) gets a task backed by the request's workflow.
      execution: { taskSupport: 'optional' },
      _meta: { 'countersign/action': name, 'countersign/risk': action.risk },
    });
  }
  const requestId = { type: 'string', pattern: '^req_[0-9a-f]{32}$', description: 'The request id a tool returned.' };
  tools.push(
    {
      name: STATUS_TOOL,
      title: 'Countersign request status',
      description: 'Where a request stands: status, approvals so far, and the outcome once it ran.',
      inputSchema: { type: 'object', properties: { requestId }, required: ['requestId'], additionalProperties: false },
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    {
      name: AWAIT_TOOL,
      title: 'Await a Countersign decision',
      description: `Waits up to ${MAX_AWAIT_SECONDS} s for a request to be decided and run, then returns its outcome or its status; call again to keep waiting.`,
      inputSchema: {
        type: 'object',
        properties: {
          requestId,
          timeoutSeconds: { type: 'integer', minimum: 1, maximum: MAX_AWAIT_SECONDS, description: 'Default 45.' },
        },
        required: ['requestId'],
        additionalProperties: false,
      },
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
  );
  return tools;
}

/** What the SDK hands a request handler. */
export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * Answers one tools/call. Refusals (schema, scope, policy) are error results the model can read, never exceptions.
 * With `asTask` (the client sent `task`), an action tool answers with a task handle instead, and a refusal before
 * anything was submitted is a JSON-RPC error (there is no task to carry it).
 */
export async function callTool(
  deps: McpToolDeps,
  caller: McpCaller,
  name: string,
  args: Record<string, unknown>,
  extra: Extra,
  asTask = false,
): Promise<CallToolResult | CreateTaskResult> {
  if (asTask && (name === STATUS_TOOL || name === AWAIT_TOOL)) {
    // Spec, tool-level negotiation: a tool without taskSupport is not invoked as a task.
    throw new McpError(ErrorCode.MethodNotFound, `${name} does not run as a task; call it without \`task\``);
  }
  try {
    if (name === STATUS_TOOL) {
      const state = await deps.service.get({ kind: 'agent', agent: caller.agent }, requestIdArg(args));
      return resultOf(presentRequest(state, deps.links));
    }
    if (name === AWAIT_TOOL) return await awaitDecision(deps, caller, args, extra);
    const action = deps.catalog.names().find((n) => toolNameOf(n) === name && caller.agent.allowedActions.includes(n));
    if (!action) throw new AppError('unknown_action', `no tool "${name}" for this agent`);
    return await submit(deps, caller, action, args, extra, asTask);
  } catch (err) {
    if (err instanceof AppError && asTask) {
      throw new McpError(ErrorCode.InvalidParams, errorText(err), {
        code: err.code,
        detail: err.message,
        errors: err.errors,
      });
    }
    if (err instanceof AppError) return errorResult(err);
    throw err;
  }
}

function errorText(err: AppError): string {
  const issues = err.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
  return `${err.code}: ${err.message}${issues ? ` (${issues})` : ''}`;
}

async function submit(
  deps: McpToolDeps,
  caller: McpCaller,
  action: string,
  args: Record<string, unknown>,
  extra: Extra,
  asTask: boolean,
): Promise<CallToolResult | CreateTaskResult> {
  const known = new Set(['params', 'reason', 'onBehalfOf', 'target', 'idempotencyKey', 'callbackUrl']);
  const issues = Object.keys(args)
    .filter((k) => !known.has(k))
    .map((k) => ({ path: k, message: 'unknown argument' }));
  if (typeof args.reason !== 'string' || args.reason.length === 0) {
    issues.push({ path: 'reason', message: 'required: why you ask' });
  }
  if (typeof args.params !== 'object' || args.params === null || Array.isArray(args.params)) {
    issues.push({ path: 'params', message: 'required: an object' });
  }
  if (args.callbackUrl !== undefined && typeof args.callbackUrl !== 'string') {
    issues.push({ path: 'callbackUrl', message: 'must be a URL string' });
  }
  if (issues.length > 0) throw new AppError('validation_failed', 'the arguments are invalid', { errors: issues });
  const who = { kind: 'agent' as const, agent: caller.agent };
  const { state } = await deps.service.submit(
    caller.agent,
    {
      action,
      params: args.params as Record<string, unknown>,
      reason: args.reason as string,
      ...(typeof args.onBehalfOf === 'string' ? { onBehalfOf: args.onBehalfOf } : {}),
      ...(isRecord(args.target) ? { target: args.target } : {}),
      // Checked by the request service exactly as the HTTP submit's field (URL rules, SSRF guard, signing secret).
      ...(typeof args.callbackUrl === 'string' ? { callbackUrl: args.callbackUrl } : {}),
    },
    idempotencyKeyOf(caller, args, extra),
  );
  // A task answers at once, whatever the policy said; tasks/result waits for the end.
  if (asTask) return createTaskResult(state, deps.links);
  // Allowed (or already approved): wait for the execution. Pending: answer at once, the wait belongs to the workflow.
  const running = state.status === 'executing' || state.status === 'approved';
  const latest = running
    ? await deps.service.get(who, state.requestId, SUBMIT_WAIT_SECONDS, { signal: extra.signal })
    : state;
  return resultOf(presentRequest(latest, deps.links));
}

/** An explicit key wins; then a bridge's key; then the MCP request id, scoped to the session and agent. */
function idempotencyKeyOf(caller: McpCaller, args: Record<string, unknown>, extra: Extra): string | undefined {
  if (typeof args.idempotencyKey === 'string' && args.idempotencyKey.length > 0) return args.idempotencyKey;
  const bridged = extra._meta?.[IDEMPOTENCY_META_KEY];
  if (typeof bridged === 'string' && bridged.length > 0) return bridged;
  // Request ids restart with every session, so without one they would collide across sessions.
  return caller.sessionId ? `mcp:${caller.sessionId}:${String(extra.requestId)}` : undefined;
}

async function awaitDecision(
  deps: McpToolDeps,
  caller: McpCaller,
  args: Record<string, unknown>,
  extra: Extra,
): Promise<CallToolResult> {
  const id = requestIdArg(args);
  const timeout = args.timeoutSeconds;
  const seconds =
    typeof timeout === 'number' && Number.isInteger(timeout) && timeout >= 1
      ? Math.min(timeout, MAX_AWAIT_SECONDS)
      : MAX_AWAIT_SECONDS;
  const who = { kind: 'agent' as const, agent: caller.agent };
  const state = await pollWithProgress({
    id,
    state: await deps.service.get(who, id),
    seconds,
    everySeconds: deps.progressEverySeconds ?? PROGRESS_EVERY_SECONDS,
    extra,
    poll: (wait) => deps.service.get(who, id, wait, { signal: extra.signal }),
  });
  return resultOf(presentRequest(state, deps.links));
}

function requestIdArg(args: Record<string, unknown>): string {
  if (typeof args.requestId !== 'string') {
    throw new AppError('validation_failed', 'requestId is required', {
      errors: [{ path: 'requestId', message: 'required' }],
    });
  }
  return args.requestId;
}

function isRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Local `$ref`s of a schema nested under `base` would point at the tool schema's root; rebase them. */
function rebaseRefs(value: unknown, base: string): unknown {
  if (Array.isArray(value)) return value.map((v) => rebaseRefs(v, base));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' && v.startsWith('#') ? `${base}${v.slice(1)}` : rebaseRefs(v, base),
    ]),
  );
}

/** An MCP server (protocol level) for one caller; the transport decides how it is reached. */
export function createMcpServer(deps: McpToolDeps, caller: (extra: Extra) => McpCaller, version = '0.1.0'): Server {
  const server = new Server(
    { name: 'countersign', title: 'Countersign', version },
    {
      capabilities: { tools: { listChanged: false }, tasks: TASKS_CAPABILITY },
      instructions:
        'Countersign governs the actions these tools request. A call that needs human approval returns at once with ' +
        `a request id; use ${AWAIT_TOOL} to wait for the decision (up to ${MAX_AWAIT_SECONDS} s per call). ` +
        'Clients with MCP Tasks may call the action tools as tasks: the task id is the request id.',
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, (_request, extra) => ({
    tools: listTools(deps, caller(extra).agent),
  }));
  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    callTool(
      deps,
      caller(extra),
      request.params.name,
      request.params.arguments ?? {},
      extra,
      request.params.task !== undefined,
    ),
  );
  registerTaskHandlers(server, deps, (extra) => caller(extra).agent);
  return server;
}
