// The operational surface: /openapi.json, /healthz, /readyz, /metrics, and the Slack mount point.
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_AGENT_KEY, testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { call, eventually, operatorToken, startApi, type ActionRequestResource, type Api } from './http-support';

type Readiness = { ready: boolean; checks: Record<string, string> };
type Schema = Record<string, unknown> & {
  properties: Record<string, unknown>;
  required?: string[];
  oneOf?: unknown[];
  discriminator?: { mapping: Record<string, string> };
};
type Operation = {
  parameters: { name: string }[];
  requestBody: { content: Record<string, { schema: unknown }> };
  responses: Record<string, unknown>;
};
interface OpenApiDocument {
  openapi: string;
  info: Record<string, unknown>;
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, Schema>;
    responses: Record<string, { content: Record<string, { schema: unknown }> }>;
    securitySchemes: Record<string, unknown>;
  };
}

describe('HTTP API: operations', () => {
  let target: TargetServer;
  let h: Harness;
  let idle: Harness;
  let api: Api;
  let idleApi: Api;
  const slackBodies: string[] = [];

  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_ops_secret_77aa';
    target = await startTargetServer();
    const config = testConfig({ targetHost: target.host });
    h = await startHarness({ config, identity: {} });
    // A raw-body reader stands in for Bolt's receiver: it only works if no parser consumed the stream first.
    const slackHandler = (req: Request, res: Response) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (raw += chunk));
      req.on('end', () => {
        slackBodies.push(raw);
        res.status(200).json({ bodyWasParsed: req.body !== undefined, length: raw.length });
      });
    };
    api = await startApi(h, { slack: { handler: slackHandler } });
    idle = await startHarness({ config, noWorkers: true });
    idleApi = await startApi(idle);
  });
  afterAll(async () => {
    await idleApi?.close();
    await idle?.close();
    await api?.close();
    await h?.close();
    await target?.close();
  });

  it('when /openapi.json is read, then it is an OpenAPI 3.1 document with every route, each action’s params and the problem shape', async () => {
    const res = await call<OpenApiDocument>(api, 'GET', '/openapi.json');

    expect(res.status).toBe(200);
    const doc = res.json;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Countersign');
    expect(typeof doc.info.version).toBe('string');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/action-requests',
        '/v1/action-requests/{id}',
        '/v1/action-requests/{id}/cancel',
        '/v1/action-requests/{id}/decisions',
        '/openapi.json',
        '/healthz',
        '/readyz',
        '/metrics',
      ]),
    );
    const submit = doc.paths['/v1/action-requests']!.post!;
    expect(submit.requestBody.content['application/json']!.schema).toEqual({
      $ref: '#/components/schemas/SubmitActionRequest',
    });
    expect(submit.parameters.map((p) => p.name)).toEqual(['Idempotency-Key', 'wait']);
    expect(Object.keys(submit.responses)).toEqual(
      expect.arrayContaining(['200', '201', '400', '401', '403', '413', '415', '422']),
    );

    const schemas = doc.components.schemas;
    const actions = Object.keys(h.config.actions);
    const union = schemas.SubmitActionRequest!;
    expect(union.oneOf).toHaveLength(actions.length);
    for (const name of actions) {
      expect(union.discriminator!.mapping[name]).toBe(`#/components/schemas/ActionRequest.${name}`);
      expect(schemas[`ActionRequest.${name}`]!.properties.action).toMatchObject({ const: name });
      expect(schemas[`ActionRequest.${name}`]!.required).toEqual(
        expect.arrayContaining(['action', 'params', 'reason']),
      );
    }
    expect(schemas['payments.refund.params']).toMatchObject({
      type: 'object',
      required: ['paymentId', 'amount', 'currency'],
      properties: { currency: { enum: ['USD', 'EUR'] } },
      description: 'Refund a payment.',
    });
    expect(schemas.Problem!.type).toBe('object');
    expect(schemas.Problem!.required).toEqual(
      expect.arrayContaining(['type', 'title', 'status', 'detail', 'instance', 'code', 'errors']),
    );
    expect(doc.components.responses.P422!.content['application/problem+json']!.schema).toEqual({
      $ref: '#/components/schemas/Problem',
    });
    expect(schemas.ActionRequest!.properties).toHaveProperty('paramsHash');
    expect(schemas.ActionRequest!.properties).not.toHaveProperty('params');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    // Every local reference resolves inside the document.
    const refs = [...res.text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(refs.length).toBeGreaterThan(5);
    for (const name of refs) expect(schemas).toHaveProperty([name]);
  });

  it('when /healthz is read, then it answers ok without credentials', async () => {
    const res = await call(api, 'GET', '/healthz');

    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok' });
  });

  it('when a worker polls the control task queue, then /readyz is 200; when none does, then 503 naming the queue', async () => {
    const ready = await eventually(
      () => call<Readiness>(api, 'GET', '/readyz'),
      (r) => r.status === 200,
    );
    const notReady = await call<Readiness>(idleApi, 'GET', '/readyz');

    expect(ready.json).toMatchObject({ ready: true, checks: { temporal: 'ok' } });
    expect(ready.json.checks.worker).toMatch(/^ok/);
    expect(notReady.status).toBe(503);
    expect(notReady.json).toMatchObject({
      ready: false,
      checks: { temporal: 'ok', worker: `no worker polling ${idle.taskQueues.control}` },
    });
  });

  it('when requests were decided, then /metrics shows them by action and outcome, decision latency and pending approvals', async () => {
    const submit = (body: unknown) =>
      call<ActionRequestResource>(api, 'POST', '/v1/action-requests', {
        token: TEST_AGENT_KEY,
        body,
        headers: { 'idempotency-key': randomUUID() },
      });
    const read = await submit({ action: 'customers.read', params: { customerId: 'cus_1' }, reason: 'lookup' });
    const pending = await submit({
      action: 'email.send_external',
      params: { to: 'a@example.org', subject: 's' },
      reason: 'notify',
    });
    const invalid = await submit({ action: 'customers.read', params: {}, reason: 'lookup' });
    expect([read.status, pending.status, invalid.status]).toEqual([201, 201, 422]);

    const metrics = await eventually(
      () => call(api, 'GET', '/metrics'),
      (r) => /^countersign_pending_approvals 1$/m.test(r.text),
    );

    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(metrics.text).toMatch(/^countersign_action_requests_total\{action="customers.read",outcome="allow"\} 1$/m);
    expect(metrics.text).toMatch(
      /^countersign_action_requests_total\{action="email.send_external",outcome="require_approval"\} 1$/m,
    );
    expect(metrics.text).toMatch(
      /^countersign_action_requests_total\{action="customers.read",outcome="invalid_params"\} 1$/m,
    );
    expect(metrics.text).toMatch(/^countersign_policy_decision_seconds_count\{effect="allow"\} 1$/m);
    expect(metrics.text).toMatch(
      /^countersign_http_requests_total\{method="POST",route="\/v1\/action-requests",status="201"\} 2$/m,
    );
    expect(metrics.text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(metrics.text).not.toContain('cus_1');

    await call(api, 'POST', `/v1/action-requests/${pending.json.id}/cancel`, { token: operatorToken(h, 'erin') });
    const after = await eventually(
      () => call(api, 'GET', '/metrics'),
      (r) => /^countersign_pending_approvals 0$/m.test(r.text),
    );
    expect(after.status).toBe(200);
  });

  it('when Slack posts to /slack/events, then its handler gets the raw body before any parser', async () => {
    const payload = JSON.stringify({ type: 'url_verification', challenge: 'abc' });

    const res = await call(api, 'POST', '/slack/events', {
      raw: payload,
      headers: { 'content-type': 'application/json' },
    });

    expect(res.status).toBe(200);
    expect(res.json).toEqual({ bodyWasParsed: false, length: payload.length });
    expect(slackBodies).toEqual([payload]);
  });
});
