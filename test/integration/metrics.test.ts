// Metrics moving as their events happen, on the API's /metrics and on a worker process's /metrics (which carries the
// Temporal SDK runtime's metrics too), each endpoint clean under `promtool check metrics`.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMetricsServer, temporalSdkMetricsSource, type MetricsServer } from '../../src/app/metrics-server';
import { parseConfig } from '../../src/config/load';
import { createLogger } from '../../src/logger';
import { createMetrics } from '../../src/metrics';
import { countPendingByGroup } from '../../src/temporal/adapter';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { createSlackWebClient } from '../../slack/web-client';
import { testConfigYaml, TEST_AGENT_KEY, OTHER_AGENT_KEY } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { promtoolCheckMetrics, sampleValue } from '../support/promtool';
import { startSlackApiStub, type SlackApiStub } from '../support/slack-api-stub';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { finalState, waitForState } from '../workflows/helpers';
import { call, eventually, startApi, type Api } from './http-support';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

// Installed before the harness does: the runtime exports the SDK's metrics on loopback for the worker endpoint.
const sdkAddress = `127.0.0.1:${await freePort()}`;
installTemporalRuntime(createLogger({ level: 'silent' }), 'WARN', { prometheusBindAddress: sdkAddress });

let target: TargetServer;
let h: Harness;
let api: Api;
let worker: MetricsServer;
let slack: SlackApiStub;

beforeAll(async () => {
  process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_metrics_3e8a';
  target = await startTargetServer();
  // One attempt of half a second: a slow downstream ends the request with an execution outcome of `unknown`.
  const yaml = testConfigYaml({ targetHost: target.host, idempotency: 'none' }).replace(
    '    timeout: 2s\n',
    '    timeout: 500ms\n    maxAttempts: 1\n',
  );
  h = await startHarness({ config: parseConfig(yaml), identity: {} });
  api = await startApi(h, { pendingByGroup: () => countPendingByGroup(h.client, h.taskQueues.control) });
  worker = await startMetricsServer({
    host: '127.0.0.1',
    port: 0,
    metrics: createMetrics({ temporalSdkMetrics: temporalSdkMetricsSource(sdkAddress, h.logger) }),
    logger: h.logger,
  });
  slack = await startSlackApiStub();
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await api?.close();
  await h?.close();
  await target?.close();
  await slack?.close();
});

const scrape = async () => (await call(api, 'GET', '/metrics')).text;
const submit = (body: Record<string, unknown>, key = TEST_AGENT_KEY) =>
  call<{ id: string }>(api, 'POST', '/v1/action-requests', { token: key, body });
const refund = (amount: number) => ({
  action: 'payments.refund',
  params: { paymentId: 'pay_abcd1234', amount, currency: 'USD' },
  reason: `refund ${amount}`,
});
const value = (text: string, name: string, labels: Record<string, string>) => sampleValue(text, name, labels) ?? 0;

describe('API metrics', () => {
  it('when requests are submitted and refused, then requests by outcome and refusal reason move', async () => {
    const before = await scrape();
    expect((await submit(refund(10))).status).toBe(201);
    // The kill switch and the rate limit refuse before anything is decided, each counted under its own reason.
    const identity = h.identity?.identity;
    if (!identity) throw new Error('harness without identity');
    await identity.killSwitches.engage({ action: 'customers.delete' }, { reason: 'incident', by: 'test' });
    const killed = await submit({ action: 'customers.delete', params: { customerId: 'c1' }, reason: 'x' });
    expect(killed.status).toBe(403);
    await identity.registry.update('other-bot', { rateLimit: '1/m' }, 'test');
    const read = { action: 'customers.read', params: { customerId: 'c1' }, reason: 'look' };
    expect((await submit(read, OTHER_AGENT_KEY)).status).toBe(201);
    expect((await submit(read, OTHER_AGENT_KEY)).status).toBe(429);
    const after = await scrape();
    const delta = (labels: Record<string, string>) =>
      value(after, 'countersign_action_requests_total', labels) -
      value(before, 'countersign_action_requests_total', labels);
    expect(delta({ action: 'payments.refund', outcome: 'allow' })).toBe(1);
    expect(delta({ action: 'customers.delete', outcome: 'kill_switch' })).toBe(1);
    expect(delta({ action: 'customers.read', outcome: 'rate_limited' })).toBe(1);
    // Each decided request is timed by effect (two allowed: the refund and the first read); refusals are not.
    const decided = (text: string, effect: string) =>
      value(text, 'countersign_policy_decision_seconds_count', { effect });
    expect(decided(after, 'allow') - decided(before, 'allow')).toBe(2);
    expect(promtoolCheckMetrics(after)).toEqual({ code: 0, output: '' });
  });

  it('when a request waits for a group, then pending approvals by group count it', async () => {
    const { json } = await submit({
      action: 'email.send_external',
      params: { to: 'a@example.org', subject: 's' },
      reason: 'tell',
    });
    await waitForState(h, json.id, (s) => s.timeline.length > 0);
    const text = await eventually(
      scrape,
      (t) => value(t, 'countersign_pending_approvals_by_group', { group: 'communications' }) === 1,
    );
    expect(value(text, 'countersign_pending_approvals', {})).toBeGreaterThanOrEqual(1);
    await h.service.decide(json.id, { decision: 'reject', approver: 'dana', reason: 'no' });
    await finalState(h, json.id);
    await eventually(
      scrape,
      (t) => value(t, 'countersign_pending_approvals_by_group', { group: 'communications' }) === 0,
    );
  });
});

