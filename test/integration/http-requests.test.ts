// Requests over HTTP end to end: every path reaches its terminal state and the loopback target sees exactly one call
// per allowed or approved request, none otherwise; agents see only their own requests.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTHER_AGENT_KEY, TEST_AGENT_KEY, testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import {
  TEMPORAL_UI_URL,
  call,
  eventually,
  operatorToken,
  startApi,
  type ActionRequestResource,
  type Api,
  type Problem,
  type RequestList,
} from './http-support';

const BILLING_TOKEN = 'tok_http_requests_secret_91c2';

const smallRefund = {
  action: 'payments.refund',
  params: { paymentId: 'pay_small0001', amount: 25, currency: 'USD' },
  reason: 'duplicate charge',
};
const largeRefund = {
  action: 'payments.refund',
  params: { paymentId: 'pay_large0001', amount: 5000, currency: 'EUR' },
  reason: 'contract ended',
};
const email = {
  action: 'email.send_external',
  params: { to: 'customer-5c1d@example.org', subject: 'Refund subj-7f3a91' },
  reason: 'tell the customer',
};
const productionDelete = {
  action: 'customers.delete',
  params: { customerId: 'cus_42' },
  reason: 'customer asked to be forgotten',
  target: { system: 'billing', environment: 'production' },
};

