// The TypeScript client (packages/client) against a running Countersign: real API, registry, Temporal and workers.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountersignError, createCountersignClient } from '../../packages/client/src/index';
import { testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { operatorToken, startApi, workflowCount, type Api } from '../integration/http-support';
import { registerAgent, type RegisteredClient } from '../integration/identity-support';

const BILLING_TOKEN = 'tok_client_secret_91aa';

describe('TypeScript client', () => {
  let target: TargetServer;
  let h: Harness;
  let api: Api;
  let agent: RegisteredClient;

  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = BILLING_TOKEN;
    target = await startTargetServer();
    h = await startHarness({ config: testConfig({ targetHost: target.host }), identity: {} });
    api = await startApi(h);
    agent = await registerAgent(api, operatorToken(h, 'erin'), {
      id: 'client-bot',
      owner: 'carol',
      allowedActions: ['payments.refund', 'email.send_external', 'customers.read'],
    });
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
    await target?.close();
  });

  /** A client whose fetch records every call it makes. */
  const recordingClient = (extra: { now?: () => number } = {}) => {
    const calls: { url: string; headers: Headers }[] = [];
    const client = createCountersignClient({
      baseUrl: api.url,
      clientId: agent.clientId,
      clientSecret: agent.clientSecret,
      fetch: (input, init) => {
        calls.push({
          url: input instanceof Request ? input.url : input.toString(),
          headers: new Headers(init?.headers),
        });
        return fetch(input, init);
      },
      ...extra,
    });
    return { client, calls };
  };

  it('when an allowed request is submitted and waited for, then it succeeds once, with an Idempotency-Key sent by default', async () => {
    const { client, calls } = recordingClient();
    const submitted = await client.submit({
      action: 'payments.refund',
      params: { paymentId: 'pay_client1', amount: 10, currency: 'USD' },
      reason: 'duplicate',
    });
    const done = await client.wait(submitted.id, { timeoutMs: 30_000 });
    expect(done.status).toBe('succeeded');
    expect(done.outcome?.ok).toBe(true);
    expect(target.callsFor(submitted.id)).toHaveLength(1);
    const submit = calls.find((c) => c.url.endsWith('/v1/action-requests'));
    expect(submit?.headers.get('idempotency-key')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('when the same idempotency key is submitted twice, then the same request comes back and one workflow exists', async () => {
    const { client } = recordingClient();
    const before = await workflowCount(h, 'client-bot');
    const key = `client-${randomUUID()}`;
    const input = {
      action: 'payments.refund',
      params: { paymentId: 'pay_client2', amount: 11, currency: 'USD' },
      reason: 'duplicate',
    };
    const first = await client.submit(input, { idempotencyKey: key });
    const again = await client.submit(input, { idempotencyKey: key });
    expect(again.id).toBe(first.id);
    expect(await workflowCount(h, 'client-bot')).toBe(before + 1);
  });

  it('when the access token nears its expiry, then the client fetches a new one before the next call', async () => {
    let clock = Date.now();
    const { client, calls } = recordingClient({ now: () => clock });
    const tokenCalls = () => calls.filter((c) => c.url.endsWith('/oauth/token')).length;
    const pending = await client.submit({
      action: 'email.send_external',
      params: { to: 'pat@example.com', subject: 'Hello' },
      reason: 'asked',
    });
    await client.get(pending.id);
    expect(tokenCalls()).toBe(1);
    clock += 10 * 60_000; // the test harness issues 10-minute tokens
    await client.get(pending.id);
    expect(tokenCalls()).toBe(2);
    const cancelled = await client.cancel(pending.id, 'not needed');
    expect(cancelled.status).toBe('cancelled');
  });

  it('when the API refuses a call, then a CountersignError carries the problem’s stable code and fields', async () => {
    const { client } = recordingClient();
    const unknown = await client
      .submit({ action: 'payments.refund', params: { paymentId: 'nope', amount: -1, currency: 'GBP' }, reason: 'x' })
      .catch((err: unknown) => err);
    expect(unknown).toBeInstanceOf(CountersignError);
    const e = unknown as CountersignError;
    expect(e.status).toBe(422);
    expect(e.code).toBe('invalid_params');
    expect(e.problem?.errors.map((i) => i.path)).toEqual(expect.arrayContaining(['params.amount', 'params.currency']));

    const missing = await client.get('req_00000000000000000000000000000000').catch((err: unknown) => err);
    expect(missing).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('when the client secret is wrong, then the token endpoint’s refusal is an oauth_error', async () => {
    const client = createCountersignClient({ baseUrl: api.url, clientId: agent.clientId, clientSecret: 'wrong' });
    await expect(client.get('req_00000000000000000000000000000000')).rejects.toMatchObject({
      code: 'oauth_error',
      status: 401,
    });
  });

  it('when the agent lists its actions, then it gets those its token grants, with their parameter schemas', async () => {
    const { client } = recordingClient();
    const actions = await client.actions();
    expect(actions.map((a) => a.name).sort()).toEqual(['customers.read', 'email.send_external', 'payments.refund']);
    expect(actions.find((a) => a.name === 'payments.refund')).toMatchObject({
      risk: 'high',
      params: { required: ['paymentId', 'amount', 'currency'] },
    });
  });
});
