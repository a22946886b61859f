// MCP Tasks driven by the SDK's own client over Streamable HTTP (and through the stdio bridge): a task-augmented call
// gets a task whose id is the request id, backed by the request's workflow on a real Temporal server, so it is found
// again from a new session and after the API restarts, and only ever by the agent that made it.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import {
  CallToolResultSchema,
  CreateTaskResultSchema,
  ErrorCode,
  McpError,
  RELATED_TASK_META_KEY,
  type CallToolResult,
  type CreateTaskResult,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpServer } from '../../src/mcp/tools';
import { testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { ROOT, runCountersign } from './cli-run';
import { eventually, operatorToken, startApi, workflowCount, type Api } from './http-support';
import { accessToken, registerAgent, type RegisteredClient } from './identity-support';

const BILLING_TOKEN = 'tok_mcp_tasks_secret_91d0';
const ACTIONS = ['payments.refund', 'email.send_external', 'customers.delete'];

interface Structured {
  requestId: string;
  status: string;
  outcome?: { ok: boolean; summary: string };
}
const structured = (result: unknown): Structured =>
  (result as CallToolResult).structuredContent as unknown as Structured;

/** A task-augmented tools/call, as a client that opts in sends it. */
const callAsTask = (client: Client, name: string, args: Record<string, unknown>): Promise<CreateTaskResult> =>
  client.request(
    { method: 'tools/call', params: { name, arguments: args, task: { ttl: 3_600_000 } } },
    CreateTaskResultSchema,
  );

const email = (subject: string) => ({ params: { to: 'pat@example.com', subject }, reason: 'customer asked' });

/** The JSON-RPC error a request is refused with. */
async function refusal(promise: Promise<unknown>): Promise<McpError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof McpError) return err;
    throw err;
  }
  throw new Error('expected a JSON-RPC error');
}

