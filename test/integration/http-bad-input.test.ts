// The bad-input table of issue 2 §3, case by case: each answer is problem+json naming the field, and none of them
// starts a workflow or reaches the target.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTHER_AGENT_KEY, TEST_AGENT_KEY, testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import {
  call,
  eventually,
  operatorToken,
  startApi,
  workflowCount,
  workflowExistsFor,
  type ActionRequestResource,
  type Api,
  type CallOptions,
  type CallResult,
  type Problem,
} from './http-support';

const refund = {
  action: 'payments.refund',
  params: { paymentId: 'pay_input0001', amount: 40, currency: 'USD' },
  reason: 'refund',
};

describe('HTTP API: bad input', () => {
  let target: TargetServer;
  let h: Harness;
  let api: Api;
  /** Idempotency keys of every refused submit, checked for workflows at the end. */
  const refusedKeys: { agent: string; key: string }[] = [];
  let workflowsBefore = 0;

  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_bad_input_secret_3e8a';
    target = await startTargetServer();
    h = await startHarness({ config: testConfig({ targetHost: target.host }), identity: {} });
    api = await startApi(h);
    workflowsBefore = await workflowCount(h, 'support-bot');
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
    await target?.close();
  });

  /** A submit expected to be refused; its key is remembered so the suite can prove no workflow exists for it. */
  async function refusedSubmit(options: CallOptions & { agent?: string }, query = ''): Promise<CallResult> {
    const key = randomUUID();
    refusedKeys.push({ agent: options.agent ?? 'support-bot', key });
    return call(api, 'POST', `/v1/action-requests${query}`, {
      ...options,
      headers: { 'idempotency-key': key, ...options.headers },
    });
  }

  function expectProblem(res: CallResult, status: number, code: string, paths: string[] = []): void {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = res.json as Problem;
    expect(problem).toMatchObject({ type: `urn:countersign:problem:${code}`, status, code });
    expect(problem.title.length).toBeGreaterThan(0);
    expect(problem.detail.length).toBeGreaterThan(0);
    expect(problem.instance).toMatch(/^\/v1\//);
    const { errors } = problem;
    expect(errors.map((e) => e.path).sort()).toEqual([...paths].sort());
    for (const e of errors) expect(e.message).toEqual(expect.any(String));
  }

  it('when the body is not valid JSON, then 400 malformed_json at path body, without echoing the body', async () => {
    const res = await refusedSubmit({
      token: TEST_AGENT_KEY,
      raw: '{"action": "payments.refund", "params": {"card": "4111-secret',
    });

    expectProblem(res, 400, 'malformed_json', ['body']);
    expect(res.text).not.toContain('4111-secret');
    expect(h.logLines.join('\n')).not.toContain('4111-secret');
  });

  it('when the body is over 64 KiB, then 413', async () => {
    const res = await refusedSubmit({ token: TEST_AGENT_KEY, body: { ...refund, reason: 'x'.repeat(65 * 1024) } });

    expectProblem(res, 413, 'payload_too_large', ['body']);
  });

  it('when the body is not JSON, then 415 naming Content-Type', async () => {
    const res = await refusedSubmit({
      token: TEST_AGENT_KEY,
      raw: 'action=payments.refund',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

    expectProblem(res, 415, 'unsupported_media_type', ['Content-Type']);
  });

  it('when the key is missing or unknown, then 401 with WWW-Authenticate', async () => {
    const missing = await refusedSubmit({ body: refund });
    const unknown = await refusedSubmit({ token: 'cs_not_a_real_key', body: refund });
    const notBearer = await refusedSubmit({ headers: { authorization: `Basic ${TEST_AGENT_KEY}` }, body: refund });

    for (const res of [missing, unknown, notBearer]) {
      expectProblem(res, 401, 'unauthorized', ['Authorization']);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="countersign"');
    }
    expect(unknown.text).not.toContain('cs_not_a_real_key');
  });

  it('when the agent may not request the action, then 403 naming action', async () => {
    const res = await refusedSubmit({ agent: 'other-bot', token: OTHER_AGENT_KEY, body: refund });

    expectProblem(res, 403, 'forbidden', ['action']);
  });

  it('when the action is not in the catalog, then 422 unknown_action naming action', async () => {
    const res = await refusedSubmit({ token: TEST_AGENT_KEY, body: { ...refund, action: 'payments.teleport' } });

    expectProblem(res, 422, 'unknown_action', ['action']);
  });

  it('when the params fail the action schema, then 422 invalid_params with every issue and its path', async () => {
    const res = await refusedSubmit({
      token: TEST_AGENT_KEY,
      body: { ...refund, params: { paymentId: 'nope', amount: -5, currency: 'GBP', note: 'extra' } },
    });

    expectProblem(res, 422, 'invalid_params', ['params.amount', 'params.currency', 'params.note', 'params.paymentId']);
    expect(res.text).not.toContain('nope');
  });

  it('when a required param is missing, then its path is named', async () => {
    const res = await refusedSubmit({
      token: TEST_AGENT_KEY,
      body: { ...refund, params: { paymentId: 'pay_input0002', currency: 'USD' } },
    });

    expectProblem(res, 422, 'invalid_params', ['params.amount']);
  });

  it('when the envelope is wrong, then 422 validation_failed naming each field', async () => {
    const res = await refusedSubmit({
      token: TEST_AGENT_KEY,
      body: { action: 'payments.refund', params: [], target: { environment: 5 }, surprise: true },
    });

    expectProblem(res, 422, 'validation_failed', ['params', 'reason', 'surprise', 'target.environment']);
  });

  it('when wait is above 30 seconds or the Idempotency-Key is unusable, then 400 naming it', async () => {
    const wait = await refusedSubmit({ token: TEST_AGENT_KEY, body: refund }, '?wait=31');
    const badKey = await call(api, 'POST', '/v1/action-requests', {
      token: TEST_AGENT_KEY,
      body: refund,
      headers: { 'idempotency-key': 'has spaces in it' },
    });

    expectProblem(wait, 400, 'bad_request', ['wait']);
    expectProblem(badKey, 400, 'bad_request', ['Idempotency-Key']);
  });

  it('when an operator submits or an agent records a decision, then 403', async () => {
    const operatorSubmit = await refusedSubmit({ token: operatorToken(h, 'erin'), body: refund });
    const agentDecision = await call(api, 'POST', `/v1/action-requests/req_${'a'.repeat(32)}/decisions`, {
      token: TEST_AGENT_KEY,
      body: { decision: 'approve', approver: 'alice' },
    });

    expectProblem(operatorSubmit, 403, 'forbidden');
    expectProblem(agentDecision, 403, 'forbidden');
  });

  it('when the route or the request does not exist, then 404 problem', async () => {
    const route = await call(api, 'GET', '/v1/nothing-here', { token: TEST_AGENT_KEY });
    const topLevel = await call(api, 'GET', '/nothing-here');
    const id = await call(api, 'GET', '/v1/action-requests/not-a-request-id', { token: TEST_AGENT_KEY });

    expectProblem(route, 404, 'not_found');
    expect(topLevel.status).toBe(404);
    expect(topLevel.json).toMatchObject({ code: 'not_found', instance: '/nothing-here' });
    expectProblem(id, 404, 'not_found');
  });

  it('when none of the refused submits started anything, then no workflow exists for their keys and the target saw nothing', async () => {
    expect(refusedKeys.length).toBeGreaterThanOrEqual(12);
    for (const { agent, key } of refusedKeys) expect(await workflowExistsFor(h, agent, key)).toBe(false);
    expect(target.calls).toHaveLength(0);
    expect(await workflowCount(h, 'support-bot')).toBe(workflowsBefore);
  });

  it('when the same Idempotency-Key comes back with the same body, then 200 with the same request and one workflow', async () => {
    const key = randomUUID();
    const body = { action: 'email.send_external', params: { to: 'a@example.org', subject: 'hello' }, reason: 'notify' };
    const first = await call<ActionRequestResource>(api, 'POST', '/v1/action-requests', {
      token: TEST_AGENT_KEY,
      body,
      headers: { 'idempotency-key': key },
    });
    // Same content, keys in another order: canonical JSON makes it the same body.
    const reordered = {
      reason: 'notify',
      params: { subject: 'hello', to: 'a@example.org' },
      action: 'email.send_external',
    };
    const replay = await call<ActionRequestResource>(api, 'POST', '/v1/action-requests', {
      token: TEST_AGENT_KEY,
      body: reordered,
      headers: { 'idempotency-key': key },
    });
    const mismatch = await call(api, 'POST', '/v1/action-requests', {
      token: TEST_AGENT_KEY,
      body: { ...body, reason: 'notify, again' },
      headers: { 'idempotency-key': key },
    });

    expect(first.status).toBe(201);
    expect(replay.status).toBe(200);
    expect(replay.headers.get('location')).toBeNull();
    expect(replay.json).toMatchObject({ id: first.json.id, status: 'pending_approval' });
    expectProblem(mismatch, 422, 'idempotency_mismatch', ['Idempotency-Key']);
    const count = await eventually(
      () => workflowCount(h, 'support-bot'),
      (n) => n >= workflowsBefore + 1,
    );
    expect(count).toBe(workflowsBefore + 1);
    const decided = (await h.metrics.actionRequests.get()).values.filter(
      (v) => v.labels.action === 'email.send_external' && v.labels.outcome === 'require_approval',
    );
    expect(decided.map((v) => v.value)).toEqual([1]);

    const cancelled = await call<ActionRequestResource>(api, 'POST', `/v1/action-requests/${first.json.id}/cancel`, {
      token: TEST_AGENT_KEY,
    });
    expect(cancelled.json.status).toBe('cancelled');
    const afterCancel = await call<ActionRequestResource>(api, 'POST', '/v1/action-requests', {
      token: TEST_AGENT_KEY,
      body,
      headers: { 'idempotency-key': key },
    });
    expect(afterCancel.status).toBe(200);
    expect(afterCancel.json).toMatchObject({ id: first.json.id, status: 'cancelled' });
    expect(target.calls).toHaveLength(0);
  });
});
