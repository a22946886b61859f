// Completion webhooks end to end on the real Temporal server: every request that names a callback gets exactly one
// signed event per status it reaches (pending_approval, then its terminal one), verified with the client package's
// helper; a failing receiver gets the same event again after a retry while the request has long reached its end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentialResolver } from '../../activities/connectors';
import type { WebhookEvent } from '../../src/contracts/types';
import { verifyWebhook } from '../../packages/client/src/webhooks';
import { testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { call, eventually, startApi, workflowExistsFor, type Api, type Problem } from '../integration/http-support';
import { TEST_AGENT_KEY } from '../support/config';
import { agentOf, email, finalState, OPERATOR, refund, submit } from '../workflows/helpers';
import { startReceiver, type Receiver } from './receiver';

const SECRET = `whsec_${Buffer.from('countersign-webhook-test-secret-0123456789').toString('base64')}`;
const OTHER_SECRET = `whsec_${Buffer.from('another-agent-webhook-secret-abcdefghij').toString('base64')}`;
const BILLING_TOKEN = 'tok_webhook_billing_4d1a';

describe('completion webhooks', () => {
  let receiver: Receiver;
  let target: TargetServer;
  let h: Harness;
  let api: Api;

  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = BILLING_TOKEN;
    receiver = await startReceiver();
    target = await startTargetServer();
    const config = testConfig({
      targetHost: target.host,
      expireAfter: '8s',
      extraYaml: `
webhooks:
  secret: { secret: webhook-signing }
  agentSecrets: { other-bot: { secret: other-webhook-signing } }
  allowedHosts: ['${receiver.host}']
  firstRetryAfter: 1s
  timeout: 2s
`,
    });
    const fallback = createCredentialResolver();
    const vault: Record<string, string> = { 'webhook-signing': SECRET, 'other-webhook-signing': OTHER_SECRET };
    h = await startHarness({
      config,
      credentials: {
        resolve: (ref, requestId) =>
          'secret' in ref && vault[ref.secret] ? Promise.resolve(vault[ref.secret]!) : fallback.resolve(ref, requestId),
      },
    });
    api = await startApi(h);
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
    await receiver?.close();
    await target?.close();
  });

  /** The events a hook received, each verified with the agent's secret. */
  const verifiedEvents = async (name: string, secret = SECRET) =>
    Promise.all(
      receiver.deliveriesTo(name).map(async (d) => ({
        id: String(d.headers['webhook-id']),
        event: await verifyWebhook<WebhookEvent>(secret, d.headers, d.body),
      })),
    );
  const eventTypes = async (name: string, count: number) => {
    await eventually(
      () => Promise.resolve(receiver.deliveriesTo(name).length),
      (n) => n >= count,
      30_000,
    );
    return (await verifiedEvents(name)).map((e) => e.event.type);
  };
  /** The verified event of one type a hook received (events are independent deliveries: any order). */
  const eventOf = async (name: string, type: string) =>
    (await verifiedEvents(name)).find((e) => e.event.type === type)?.event;
  /**
   * Waits for the expected events, then for each delivery to have finished: no second delivery arrives. Deliveries
   * are independent, so a terminal event may land before the pending_approval one (receivers are told so).
   */
  const onlyEvents = async (name: string, requestId: string, expected: string[]) => {
    expect([...(await eventTypes(name, expected.length))].sort()).toEqual([...expected].sort());
    await Promise.all(
      expected.map((type) =>
        h.client.workflow.getHandle(`${requestId}-webhook-${type.slice('request.'.length)}`).result(),
      ),
    );
    expect(receiver.deliveriesTo(name)).toHaveLength(expected.length);
  };

  it('when an allowed request succeeds, then its hook gets one signed request.succeeded with the outcome', async () => {
    const { state } = await submit(h, refund(20, { callbackUrl: receiver.urlFor('allowed') }), 'wh-allowed');
    const final = await finalState(h, state.requestId);
    expect(final.status).toBe('succeeded');
    await onlyEvents('allowed', state.requestId, ['request.succeeded']);
    const [{ id, event }] = (await verifiedEvents('allowed')) as [{ id: string; event: WebhookEvent }];
    expect(id).toBe(`msg_${state.requestId.slice(4)}_succeeded`);
    expect(event.data).toMatchObject({
      requestId: state.requestId,
      status: 'succeeded',
      action: 'payments.refund',
      agent: 'support-bot',
      outcome: { ok: true, status: final.outcome?.status, summary: final.outcome?.summary },
    });
    // No parameter reaches a receiver, secret or not (the outcome is the connector's secret-free summary).
    expect(Object.keys(event.data)).not.toContain('params');
    expect(receiver.deliveriesTo('allowed')[0]?.body).not.toContain('"currency"');
    expect(h.logLines.join('')).not.toContain(SECRET.slice('whsec_'.length));
  });

  it('when a request needs approval and is approved, then its hook gets request.pending_approval, then request.succeeded', async () => {
    const { state } = await submit(h, refund(5000, { callbackUrl: receiver.urlFor('approved') }), 'wh-approved');
    expect(await eventTypes('approved', 1)).toEqual(['request.pending_approval']);
    await h.service.decide(state.requestId, { decision: 'approve', approver: 'alice' });
    await h.service.decide(state.requestId, { decision: 'approve', approver: 'bob' });
    expect((await finalState(h, state.requestId)).status).toBe('succeeded');
    await onlyEvents('approved', state.requestId, ['request.pending_approval', 'request.succeeded']);
    const events = await verifiedEvents('approved');
    expect(events[0]?.event.data.waitingFor).toEqual([{ group: 'finance', quorum: 2, approvedBy: [] }]);
    expect(events[1]?.event.data.approvedBy).toEqual(['alice', 'bob']);
  });

  it('when a request is rejected, then its hook gets request.rejected with who and why', async () => {
    const { state } = await submit(h, refund(2500, { callbackUrl: receiver.urlFor('rejected') }), 'wh-rejected');
    await h.service.decide(state.requestId, { decision: 'reject', approver: 'bob', reason: 'already refunded' });
    expect((await finalState(h, state.requestId)).status).toBe('rejected');
    await onlyEvents('rejected', state.requestId, ['request.pending_approval', 'request.rejected']);
    expect((await eventOf('rejected', 'request.rejected'))?.data.rejection).toEqual({
      by: 'bob',
      reason: 'already refunded',
    });
  });

  it('when a request expires, then its hook gets request.expired', async () => {
    const { state } = await submit(h, email({ callbackUrl: receiver.urlFor('expired') }), 'wh-expired');
    expect((await finalState(h, state.requestId)).status).toBe('expired');
    await onlyEvents('expired', state.requestId, ['request.pending_approval', 'request.expired']);
  });

  it('when a request is cancelled, then its hook gets request.cancelled naming who cancelled', async () => {
    const { state } = await submit(h, refund(3000, { callbackUrl: receiver.urlFor('cancelled') }), 'wh-cancelled');
    await h.service.cancel(OPERATOR, state.requestId, 'withdrawn');
    expect((await finalState(h, state.requestId)).status).toBe('cancelled');
    await onlyEvents('cancelled', state.requestId, ['request.pending_approval', 'request.cancelled']);
    expect((await eventOf('cancelled', 'request.cancelled'))?.data.cancellation).toEqual({
      by: 'operator:ops',
      reason: 'withdrawn',
    });
  });

  it('when a request is denied, then its hook gets request.denied with the reason', async () => {
    const body = {
      action: 'customers.delete',
      params: { customerId: 'cus_wh01' },
      reason: 'cleanup',
      target: { environment: 'production' },
      callbackUrl: receiver.urlFor('denied'),
    };
    const { state } = await submit(h, body, 'wh-denied');
    expect((await finalState(h, state.requestId)).status).toBe('denied');
    await onlyEvents('denied', state.requestId, ['request.denied']);
    expect((await verifiedEvents('denied'))[0]?.event.data.decision.reason).toBe(
      'Agents may not delete production data.',
    );
  });

  it('when the receiver fails at first, then the request still ends at once and the event arrives on a retry with the same id', async () => {
    receiver.failing.add('flaky');
    const retryingBefore = await counter('retrying');
    const { state } = await submit(h, refund(30, { callbackUrl: receiver.urlFor('flaky') }), 'wh-flaky');
    // The request closes while its receiver still refuses: the delivery holds nothing up.
    expect((await finalState(h, state.requestId)).status).toBe('succeeded');
    const got = await h.service.get(OPERATOR, state.requestId);
    expect(got.status).toBe('succeeded');
    await eventually(
      () => Promise.resolve(receiver.deliveriesTo('flaky').length),
      (n) => n >= 1,
      20_000,
    );
    expect(receiver.deliveriesTo('flaky').every((d) => d.answered === 500)).toBe(true);
    receiver.failing.delete('flaky');
    const result: unknown = await h.client.workflow.getHandle(`${state.requestId}-webhook-succeeded`).result();
    expect(result).toMatchObject({ delivered: true, status: 204 });
    const deliveries = receiver.deliveriesTo('flaky');
    expect(deliveries.length).toBeGreaterThanOrEqual(2);
    expect(deliveries.at(-1)?.answered).toBe(204);
    expect(new Set(deliveries.map((d) => d.headers['webhook-id']))).toEqual(
      new Set([`msg_${state.requestId.slice(4)}_succeeded`]),
    );
    // Every attempt is signed afresh (its own timestamp) and verifies.
    for (const d of deliveries) await expect(verifyWebhook(SECRET, d.headers, d.body)).resolves.toBeDefined();
    expect(await counter('retrying')).toBeGreaterThan(retryingBefore);
    expect(await counter('delivered')).toBeGreaterThan(0);
  });

  it('when another agent names a callback, then its events are signed with its own secret, not the default one', async () => {
    const other = await agentOf(h, 'other-bot');
    const { state } = await h.service.submit(
      other,
      {
        action: 'customers.read',
        params: { customerId: 'cus_wh02' },
        reason: 'look up',
        callbackUrl: receiver.urlFor('other'),
      },
      'wh-other',
    );
    expect((await finalState(h, state.requestId)).status).toBe('succeeded');
    await eventually(
      () => Promise.resolve(receiver.deliveriesTo('other').length),
      (n) => n >= 1,
      20_000,
    );
    const [d] = receiver.deliveriesTo('other');
    await expect(verifyWebhook(OTHER_SECRET, d!.headers, d!.body)).resolves.toMatchObject({
      data: { agent: 'other-bot' },
    });
    await expect(verifyWebhook(SECRET, d!.headers, d!.body)).rejects.toThrow(/signature/);
  });

  it.each([
    ['http://hooks.example.com/cs', /https/],
    ['https://10.1.2.3/hook', /private/],
    ['https://[::1]/hook', /private/],
    ['https://localhost/hook', /private/],
    ['https://user:pw@hooks.example.com/cs', /credentials/],
    ['ftp://hooks.example.com/cs', /https/],
    ['not a url', /absolute URL/],
  ])(
    'when the callback URL is %s, then submit answers 422 problem+json naming callbackUrl and starts nothing',
    async (url, why) => {
      const key = `wh-bad-${Buffer.from(url).toString('hex').slice(0, 24)}`;
      const res = await call<Problem>(api, 'POST', '/v1/action-requests', {
        token: TEST_AGENT_KEY,
        headers: { 'idempotency-key': key },
        body: refund(20, { callbackUrl: url }),
      });
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.json.code).toBe('validation_failed');
      expect(res.json.errors).toEqual([{ path: 'callbackUrl', message: expect.stringMatching(why) as string }]);
      expect(await workflowExistsFor(h, 'support-bot', key)).toBe(false);
    },
  );

  async function counter(outcome: string): Promise<number> {
    const text = await h.metrics.text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`countersign_webhook_deliveries_total{outcome="${outcome}"}`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  }
});