describe('MCP Tasks', () => {
  let target: TargetServer;
  let h: Harness;
  let api: Api;
  let agent: RegisteredClient;
  let token: string;
  let otherToken: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = BILLING_TOKEN;
    target = await startTargetServer();
    h = await startHarness({ config: testConfig({ targetHost: target.host }), identity: {} });
    api = await startApi(h);
    agent = await registerAgent(api, operatorToken(h, 'erin'), {
      id: 'mcp-task-bot',
      owner: 'carol',
      allowedActions: ACTIONS,
    });
    token = await accessToken(api, agent);
    const other = await registerAgent(api, operatorToken(h, 'erin'), {
      id: 'mcp-task-other',
      owner: 'dana',
      allowedActions: ACTIONS,
    });
    otherToken = await accessToken(api, other);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await api?.close();
    await h?.close();
    await target?.close();
  });

  const connect = async (bearer = token) => {
    const client = new Client({ name: 'mcp-tasks-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${api.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${bearer}` } },
      }),
    );
    clients.push(client);
    return client;
  };
  const approve = async (requestId: string) => {
    const approved = await runCountersign(['approve', requestId, '--api', api.url, '--reason', 'ok'], {
      COUNTERSIGN_OPERATOR_TOKEN: operatorToken(h, 'alice'),
    });
    expect(approved.code, approved.stderr).toBe(0);
  };

  it('when tools are listed, then the server offers tasks and each action tool takes them optionally, status and await not', async () => {
    const client = await connect();
    expect(client.getServerCapabilities()?.tasks).toEqual({
      list: {},
      cancel: {},
      requests: { tools: { call: {} } },
    });
    const { tools } = await client.listTools();
    const support = Object.fromEntries(tools.map((t) => [t.name, t.execution?.taskSupport]));
    expect(support).toEqual({
      payments_refund: 'optional',
      email_send_external: 'optional',
      customers_delete: 'optional',
      countersign_request_status: undefined,
      countersign_await_decision: undefined,
    });
    const refusedAsTask = await refusal(
      callAsTask(client, 'countersign_request_status', { requestId: `req_${'0'.repeat(32)}` }),
    );
    expect(refusedAsTask.code).toBe(ErrorCode.MethodNotFound);
  });

  it('when an opted-in call needs approval, then a task handle names the request; tasks/get says input_required; approved by the CLI, tasks/result returns the outcome', async () => {
    const client = await connect();
    const created = await callAsTask(client, 'email_send_external', email('Renewal'));
    const taskId = created.task.taskId;
    expect(taskId).toMatch(/^req_[0-9a-f]{32}$/);
    expect(created.task).toMatchObject({ status: 'input_required', ttl: null });
    expect(created._meta?.['io.modelcontextprotocol/model-immediate-response']).toContain('needs approval');
    // The task id is the request id: the request service (and so the HTTP API) knows it as pending.
    const request = await h.service.get({ kind: 'operator', id: 'test' }, taskId);
    expect(request.status).toBe('pending_approval');

    const got = await client.experimental.tasks.getTask(taskId);
    expect(got).toMatchObject({ taskId, status: 'input_required', createdAt: request.submittedAt });
    expect(got.pollInterval).toBeGreaterThan(0);

    // tasks/result blocks while the task waits for people, and answers once they decide.
    const result = client.experimental.tasks.getTaskResult(taskId, CallToolResultSchema);
    await approve(taskId);
    const done = await result;
    expect(done.isError ?? false).toBe(false);
    expect(structured(done)).toMatchObject({ requestId: taskId, status: 'succeeded', outcome: { ok: true } });
    expect(done._meta?.[RELATED_TASK_META_KEY]).toEqual({ taskId });
    expect((await client.experimental.tasks.getTask(taskId)).status).toBe('completed');
    expect(target.callsFor(taskId)).toHaveLength(1);
  });

  it('when an allowed call opts in, then it still answers at once with a task and tasks/result returns the execution, which ran once', async () => {
    const client = await connect();
    const created = await callAsTask(client, 'payments_refund', {
      params: { paymentId: 'pay_mcptask1', amount: 15, currency: 'USD' },
      reason: 'duplicate',
    });
    expect(['working', 'completed']).toContain(created.task.status);
    const done = await client.experimental.tasks.getTaskResult(created.task.taskId, CallToolResultSchema);
    expect(structured(done).status).toBe('succeeded');
    expect(target.callsFor(created.task.taskId)).toHaveLength(1);
  });

  it('when a denied call opts in, then its task is failed and tasks/result carries the policy’s reason as an error result', async () => {
    const client = await connect();
    const created = await callAsTask(client, 'customers_delete', {
      params: { customerId: 'cus_task1' },
      reason: 'cleanup',
      target: { environment: 'production' },
    });
    expect(created.task.status).toBe('failed');
    const done = await client.experimental.tasks.getTaskResult(created.task.taskId, CallToolResultSchema);
    expect(done.isError).toBe(true);
    expect(structured(done).status).toBe('denied');
  });

  it('when an opted-in call has a bad argument, then it is a JSON-RPC invalid-params error and nothing is submitted', async () => {
    const client = await connect();
    const before = await workflowCount(h, 'mcp-task-bot');
    const err = await refusal(
      callAsTask(client, 'payments_refund', {
        params: { paymentId: 'pay_mcptaskbad', amount: 'lots', currency: 'USD' },
        reason: 'x',
      }),
    );
    expect(err.code).toBe(ErrorCode.InvalidParams);
    expect(err.data).toMatchObject({ code: 'invalid_params' });
    expect(await workflowCount(h, 'mcp-task-bot')).toBe(before);
  });

  it('when the client reconnects with a new session, and again after the API restarts, then the task is still found and listed', async () => {
    const first = await connect();
    const created = await callAsTask(first, 'email_send_external', email('Reconnect'));
    const taskId = created.task.taskId;
    await first.close();

    const second = await connect();
    expect((await second.experimental.tasks.getTask(taskId)).status).toBe('input_required');

    // A new API process (the MCP sessions are gone with it): the task lives in the workflow, not in the API.
    await api.close();
    api = await startApi(h);
    const third = await connect();
    expect((await third.experimental.tasks.getTask(taskId)).status).toBe('input_required');
    // Visibility is eventually consistent: the listing catches up with the start.
    const listed = await eventually(
      () => third.experimental.tasks.listTasks(),
      (l) => l.tasks.some((t) => t.taskId === taskId),
    );
    expect(listed.tasks.find((t) => t.taskId === taskId)?.status).toBe('input_required');
    const badCursor = await refusal(third.experimental.tasks.listTasks('bm90LWEtY3Vyc29y'));
    expect(badCursor.code).toBe(ErrorCode.InvalidParams);
  });

  it('when tasks/cancel is sent for a pending task, then the request ends cancelled; a second cancel is invalid params', async () => {
    const client = await connect();
    const created = await callAsTask(client, 'email_send_external', email('Cancel me'));
    const taskId = created.task.taskId;
    const cancelled = await client.experimental.tasks.cancelTask(taskId);
    expect(cancelled).toMatchObject({ taskId, status: 'cancelled' });
    const request = await h.service.get({ kind: 'operator', id: 'test' }, taskId);
    expect(request.status).toBe('cancelled');
    expect(request.cancellation?.by).toBe('agent:mcp-task-bot');
    expect((await client.experimental.tasks.getTask(taskId)).status).toBe('cancelled');
    const result = await client.experimental.tasks.getTaskResult(taskId, CallToolResultSchema);
    expect(result.isError).toBe(true);
    expect(structured(result).status).toBe('cancelled');
    expect((await refusal(client.experimental.tasks.cancelTask(taskId))).code).toBe(ErrorCode.InvalidParams);
  });

  it('when another agent asks for the task, then it can neither get, wait on, list nor cancel it', async () => {
    const owner = await connect();
    const created = await callAsTask(owner, 'email_send_external', email('Not yours'));
    const taskId = created.task.taskId;
    const intruder = await connect(otherToken);

    for (const attempt of [
      () => intruder.experimental.tasks.getTask(taskId),
      () => intruder.experimental.tasks.getTaskResult(taskId, CallToolResultSchema),
      () => intruder.experimental.tasks.cancelTask(taskId),
    ]) {
      const err = await refusal(attempt());
      expect(err.code).toBe(ErrorCode.InvalidParams);
      expect(err.message).toContain('Task not found');
    }
    // Its own list holds its own task once visibility has it, and never the owner's.
    const own = await callAsTask(intruder, 'email_send_external', email('Mine'));
    const listed = await eventually(
      () => intruder.experimental.tasks.listTasks(),
      (l) => l.tasks.some((t) => t.taskId === own.task.taskId),
    );
    expect(listed.tasks.map((t) => t.taskId)).toEqual([own.task.taskId]);
    // Untouched: still waiting for people, and still the owner's.
    expect((await owner.experimental.tasks.getTask(taskId)).status).toBe('input_required');
  });

  it('when tasks/result is asked for a task still waiting for people, then it holds until its bound and answers request timeout with the status', async () => {
    // The MCP server itself over an in-memory transport, with the hold shortened (the API's is 45 s).
    const server = createMcpServer(
      { service: h.service, config: h.config, catalog: h.catalog, taskResultWaitSeconds: 2, progressEverySeconds: 1 },
      () => ({
        agent: { id: 'mcp-task-bot', owner: 'carol', description: '', allowedActions: ACTIONS, enabled: true },
        sessionId: 'in-memory',
      }),
    );
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'mcp-tasks-bound', version: '1.0.0' });
    await client.connect(clientSide);
    clients.push(client);
    const created = await callAsTask(client, 'email_send_external', email('Bounded'));
    const progress: string[] = [];
    const err = await refusal(
      client.experimental.tasks.getTaskResult(created.task.taskId, CallToolResultSchema, {
        onprogress: (p) => progress.push(p.message ?? ''),
      }),
    );
    expect(err.code).toBe(ErrorCode.RequestTimeout);
    expect(err.data).toMatchObject({ taskId: created.task.taskId, status: 'input_required' });
    expect(progress[0]).toContain('pending_approval');
    // Still there, still waiting: the bound ended the hold, not the task.
    expect((await client.experimental.tasks.getTask(created.task.taskId)).status).toBe('input_required');
  });

  it('over stdio, when a host opts in, then the bridge passes the task through: created, read and cancelled on the API', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [`${ROOT}bin/countersign.js`, 'mcp'],
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        COUNTERSIGN_URL: api.url,
        COUNTERSIGN_CLIENT_ID: agent.clientId,
        COUNTERSIGN_CLIENT_SECRET: agent.clientSecret,
        LOG_LEVEL: 'info',
      },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'mcp-tasks-stdio-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      expect(client.getServerCapabilities()?.tasks?.requests?.tools?.call).toEqual({});
      const created = await callAsTask(client, 'email_send_external', email('Over stdio'));
      const taskId = created.task.taskId;
      expect(created.task.status).toBe('input_required');
      expect((await client.experimental.tasks.getTask(taskId)).status).toBe('input_required');
      expect((await client.experimental.tasks.cancelTask(taskId)).status).toBe('cancelled');
      const request = await h.service.get({ kind: 'operator', id: 'test' }, taskId);
      expect(request.status).toBe('cancelled');
    } finally {
      await client.close();
    }
  });
});