describe('worker metrics', () => {
  it('when connector attempts succeed, are refused or may have landed, then executions by outcome move', async () => {
    const ok = await submit(refund(20));
    await finalState(h, ok.json.id);
    target.failNext(400);
    const rejected = await submit(refund(30));
    expect((await finalState(h, rejected.json.id)).status).toBe('failed');
    target.delay(1_500);
    try {
      const slow = await submit(refund(40));
      expect((await finalState(h, slow.json.id)).status).toBe('failed');
    } finally {
      target.delay(0);
    }
    expect((await h.metrics.executions.get()).values).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          labels: { connector: 'billing', action: 'payments.refund', outcome: 'rejected' },
          value: 1,
        }),
        expect.objectContaining({
          labels: { connector: 'billing', action: 'payments.refund', outcome: 'unknown' },
          value: 1,
        }),
      ]),
    );
    const succeeded = (await h.metrics.executions.get()).values.find((v) => v.labels.outcome === 'succeeded');
    expect(succeeded?.value).toBeGreaterThanOrEqual(1);
  });

  it('when people decide, then the time to the first and to the final decision is observed for their group', async () => {
    const count = async (name: 'firstDecisionSeconds' | 'finalDecisionSeconds') =>
      (await h.metrics[name].get()).values.find((v) => v.metricName?.endsWith('_count') && v.labels.group === 'finance')
        ?.value ?? 0;
    const [first0, final0] = [await count('firstDecisionSeconds'), await count('finalDecisionSeconds')];
    const { json } = await submit(refund(4000));
    await waitForState(h, json.id, (s) => s.timeline.length > 0);
    await h.service.decide(json.id, { decision: 'approve', approver: 'alice' });
    await h.service.decide(json.id, { decision: 'approve', approver: 'bob' });
    await finalState(h, json.id);
    await eventually(
      () => count('finalDecisionSeconds'),
      (n) => n === final0 + 1,
    );
    expect(await count('firstDecisionSeconds')).toBe(first0 + 1);
    const closed = (await h.metrics.requestsClosed.get()).values.find(
      (v) => v.labels.action === 'payments.refund' && v.labels.status === 'succeeded',
    );
    expect(closed?.value).toBeGreaterThanOrEqual(1);
  });

  it('when the worker endpoint is scraped, then it carries the Temporal SDK metrics and passes promtool', async () => {
    const text = await eventually(
      async () => (await fetch(worker.url)).text(),
      (t) => /^temporal_\w+/m.test(t),
    );
    expect(text).toMatch(/^# TYPE countersign_executions_total counter/m);
    expect(text).toMatch(/^temporal_.*_total\{/m);
    expect(promtoolCheckMetrics(text)).toEqual({ code: 0, output: '' });
  });
});

describe('Slack metrics', () => {
  it('when a Slack Web API call fails, then Slack API errors by method move', async () => {
    const metrics = createMetrics();
    const client = createSlackWebClient({
      token: 'xoxb-metrics',
      apiUrl: slack.apiUrl,
      logger: h.logger,
      retryConfig: { retries: 0 },
      onApiError: (method, error) => metrics.slackApiError(method, error),
    });
    slack.failNext('chat.postMessage', { status: 500 });
    await expect(client.chat.postMessage({ channel: 'C1', text: 'x' })).rejects.toThrow();
    await client.auth.test();
    const text = await metrics.text();
    expect(value(text, 'countersign_slack_api_errors_total', { method: 'chat.postMessage', error: 'http_500' })).toBe(
      1,
    );
    expect(sampleValue(text, 'countersign_slack_api_errors_total', { method: 'auth.test' })).toBeUndefined();
    // Webhook deliveries are exposed (the webhook sender moves them) and the whole text passes promtool.
    metrics.webhookDeliveries.inc({ outcome: 'delivered' });
    expect(value(await metrics.text(), 'countersign_webhook_deliveries_total', { outcome: 'delivered' })).toBe(1);
    expect(promtoolCheckMetrics(await metrics.text()).code).toBe(0);
  });
});

describe('webhook metrics', () => {
  it('when the webhook sender reports deliveries, then webhook deliveries by outcome move', async () => {
    const metrics = createMetrics();
    metrics.webhookDelivery('retrying');
    metrics.webhookDelivery('delivered');
    metrics.webhookDelivery('delivered');
    const text = await metrics.text();
    expect(value(text, 'countersign_webhook_deliveries_total', { outcome: 'delivered' })).toBe(2);
    expect(value(text, 'countersign_webhook_deliveries_total', { outcome: 'retrying' })).toBe(1);
    expect(promtoolCheckMetrics(text)).toEqual({ code: 0, output: '' });
  });
});
