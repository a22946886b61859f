// The MCP server driven by the SDK's own client, over Streamable HTTP (/mcp on the API) and over stdio
// (`countersign mcp` as a child process bridging to the API), against a real Temporal server and registry.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Progress, Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../packages/client/src/webhooks';
import type { WebhookEvent } from '../../src/contracts/types';
import { testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { startReceiver, type Receiver } from '../webhooks/receiver';
import { ROOT, runCountersign } from './cli-run';
import { eventually, operatorToken, startApi, workflowCount, type Api } from './http-support';
import { accessToken, registerAgent, type RegisteredClient } from './identity-support';

const BILLING_TOKEN = 'tok_mcp_secret_7c2e';
const WEBHOOK_SECRET = `whsec_${Buffer.from('countersign-mcp-webhook-secret-0123456789').toString('base64')}`;
const ACTIONS = ['payments.refund', 'customers.read', 'customers.delete', 'email.send_external'];

interface Structured {
  requestId: string;
  status: string;
  outcome?: { ok: boolean; status?: number; summary: string };
  waitingFor?: { group: string; quorum: number; approvedBy: string[] }[];
  code?: string;
  errors?: { path: string; message: string }[];
}

const structured = (result: unknown): Structured =>
  (result as CallToolResult).structuredContent as unknown as Structured;
const text = (result: unknown): string =>
  ((result as CallToolResult).content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n');

describe('MCP server', () => {
  let receiver: Receiver;
  let target: TargetServer;
  let h: Harness;
  let api: Api;
  let agent: RegisteredClient;
  let token: string;

  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = BILLING_TOKEN;
    process.env.COUNTERSIGN_TEST_MCP_WEBHOOK_SECRET = WEBHOOK_SECRET;
    receiver = await startReceiver();
    target = await startTargetServer();
    const webhooks = `
webhooks:
  secret: { env: COUNTERSIGN_TEST_MCP_WEBHOOK_SECRET }
  allowedHosts: ['${receiver.host}']
  firstRetryAfter: 1s
  timeout: 2s
`;
    h = await startHarness({ config: testConfig({ targetHost: target.host, extraYaml: webhooks }), identity: {} });
    api = await startApi(h);
    agent = await registerAgent(api, operatorToken(h, 'erin'), {
      id: 'mcp-bot',
      owner: 'carol',
      allowedActions: ACTIONS,
    });
    token = await accessToken(api, agent);
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
    await target?.close();
    await receiver?.close();
  });

  const httpClient = async (bearer = token) => {
    const client = new Client({ name: 'mcp-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${api.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${bearer}` } },
      }),
    );
    return client;
  };

  describe('over Streamable HTTP', () => {
    let client: Client;
    beforeAll(async () => {
      client = await httpClient();
    });
    afterAll(async () => {
      await client?.close();
    });

    it('when tools are listed, then there is one per allowed action with its schema and hints, plus status and await', async () => {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(
        [
          'countersign_await_decision',
          'countersign_request_status',
          'customers_delete',
          'customers_read',
          'email_send_external',
          'payments_refund',
        ].sort(),
      );
      const byName = new Map<string, Tool>(tools.map((t) => [t.name, t]));
      const refund = byName.get('payments_refund');
      expect(refund?.title).toBe('payments.refund');
      expect(refund?.inputSchema.required).toEqual(['params', 'reason']);
      expect(refund?.inputSchema.properties?.params).toEqual(h.config.actions['payments.refund']?.params);
      expect(refund?.annotations).toMatchObject({ destructiveHint: true, idempotentHint: false, openWorldHint: true });
      expect(byName.get('customers_read')?.annotations).toMatchObject({
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
      });
      expect(byName.get('customers_delete')?.annotations).toMatchObject({
        destructiveHint: true,
        idempotentHint: true,
      });
      expect(byName.get('email_send_external')?.annotations).toMatchObject({ destructiveHint: false });
    });

    it('when an allowed tool is called, then it executes once and returns the outcome', async () => {
      const result = await client.callTool({
        name: 'payments_refund',
        arguments: { params: { paymentId: 'pay_mcpok1', amount: 20, currency: 'USD' }, reason: 'duplicate' },
      });
      const s = structured(result);
      expect(result.isError ?? false).toBe(false);
      expect(s.status).toBe('succeeded');
      expect(s.outcome?.ok).toBe(true);
      expect(target.callsFor(s.requestId)).toHaveLength(1);
    });

    it('when a tool call is retried with the same idempotency key, then the same request comes back and nothing runs twice', async () => {
      const args = {
        params: { paymentId: 'pay_mcpidem', amount: 21, currency: 'USD' },
        reason: 'duplicate',
        idempotencyKey: 'mcp-retry-1',
      };
      const first = structured(await client.callTool({ name: 'payments_refund', arguments: args }));
      const again = structured(await client.callTool({ name: 'payments_refund', arguments: args }));
      expect(again.requestId).toBe(first.requestId);
      expect(target.callsFor(first.requestId)).toHaveLength(1);
    });

    it('when policy denies the call, then an error result carries the reason and nothing runs', async () => {
      const result = await client.callTool({
        name: 'customers_delete',
        arguments: {
          params: { customerId: 'cus_mcp1' },
          reason: 'cleanup',
          target: { environment: 'production' },
        },
      });
      expect(result.isError).toBe(true);
      expect(structured(result).status).toBe('denied');
      expect(text(result)).toContain('Agents may not delete production data.');
      expect(target.callsFor(structured(result).requestId)).toHaveLength(0);
    });

    it('when the call needs approval, then it returns pending at once; approved by the CLI, await_decision returns the outcome', async () => {
      const pending = await client.callTool({
        name: 'email_send_external',
        arguments: { params: { to: 'pat@example.com', subject: 'Renewal' }, reason: 'customer asked' },
      });
      const p = structured(pending);
      expect(pending.isError ?? false).toBe(false);
      expect(p.status).toBe('pending_approval');
      expect(p.waitingFor).toEqual([{ group: 'communications', quorum: 1, approvedBy: [] }]);
      expect(text(pending)).toContain('countersign_await_decision');

      const progress: Progress[] = [];
      const awaited = client.callTool(
        { name: 'countersign_await_decision', arguments: { requestId: p.requestId } },
        undefined,
        { onprogress: (n) => progress.push(n), timeout: 60_000, resetTimeoutOnProgress: true },
      );
      const approved = await runCountersign(['approve', p.requestId, '--api', api.url, '--reason', 'ok'], {
        COUNTERSIGN_OPERATOR_TOKEN: operatorToken(h, 'alice'),
      });
      expect(approved.code, approved.stderr).toBe(0);
      const done = await awaited;
      expect(structured(done).status).toBe('succeeded');
      expect(progress.length).toBeGreaterThan(0);
      expect(progress[0]?.message).toContain('pending_approval');
      expect(target.callsFor(p.requestId)).toHaveLength(1);

      const status = await client.callTool({
        name: 'countersign_request_status',
        arguments: { requestId: p.requestId },
      });
      expect(structured(status).status).toBe('succeeded');
    });

    it('when a tool call names a callbackUrl, then its hook gets the signed events of that request, as from the HTTP submit', async () => {
      const { tools } = await client.listTools();
      expect(tools.find((t) => t.name === 'email_send_external')?.inputSchema.properties?.callbackUrl).toMatchObject({
        type: 'string',
      });
      const pending = structured(
        await client.callTool({
          name: 'email_send_external',
          arguments: {
            params: { to: 'pat@example.com', subject: 'Hooked' },
            reason: 'customer asked',
            callbackUrl: receiver.urlFor('mcp-hooked'),
          },
        }),
      );
      expect(pending.status).toBe('pending_approval');
      await eventually(
        () => Promise.resolve(receiver.deliveriesTo('mcp-hooked').length),
        (n) => n >= 1,
        30_000,
      );
      await h.service.decide(pending.requestId, { decision: 'reject', approver: 'alice', reason: 'not now' });
      await eventually(
        () => Promise.resolve(receiver.deliveriesTo('mcp-hooked').length),
        (n) => n >= 2,
        30_000,
      );
      const events = await Promise.all(
        receiver.deliveriesTo('mcp-hooked').map((d) => verifyWebhook<WebhookEvent>(WEBHOOK_SECRET, d.headers, d.body)),
      );
      expect(events.map((e) => e.type)).toEqual(['request.pending_approval', 'request.rejected']);
      expect(events.every((e) => e.data.requestId === pending.requestId && e.data.agent === 'mcp-bot')).toBe(true);
    });

    it('when a tool call’s callbackUrl breaks the callback rules, then it is refused naming callbackUrl and nothing is submitted', async () => {
      const before = await workflowCount(h, 'mcp-bot');
      for (const callbackUrl of ['http://10.0.0.5/hook', 'https://user:pw@hooks.example.com/x', 'not a url', 42]) {
        const result = await client.callTool({
          name: 'email_send_external',
          arguments: { params: { to: 'pat@example.com', subject: 'Bad hook' }, reason: 'customer asked', callbackUrl },
        });
        expect(result.isError).toBe(true);
        expect(structured(result).errors).toEqual([expect.objectContaining({ path: 'callbackUrl' })]);
      }
      expect(await workflowCount(h, 'mcp-bot')).toBe(before);
    });

    it('when an argument breaks the action’s schema, then the result is a schema error and nothing is submitted', async () => {
      const before = await workflowCount(h, 'mcp-bot');
      const result = await client.callTool({
        name: 'payments_refund',
        arguments: { params: { paymentId: 'pay_mcpbad', amount: 'lots', currency: 'USD' }, reason: 'x' },
      });
      expect(result.isError).toBe(true);
      expect(structured(result).code).toBe('invalid_params');
      expect(structured(result).errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: 'params.amount' })]),
      );
      const missing = await client.callTool({ name: 'payments_refund', arguments: { params: {} } });
      expect(structured(missing).errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'reason' })]));
      expect(await workflowCount(h, 'mcp-bot')).toBe(before);
    });
  });

  it('when /mcp is called without a token or with a forged one, then 401 with a WWW-Authenticate naming the resource metadata', async () => {
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    };
    const post = (headers: Record<string, string>) =>
      fetch(`${api.url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: JSON.stringify(init),
      });
    const none = await post({});
    expect(none.status).toBe(401);
    const challenge = none.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1] ?? '';
    expect(metadataUrl).toBe(`${api.url}/.well-known/oauth-protected-resource/mcp`);

    const forged = await post({ authorization: `Bearer ${token.slice(0, -4)}AAAA` });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toMatch(/resource_metadata=.*error="invalid_token"/);

    const metadata = (await (await fetch(metadataUrl)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({ resource: `${api.url}/mcp`, authorization_servers: [api.url] });
    const server = (await (await fetch(`${api.url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    expect(server).toMatchObject({
      token_endpoint: `${api.url}/oauth/token`,
      grant_types_supported: ['client_credentials'],
    });
  });

  it('when another agent presents a session id it did not open, then it cannot reach that session', async () => {
    const client = await httpClient();
    const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId ?? '';
    const other = await registerAgent(api, operatorToken(h, 'erin'), {
      id: 'mcp-other',
      owner: 'dana',
      allowedActions: ['customers.read'],
    });
    const res = await fetch(`${api.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${await accessToken(api, other)}`,
        'mcp-session-id': sessionId,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
    await client.close();
  });

  it('over stdio, when `countersign mcp` runs with the agent’s client credentials, then tools list and an allowed call executes once', async () => {
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
    const client = new Client({ name: 'mcp-stdio-test', version: '1.0.0' });
    const protocolErrors: Error[] = [];
    client.onerror = (err) => protocolErrors.push(err);
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(
        expect.arrayContaining(['payments_refund', 'countersign_await_decision']),
      );
      const result = await client.callTool({
        name: 'payments_refund',
        arguments: { params: { paymentId: 'pay_mcpstdio', amount: 12, currency: 'EUR' }, reason: 'duplicate' },
      });
      expect(structured(result).status).toBe('succeeded');
      expect(target.callsFor(structured(result).requestId)).toHaveLength(1);
      const denied = await client.callTool({
        name: 'customers_delete',
        arguments: { params: { customerId: 'cus_2' }, reason: 'cleanup', target: { environment: 'production' } },
      });
      expect(denied.isError).toBe(true);
      // Anything but protocol on stdout would have broken the framing.
      expect(protocolErrors).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
