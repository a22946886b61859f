// The framework adapters of packages/client, each driven by its framework's own fake model issuing the tool call,
// against a running Countersign (real API, registry, Temporal and workers). No LLM is involved.
import { AIMessageChunk } from '@langchain/core/messages';
import { FakeStreamingChatModel } from '@langchain/core/utils/testing';
import {
  Agent,
  run,
  setTracingDisabled,
  Usage,
  type Model,
  type ModelRequest,
  type ModelResponse,
} from '@openai/agents';
import { generateText } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countersignTools as aiSdkTools } from '../../packages/client/src/ai-sdk';
import { createCountersignClient, type CountersignClient } from '../../packages/client/src/index';
import { countersignTools as langchainTools } from '../../packages/client/src/langchain';
import { countersignTools as openAiTools } from '../../packages/client/src/openai-agents';
import { testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { call, operatorToken, startApi, type Api } from '../integration/http-support';
import { registerAgent } from '../integration/identity-support';

const BILLING_TOKEN = 'tok_adapters_secret_3f0d';

interface ToolOutput {
  requestId: string;
  status: string;
  ok: boolean;
  message: string;
  waitingFor?: { group: string; quorum: number }[];
}

describe('framework adapters', () => {
  let target: TargetServer;
  let h: Harness;
  let api: Api;
  let client: CountersignClient;

  beforeAll(async () => {
    setTracingDisabled(true);
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = BILLING_TOKEN;
    target = await startTargetServer();
    h = await startHarness({ config: testConfig({ targetHost: target.host }), identity: {} });
    api = await startApi(h);
    const agent = await registerAgent(api, operatorToken(h, 'erin'), {
      id: 'framework-bot',
      owner: 'carol',
      allowedActions: ['payments.refund', 'email.send_external', 'customers.delete'],
    });
    client = createCountersignClient({ baseUrl: api.url, clientId: agent.clientId, clientSecret: agent.clientSecret });
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
    await target?.close();
  });

  const aiSdkModel = (toolCallId: string, toolName: string, input: unknown) =>
    new MockLanguageModelV3({
      doGenerate: async () => ({
        content: [{ type: 'tool-call', toolCallId, toolName, input: JSON.stringify(input) }],
        finishReason: { unified: 'tool-calls', raw: undefined },
        usage: {
          inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
          outputTokens: { total: 1, text: 1, reasoning: 0 },
        },
        warnings: [],
      }),
    });

  it('AI SDK: when the mock model calls an allowed tool, then the action runs once and the tool result is the outcome', async () => {
    const tools = await aiSdkTools(client);
    expect(Object.keys(tools).sort()).toEqual(['customers_delete', 'email_send_external', 'payments_refund']);
    const result = await generateText({
      model: aiSdkModel('ai-call-1', 'payments_refund', {
        params: { paymentId: 'pay_aisdk1', amount: 15, currency: 'USD' },
        reason: 'duplicate charge',
      }),
      tools,
      prompt: 'Refund the duplicate charge.',
    });
    const output = result.toolResults[0]?.output as ToolOutput;
    expect(output).toMatchObject({ status: 'succeeded', ok: true });
    expect(target.callsFor(output.requestId)).toHaveLength(1);
  });

  it('AI SDK: when a call needs approval, then the wait is held by Countersign and the same tool call resumes the same request', async () => {
    const tools = await aiSdkTools(client, { waitMs: 1_000 });
    const input = { params: { to: 'pat@example.com', subject: 'Renewal' }, reason: 'customer asked' };
    const first = await generateText({
      model: aiSdkModel('ai-call-2', 'email_send_external', input),
      tools,
      prompt: 'x',
    });
    const pending = first.toolResults[0]?.output as ToolOutput;
    expect(pending).toMatchObject({ status: 'pending_approval', ok: false });
    expect(pending.waitingFor).toEqual([{ group: 'communications', quorum: 1, approvedBy: [] }]);

    const approved = await call(api, 'POST', `/v1/action-requests/${pending.requestId}/decisions`, {
      token: operatorToken(h, 'alice'),
      body: { decision: 'approve' },
    });
    expect(approved.status).toBe(200);
    // A new process re-running the same tool call (same id) finds the request, not a second one.
    const resumed = await generateText({
      model: aiSdkModel('ai-call-2', 'email_send_external', input),
      tools: await aiSdkTools(client, { waitMs: 30_000 }),
      prompt: 'x',
    });
    const done = resumed.toolResults[0]?.output as ToolOutput;
    expect(done).toMatchObject({ requestId: pending.requestId, status: 'succeeded' });
    expect(target.callsFor(pending.requestId)).toHaveLength(1);
  });

  it('OpenAI Agents: when a scripted model calls the tool, then the run gets the outcome and the action ran once', async () => {
    const args = { params: { paymentId: 'pay_openai1', amount: 16, currency: 'EUR' }, reason: 'duplicate charge' };
    const requests: ModelRequest[] = [];
    const model: Model = {
      async getResponse(request): Promise<ModelResponse> {
        requests.push(request);
        const output: ModelResponse['output'] =
          requests.length === 1
            ? [
                {
                  type: 'function_call',
                  callId: 'oa-call-1',
                  name: 'payments_refund',
                  arguments: JSON.stringify(args),
                  status: 'completed',
                },
              ]
            : [
                {
                  type: 'message',
                  role: 'assistant',
                  status: 'completed',
                  content: [{ type: 'output_text', text: 'Refunded.' }],
                },
              ];
        return { usage: new Usage(), output };
      },
      getStreamedResponse() {
        throw new Error('not streamed in this test');
      },
    };
    const agent = new Agent({
      name: 'refunds',
      instructions: 'Refund when asked.',
      model,
      tools: await openAiTools(client),
    });
    const result = await run(agent, 'Refund pay_openai1.');
    expect(result.finalOutput).toBe('Refunded.');
    const toolOutput = result.newItems.find((i) => i.type === 'tool_call_output_item');
    const parsed = JSON.parse(String((toolOutput as { output: unknown } | undefined)?.output)) as ToolOutput;
    expect(parsed).toMatchObject({ status: 'succeeded', ok: true });
    expect(target.callsFor(parsed.requestId)).toHaveLength(1);
  });

  it('LangChain: when the fake tool-calling model calls the tool, then the tool message carries the outcome and the action ran once', async () => {
    const tools = await langchainTools(client);
    // The fake model answers with the tool calls of its first chunk.
    const model = new FakeStreamingChatModel({
      chunks: [
        new AIMessageChunk({
          content: '',
          tool_calls: [
            {
              id: 'lc-call-1',
              name: 'payments_refund',
              args: { params: { paymentId: 'pay_langchain1', amount: 17, currency: 'USD' }, reason: 'duplicate' },
              type: 'tool_call',
            },
          ],
        }),
      ],
    });
    const ai = await model.bindTools(tools).invoke('Refund pay_langchain1.');
    const toolCall = ai.tool_calls?.[0];
    expect(toolCall?.name).toBe('payments_refund');
    const byName = new Map(tools.map((t) => [t.name, t]));
    // What LangGraph's ToolNode does with each call.
    const message = (await byName.get(toolCall?.name ?? '')?.invoke(toolCall)) as {
      content: unknown;
      tool_call_id: string;
    };
    expect(message.tool_call_id).toBe('lc-call-1');
    const parsed = JSON.parse(String(message.content)) as ToolOutput;
    expect(parsed).toMatchObject({ status: 'succeeded', ok: true });
    expect(target.callsFor(parsed.requestId)).toHaveLength(1);
    // The tool-call id became the idempotency key: the same call again is the same request.
    const again = (await byName.get('payments_refund')?.invoke(toolCall)) as { content: unknown };
    expect((JSON.parse(String(again.content)) as ToolOutput).requestId).toBe(parsed.requestId);
    expect(target.callsFor(parsed.requestId)).toHaveLength(1);
  });
});
