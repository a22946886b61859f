// `countersign mcp`: an MCP server on stdin/stdout for hosts that launch tools as local processes (Claude Desktop,
// Cursor, Claude Code). It holds no Temporal connection and no catalog of its own: it bridges to the API's /mcp with
// the agent's access token (client credentials from the environment, refreshed before expiry), so the tools, their
// checks and the durable wait are exactly those of the Streamable HTTP endpoint. Nothing but protocol goes to stdout.
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  CancelTaskRequestSchema,
  CancelTaskResultSchema,
  CreateTaskResultSchema,
  GetTaskPayloadRequestSchema,
  GetTaskRequestSchema,
  GetTaskResultSchema,
  ListTasksRequestSchema,
  ListTasksResultSchema,
  ListToolsRequestSchema,
  type CallToolResult,
  type CreateTaskResult,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra, RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { IDEMPOTENCY_META_KEY, MAX_AWAIT_SECONDS } from './tools';

export interface StdioBridgeOptions {
  /** Base URL of the Countersign API. */
  apiUrl: string;
  /** Client credentials (exchanged at /oauth/token), or a ready bearer credential (an API key where allowed). */
  clientId?: string;
  clientSecret?: string;
  token?: string;
  logger: Logger;
  version?: string;
}

/** Refresh this long before the token's expiry. */
const REFRESH_MARGIN_MS = 60_000;

/** Access tokens by client credentials, fetched again shortly before they expire. */
export function createTokenSource(options: {
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
}): () => Promise<string> {
  const doFetch = options.fetch ?? fetch;
  let current: { token: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;
  const fetchToken = async (): Promise<string> => {
    const basic = Buffer.from(
      `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
    ).toString('base64');
    const res = await doFetch(`${options.apiUrl}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok || typeof body.access_token !== 'string') {
      // The error code of RFC 6749 §5.2 only: the description could echo what was sent.
      throw new AppError('unauthorized', `the token endpoint refused the client credentials (${String(body.error)})`);
    }
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 300) * 1000;
    current = {
      token: body.access_token,
      refreshAt: Date.now() + Math.max(lifetimeMs - REFRESH_MARGIN_MS, lifetimeMs / 2),
    };
    return body.access_token;
  };
  return async () => {
    if (current && Date.now() < current.refreshAt) return current.token;
    pending ??= fetchToken().finally(() => (pending = undefined));
    return pending;
  };
}

/** Connects to the API's /mcp and serves the same tools on stdio until stdin closes. */
export async function runStdioBridge(options: StdioBridgeOptions): Promise<void> {
  const apiUrl = options.apiUrl.replace(/\/+$/, '');
  let tokenOf: () => Promise<string>;
  if (options.clientId && options.clientSecret) {
    tokenOf = createTokenSource({ apiUrl, clientId: options.clientId, clientSecret: options.clientSecret });
  } else if (options.token) {
    const token = options.token;
    tokenOf = () => Promise.resolve(token);
  } else {
    throw new AppError(
      'config_invalid',
      'countersign mcp needs the agent’s credentials: COUNTERSIGN_CLIENT_ID and COUNTERSIGN_CLIENT_SECRET',
      { errors: [{ path: 'COUNTERSIGN_CLIENT_ID', message: 'required' }] },
    );
  }

  const remote = new Client({ name: 'countersign-stdio', version: options.version ?? '0.1.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${apiUrl}/mcp`), {
    fetch: async (url, init) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${await tokenOf()}`);
      return fetch(url, { ...init, headers });
    },
  });
  await remote.connect(transport);

  // Request ids restart with every stdio session; this process's own id keeps their idempotency keys apart.
  const bridgeId = randomUUID();
  // The API's tasks capability is passed on as is, so a host that opts in gets the same durable task handles.
  const tasks = remote.getServerCapabilities()?.tasks;
  const server = new Server(
    { name: 'countersign', title: 'Countersign', version: options.version ?? '0.1.0' },
    {
      capabilities: { tools: { listChanged: false }, ...(tasks ? { tasks } : {}) },
      instructions: remote.getInstructions(),
    },
  );
  /** Long enough for the API's longest hold (await, tasks/result), and kept alive by its progress notifications. */
  const forwarding = (extra: RequestHandlerExtra<ServerRequest, ServerNotification>): RequestOptions => {
    const progressToken = extra._meta?.progressToken;
    return {
      signal: extra.signal,
      timeout: (MAX_AWAIT_SECONDS + 15) * 1000,
      resetTimeoutOnProgress: true,
      ...(progressToken !== undefined
        ? {
            onprogress: (progress) => {
              void extra.sendNotification({
                method: 'notifications/progress',
                params: { ...progress, progressToken },
              });
            },
          }
        : {}),
    };
  };
  server.setRequestHandler(ListToolsRequestSchema, async (request) => remote.listTools(request.params));
  server.setRequestHandler(
    CallToolRequestSchema,
    async (request, extra): Promise<CallToolResult | CreateTaskResult> => {
      const params = {
        name: request.params.name,
        arguments: request.params.arguments ?? {},
        _meta: { [IDEMPOTENCY_META_KEY]: `stdio:${bridgeId}:${String(extra.requestId)}` },
      };
      if (request.params.task) {
        return remote.request(
          { method: 'tools/call', params: { ...params, task: request.params.task } },
          CreateTaskResultSchema,
          forwarding(extra),
        );
      }
      return (await remote.callTool(params, CallToolResultSchema, forwarding(extra))) as CallToolResult;
    },
  );
  if (tasks) {
    server.setRequestHandler(GetTaskRequestSchema, (request, extra) =>
      remote.request({ method: 'tasks/get', params: { taskId: request.params.taskId } }, GetTaskResultSchema, {
        signal: extra.signal,
      }),
    );
    server.setRequestHandler(GetTaskPayloadRequestSchema, (request, extra) =>
      remote.request(
        { method: 'tasks/result', params: { taskId: request.params.taskId } },
        CallToolResultSchema,
        forwarding(extra),
      ),
    );
    server.setRequestHandler(ListTasksRequestSchema, (request, extra) =>
      remote.request(
        { method: 'tasks/list', params: request.params?.cursor ? { cursor: request.params.cursor } : {} },
        ListTasksResultSchema,
        { signal: extra.signal },
      ),
    );
    server.setRequestHandler(CancelTaskRequestSchema, (request, extra) =>
      remote.request({ method: 'tasks/cancel', params: { taskId: request.params.taskId } }, CancelTaskResultSchema, {
        signal: extra.signal,
      }),
    );
  }

  const stdio = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    stdio.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(stdio);
  options.logger.info({ api: apiUrl }, 'MCP stdio server ready');
  await closed;
  await remote.close().catch((err: unknown) => {
    options.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'MCP session not closed');
  });
}
