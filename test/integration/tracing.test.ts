// One trace per request, on the real Temporal server: the HTTP submit joins the caller's traceparent, policy and the
// workflow are its children, each approval joins it, the re-check and the connector call run under the workflow, and
// the downstream receives a traceparent of the same trace. Spans are collected by an in-memory exporter.
import { randomBytes } from 'node:crypto';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createDataConverter } from '../../src/temporal/codec';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTracing, type TracingRuntime } from '../../src/tracing/sdk';
import { testConfig, TEST_AGENT_KEY } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { finalState } from '../workflows/helpers';
import { call, eventually, startApi, type Api } from './http-support';

const exporter = new InMemorySpanExporter();
let tracing: TracingRuntime;
let target: TargetServer;
let h: Harness;
let api: Api;

beforeAll(async () => {
  process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_tracing_51c2';
  tracing = startTracing({ serviceName: 'countersign-test', exporter });
  target = await startTargetServer();
  h = await startHarness({ config: testConfig({ targetHost: target.host }), tracing });
  api = await startApi(h);
}, 60_000);

afterAll(async () => {
  await api?.close();
  await h?.close();
  await target?.close();
  await tracing?.shutdown();
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The one span of this trace with this name. */
function only(spans: ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((s) => s.name === name);
  expect(
    found.map((s) => s.name),
    `spans named ${name}`,
  ).toEqual([name]);
  return found[0]!;
}

function childrenOf(spans: ReadableSpan[], parent: ReadableSpan, name: string): ReadableSpan[] {
  return spans.filter((s) => s.name === name && s.parentSpanId === parent.spanContext().spanId);
}

function childOf(spans: ReadableSpan[], parent: ReadableSpan, name: string): ReadableSpan {
  const found = childrenOf(spans, parent, name);
  expect(found.length, `${name} under ${parent.name}`).toBe(1);
  return found[0]!;
}

describe('tracing', () => {
  it('when a traced submit is approved twice and executed, then one trace holds every step and the downstream joins it', async () => {
    const traceId = hex(16);
    const callerSpanId = hex(8);
    const submitted = await call<{ id: string }>(api, 'POST', '/v1/action-requests', {
      token: TEST_AGENT_KEY,
      headers: { traceparent: `00-${traceId}-${callerSpanId}-01` },
      body: {
        action: 'payments.refund',
        params: { paymentId: 'pay_trace1234', amount: 4000, currency: 'USD' },
        reason: 'traced refund',
      },
    });
    expect(submitted.status).toBe(201);
    const id = submitted.json.id;
    // finance, quorum 2: two people, each one approval (carol owns the agent and may not approve).
    for (const approver of ['alice', 'bob']) await h.service.decide(id, { decision: 'approve', approver });
    expect((await finalState(h, id)).status).toBe('succeeded');

    const inTrace = () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    // The workflow's own span ends with the workflow; the sink hands it over right after its last task.
    const spans = await eventually(
      async () => inTrace(),
      (s) => s.some((x) => x.name === 'RunWorkflow:actionRequestWorkflow'),
    );

    const server = only(spans, 'POST /v1/action-requests');
    expect(server.parentSpanId, 'the caller’s traceparent is joined').toBe(callerSpanId);
    const submit = childOf(spans, server, 'countersign.submit');
    childOf(spans, submit, 'countersign.policy.evaluate');
    const start = childOf(spans, submit, 'StartWorkflow:actionRequestWorkflow');
    const run = childOf(spans, start, 'RunWorkflow:actionRequestWorkflow');

    // Each approval joins the request's trace under its submit, and reaches the workflow's update handler.
    const approvals = childrenOf(spans, submit, 'countersign.approval');
    expect(approvals.map((a) => a.attributes['countersign.decision'])).toEqual(['approve', 'approve']);
    for (const approval of approvals) {
      const update = childOf(spans, approval, 'StartWorkflowUpdate:decide');
      childOf(spans, update, 'HandleUpdate:decide');
    }

    const recheck = childOf(spans, run, 'StartActivity:recheckBeforeExecution');
    childOf(spans, recheck, 'RunActivity:recheckBeforeExecution');
    const execute = childOf(spans, run, 'StartActivity:executeConnectorAction');
    const activity = childOf(spans, execute, 'RunActivity:executeConnectorAction');
    const downstream = childOf(spans, activity, 'POST /v1/payments/{paymentId}/refunds');
    expect(downstream.attributes['http.response.status_code']).toBe(200);
    // No parameter value in the span: the path is the template's.
    expect(JSON.stringify(downstream.attributes)).not.toContain('pay_trace1234');

    const calls = target.callsFor(id);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.headers.traceparent).toBe(`00-${traceId}-${downstream.spanContext().spanId}-01`);

    // A traced history replays deterministically, with tracing on the replayer as on a worker and without.
    const history = await h.client.workflow.getHandle(id).fetchHistory();
    const bundle = { codePath: inject('workflowBundlePath') };
    const dataConverter = createDataConverter(h.codec);
    await Worker.runReplayHistory({ workflowBundle: bundle, sinks: tracing.worker.sinks, dataConverter }, history, id);
    await Worker.runReplayHistory({ workflowBundle: bundle, dataConverter }, history, id);
  });

  it('when a submit carries no traceparent, then a new trace starts at the server span and still reaches the downstream', async () => {
    const submitted = await call<{ id: string }>(api, 'POST', '/v1/action-requests', {
      token: TEST_AGENT_KEY,
      body: {
        action: 'payments.refund',
        params: { paymentId: 'pay_trace5678', amount: 5, currency: 'USD' },
        reason: 'x',
      },
    });
    expect(submitted.status).toBe(201);
    const id = submitted.json.id;
    expect((await finalState(h, id)).status).toBe('succeeded');
    const [sent] = target.callsFor(id);
    const traceparent = String(sent?.headers.traceparent ?? '');
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const traceId = traceparent.split('-')[1]!;
    const submit = exporter
      .getFinishedSpans()
      .find((s) => s.name === 'countersign.submit' && s.attributes['countersign.request_id'] === id);
    expect(submit?.spanContext().traceId).toBe(traceId);
    const server = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === submit?.parentSpanId);
    expect(server?.name).toBe('POST /v1/action-requests');
    expect(server?.parentSpanId, 'the server span is the root').toBeUndefined();
  });
});