describe('HTTP API: request lifecycle', () => {
  let target: TargetServer;
  let h: Harness;
  let api: Api;

  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = BILLING_TOKEN;
    target = await startTargetServer();
    h = await startHarness({ config: testConfig({ targetHost: target.host }), identity: {} });
    api = await startApi(h);
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
    await target?.close();
  });

  const submit = (body: unknown, query = '') =>
    call<ActionRequestResource>(api, 'POST', `/v1/action-requests${query}`, {
      token: TEST_AGENT_KEY,
      body,
      headers: { 'idempotency-key': randomUUID() },
    });
  const decide = (id: string, decision: 'approve' | 'reject', approver: string, reason?: string) =>
    call<ActionRequestResource>(api, 'POST', `/v1/action-requests/${id}/decisions`, {
      token: operatorToken(h, approver),
      body: { decision, approver, ...(reason ? { reason } : {}) },
    });

  it('when an allowed request is submitted with wait, then it answers succeeded after exactly one downstream call', async () => {
    const res = await submit(smallRefund, '?wait=20');

    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v1/action-requests/${res.json.id}`);
    expect(res.json).toMatchObject({
      status: 'succeeded',
      action: 'payments.refund',
      agent: 'support-bot',
      decision: { effect: 'allow', evaluatedEffect: 'allow', mode: 'enforce', rules: ['small-refunds'], approvals: [] },
      outcome: { ok: true, status: 200 },
      links: {
        self: `/v1/action-requests/${res.json.id}`,
        cancel: `/v1/action-requests/${res.json.id}/cancel`,
        temporalUi: `${TEMPORAL_UI_URL}/namespaces/default/workflows/${res.json.id}`,
      },
    });
    expect(res.json.decision.policyVersion).toMatch(/^p-/);
    expect(res.json.paramsHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(res.json).not.toHaveProperty('params');
    // The outcome summarises the target's answer, which echoes its path; everything Countersign itself says omits params.
    expect(JSON.stringify({ ...res.json, outcome: undefined, timeline: undefined })).not.toContain('pay_small0001');
    expect(res.text).not.toContain(BILLING_TOKEN);
    expect(target.callsFor(res.json.id)).toHaveLength(1);
    expect(target.callsFor(res.json.id)[0]?.path).toBe('/v1/payments/pay_small0001/refunds');
  });

  it('when two distinct finance approvers approve through the decisions endpoint, then it executes exactly once', async () => {
    const submitted = await submit(largeRefund);
    expect(submitted.status).toBe(201);
    expect(submitted.json).toMatchObject({
      status: 'pending_approval',
      decision: {
        effect: 'require_approval',
        rules: ['large-refunds'],
        approvals: [{ group: 'finance', quorum: 2, approvedBy: [] }],
      },
    });
    expect(Date.parse(submitted.json.expiresAt ?? '')).toBeGreaterThan(Date.now());
    const id = submitted.json.id;

    const first = await decide(id, 'approve', 'alice');
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      status: 'pending_approval',
      decision: { approvals: [{ approvedBy: ['alice'] }] },
    });
    expect(target.callsFor(id)).toHaveLength(0);

    const duplicate = await decide(id, 'approve', 'alice');
    expect(duplicate.status).toBe(409);
    expect(duplicate.json).toMatchObject({
      code: 'decision_refused',
      errors: [{ path: 'approver', message: 'duplicate' }],
    });

    const second = await decide(id, 'approve', 'bob');
    expect(second.status).toBe(200);

    const done = await call<ActionRequestResource>(api, 'GET', `/v1/action-requests/${id}?wait=20`, {
      token: TEST_AGENT_KEY,
    });
    expect(done.json).toMatchObject({
      status: 'succeeded',
      decision: { approvals: [{ approvedBy: ['alice', 'bob'], satisfied: true }] },
    });
    expect(target.callsFor(id)).toHaveLength(1);

    const late = await decide(id, 'approve', 'carol');
    expect(late.status).toBe(409);
    expect(target.callsFor(id)).toHaveLength(1);
  });

  it('when policy denies a request, then it is recorded as denied with the reason and nothing is called', async () => {
    const res = await submit(productionDelete);

    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      status: 'denied',
      decision: { effect: 'deny', rules: ['no-production-deletes'], reason: 'Agents may not delete production data.' },
    });
    const final = await call<ActionRequestResource>(api, 'GET', `/v1/action-requests/${res.json.id}?wait=10`, {
      token: TEST_AGENT_KEY,
    });
    expect(final.json.status).toBe('denied');
    expect(target.callsFor(res.json.id)).toHaveLength(0);
  });

  it('when a finance approver rejects, then the request is rejected and nothing is called', async () => {
    const { json } = await submit(largeRefund);

    const rejected = await decide(json.id, 'reject', 'bob', 'not covered by the contract');

    expect(rejected.status).toBe(200);
    expect(rejected.json.status).toBe('rejected');
    const final = await call<ActionRequestResource>(api, 'GET', `/v1/action-requests/${json.id}?wait=10`, {
      token: TEST_AGENT_KEY,
    });
    expect(final.json.status).toBe('rejected');
    expect(target.callsFor(json.id)).toHaveLength(0);
  });

  it('when the agent cancels its pending request, then it ends cancelled, nothing is called and a second cancel conflicts', async () => {
    const { json } = await submit(email);
    expect(json.status).toBe('pending_approval');

    const cancelled = await call<ActionRequestResource>(api, 'POST', `/v1/action-requests/${json.id}/cancel`, {
      token: TEST_AGENT_KEY,
      body: { reason: 'customer already answered' },
    });

    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({
      status: 'cancelled',
      cancellation: { by: 'agent:support-bot', reason: 'customer already answered' },
    });
    const again = await call<ActionRequestResource>(api, 'POST', `/v1/action-requests/${json.id}/cancel`, {
      token: TEST_AGENT_KEY,
    });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ code: 'conflict' });
    const approveAfter = await decide(json.id, 'approve', 'dana');
    expect(approveAfter.status).toBe(409);
    expect(target.callsFor(json.id)).toHaveLength(0);
  });

  it('when another agent asks for or cancels a request, then it gets 404, the same as for an id that does not exist', async () => {
    const { json } = await submit(email);

    const seen = await call<ActionRequestResource>(api, 'GET', `/v1/action-requests/${json.id}`, {
      token: OTHER_AGENT_KEY,
    });
    const cancel = await call<ActionRequestResource>(api, 'POST', `/v1/action-requests/${json.id}/cancel`, {
      token: OTHER_AGENT_KEY,
    });
    const absent = await call<Problem>(api, 'GET', `/v1/action-requests/req_${'0'.repeat(32)}`, {
      token: OTHER_AGENT_KEY,
    });

    for (const res of [seen, cancel, absent]) {
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.json).toMatchObject({ code: 'not_found', detail: 'no such request' });
    }
    const still = await call<ActionRequestResource>(api, 'GET', `/v1/action-requests/${json.id}`, {
      token: TEST_AGENT_KEY,
    });
    expect(still.json.status).toBe('pending_approval');
    await call<ActionRequestResource>(api, 'POST', `/v1/action-requests/${json.id}/cancel`, {
      token: operatorToken(h, 'erin'),
    });
  });

  it('when agents and the operator list requests, then agents see their own and the operator sees all, filterable', async () => {
    const mine = await submit(email);
    const theirs = await call<ActionRequestResource>(api, 'POST', '/v1/action-requests', {
      token: OTHER_AGENT_KEY,
      body: { action: 'customers.read', params: { customerId: 'cus_7' }, reason: 'lookup' },
    });
    expect(theirs.status).toBe(201);

    const all = await eventually(
      () => call<RequestList>(api, 'GET', '/v1/action-requests?limit=500', { token: operatorToken(h, 'erin') }),
      (r) => [mine.json.id, theirs.json.id].every((id) => r.json.items.some((i) => i.id === id)),
    );
    expect(new Set(all.json.items.map((i) => i.agent))).toEqual(new Set(['support-bot', 'other-bot']));

    const otherOwn = await call<RequestList>(api, 'GET', '/v1/action-requests', { token: OTHER_AGENT_KEY });
    expect(otherOwn.json.items.map((i) => i.id)).toContain(theirs.json.id);
    expect(otherOwn.json.items.every((i) => i.agent === 'other-bot')).toBe(true);
    const otherSneaky = await call<RequestList>(api, 'GET', '/v1/action-requests?agent=support-bot', {
      token: OTHER_AGENT_KEY,
    });
    expect(otherSneaky.json.items.every((i) => i.agent === 'other-bot')).toBe(true);

    const byAgent = await call<RequestList>(api, 'GET', '/v1/action-requests?agent=other-bot', {
      token: operatorToken(h, 'erin'),
    });
    expect(byAgent.json.items.length).toBeGreaterThan(0);
    expect(byAgent.json.items.every((i) => i.agent === 'other-bot')).toBe(true);

    const pending = await eventually(
      () => call<RequestList>(api, 'GET', '/v1/action-requests?status=pending_approval', { token: TEST_AGENT_KEY }),
      (r) => r.json.items.some((i) => i.id === mine.json.id),
    );
    expect(pending.json.items.every((i) => i.status === 'pending_approval')).toBe(true);
    expect(pending.json.items.find((i) => i.id === mine.json.id)).toMatchObject({
      action: 'email.send_external',
      agent: 'support-bot',
      risk: 'medium',
      links: { self: `/v1/action-requests/${mine.json.id}` },
    });
    await call<ActionRequestResource>(api, 'POST', `/v1/action-requests/${mine.json.id}/cancel`, {
      token: TEST_AGENT_KEY,
    });
  });

  it('when requests went through the API, then no log line holds a credential or a parameter value', () => {
    const logs = h.logLines.join('\n');
    expect(logs).toContain('email.send_external');
    // Email params travel in the downstream body, which the target does not echo, so any trace of them would be ours.
    for (const secret of [
      BILLING_TOKEN,
      TEST_AGENT_KEY,
      OTHER_AGENT_KEY,
      ...Object.values(h.identity?.operatorTokens ?? {}),
      'customer-5c1d',
      'subj-7f3a91',
    ]) {
      expect(logs).not.toContain(secret);
    }
  });
});

describe('HTTP API: expiry', () => {
  let target: TargetServer;
  let h: Harness;
  let api: Api;

  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = BILLING_TOKEN;
    target = await startTargetServer();
    h = await startHarness({
      config: testConfig({ targetHost: target.host, expireAfter: '2s' }),
      identity: {},
    });
    api = await startApi(h);
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
    await target?.close();
  });

  it('when nobody decides before expireAfter, then a long poll returns expired and nothing is called', async () => {
    const submitted = await call<ActionRequestResource>(api, 'POST', '/v1/action-requests', {
      token: TEST_AGENT_KEY,
      body: largeRefund,
    });
    expect(submitted.json.status).toBe('pending_approval');

    const final = await call<ActionRequestResource>(api, 'GET', `/v1/action-requests/${submitted.json.id}?wait=20`, {
      token: TEST_AGENT_KEY,
    });

    expect(final.json.status).toBe('expired');
    expect(final.json).not.toHaveProperty('expiresAt');
    const late = await call<ActionRequestResource>(api, 'POST', `/v1/action-requests/${submitted.json.id}/decisions`, {
      token: operatorToken(h, 'alice'),
      body: { decision: 'approve', approver: 'alice' },
    });
    expect(late.status).toBe(409);
    expect(target.callsFor(submitted.json.id)).toHaveLength(0);
  });
});
