// Identity in the running pipeline: the registry directory and the kill switch wired into a real Temporal worker.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ActionRequestState } from '../../src/contracts/types';
import type { DatabaseHandle } from '../../src/db/database';
import { createIdentity, type Identity } from '../../src/identity';
import { createLogger } from '../../src/logger';
import type { Caller } from '../../src/requests';
import { startHarness, type Harness } from '../support/harness';
import { testConfig } from '../support/config';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { openTestDatabase } from './databases';

const email = (i: number) => ({
  action: 'email.send_external',
  params: { to: `customer${i}@example.com`, subject: `Ticket ${i}` },
  reason: 'reply to the customer',
});
const largeRefund = (i: number) => ({
  action: 'payments.refund',
  params: { paymentId: `pay_big${String(i).padStart(4, '0')}`, amount: 5000, currency: 'USD' },
  reason: 'duplicate charge',
});

describe('identity enforcement in the pipeline', () => {
  let target: TargetServer;
  let database: DatabaseHandle;
  let identity: Identity;
  let h: Harness;

  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_test_secret_value';
    target = await startTargetServer();
  });
  afterAll(async () => {
    await target?.close();
  });
  beforeEach(async () => {
    const config = testConfig({ targetHost: target.host });
    database = await openTestDatabase('sqlite');
    identity = await createIdentity({
      db: database.db,
      config,
      logger: createLogger({ level: 'silent' }),
      tokenTtlMs: 300_000,
      audience: 'countersign',
      issuer: 'countersign',
      signingKeyRotationMs: 86_400_000,
      secretOverlapMs: 60_000,
      agentCacheMs: 2_000,
      killSwitchCacheMs: 0,
      defaultRateLimit: '600/m',
      allowApiKeys: false,
    });
    h = await startHarness({ config, agents: identity.directory, guard: identity.killSwitches.guard });
  });
  afterEach(async () => {
    await h?.close();
    await database?.close();
  });

  /** The caller an agent becomes by presenting an access token with this scope. */
  async function agentCaller(agentId: string, scope?: string): Promise<Extract<Caller, { kind: 'agent' }>> {
    const { clientSecret } = await identity.credentials.rotate(agentId, 'operator:erin');
    const res = await identity.tokens.tokenEndpoint({
      form: {
        grant_type: 'client_credentials',
        client_id: agentId,
        client_secret: clientSecret,
        ...(scope ? { scope } : {}),
      },
    });
    const caller = await identity.authenticator.authenticate(`Bearer ${String(res.body.access_token)}`);
    if (caller?.kind !== 'agent') throw new Error('expected an agent caller');
    return caller;
  }

  /** What the submit route does before the request service: kill switch, then rate limit. */
  async function gatedSubmit(caller: Extract<Caller, { kind: 'agent' }>, body: ReturnType<typeof email>) {
    await identity.killSwitches.enforce(caller.agent.id, body.action);
    await identity.rateLimiter.enforce(caller.agent.id);
    return h.service.submit(caller.agent, body);
  }

  async function settle(requestId: string): Promise<ActionRequestState> {
    return h.service.get({ kind: 'operator', id: 'erin' }, requestId, 20);
  }

  it('when a token’s scope lacks the action, then submit is refused; another agent’s request id is not found', async () => {
    const narrow = await agentCaller('support-bot', 'customers.read');
    await expect(h.service.submit(narrow.agent, largeRefund(1))).rejects.toMatchObject({ code: 'forbidden' });
    const { state } = await h.service.submit(narrow.agent, {
      action: 'customers.read',
      params: { customerId: 'cus_1234' },
      reason: 'lookup',
    });
    const other = await agentCaller('other-bot');
    await expect(h.service.get(other, state.requestId)).rejects.toMatchObject({ code: 'not_found' });
    expect((await h.service.get(narrow, state.requestId, 20)).status).toBe('succeeded');
  });

  it('when an agent is suspended after its request was approved, then the execution re-check refuses and nothing runs', async () => {
    const caller = await agentCaller('support-bot');
    const { state } = await h.service.submit(caller.agent, largeRefund(2));
    expect(state.status).toBe('pending_approval');
    await identity.registry.suspend('support-bot', 'operator:erin', 'investigation');
    await expect(
      h.service.submit((await identity.directory.get('support-bot'))!, largeRefund(3)),
    ).rejects.toMatchObject({
      code: 'forbidden',
    });
    await h.service.decide(state.requestId, { decision: 'approve', approver: 'alice' });
    await h.service.decide(state.requestId, { decision: 'approve', approver: 'bob' });
    const final = await settle(state.requestId);
    expect(final.status).toBe('failed');
    expect(final.outcome?.summary).toMatch(/not active/);
    expect(target.callsFor(state.requestId)).toHaveLength(0);
  });

  it('when a kill switch is on while an approved request reaches execution, then the re-check refuses it with the reason', async () => {
    const caller = await agentCaller('support-bot');
    const { state } = await h.service.submit(caller.agent, largeRefund(4));
    await identity.killSwitches.engage(
      { agentId: 'support-bot' },
      { reason: 'prompt injection seen', by: 'operator:erin' },
    );
    await h.service.decide(state.requestId, { decision: 'approve', approver: 'alice' });
    await h.service.decide(state.requestId, { decision: 'approve', approver: 'bob' });
    const final = await settle(state.requestId);
    expect(final.status).toBe('failed');
    expect(final.outcome?.summary).toMatch(/kill switch: prompt injection seen/);
    expect(target.callsFor(state.requestId)).toHaveLength(0);
  });

  it('when a kill switch is pulled over 50 parked requests, then all are cancelled, none executes, new ones are refused, and resume works', async () => {
    const caller = await agentCaller('support-bot');
    const parked: string[] = [];
    for (let i = 0; i < 50; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, (_, j) => h.service.submit(caller.agent, email(i + j))),
      );
      parked.push(...batch.map((r) => r.state.requestId));
    }
    const outside = (await h.service.submit(caller.agent, largeRefund(5))).state.requestId;
    // Visibility is eventually consistent: wait until the search attributes show every parked request.
    const visible = `TaskQueue = '${h.taskQueues.control}' AND CsStatus = 'pending_approval'`;
    const listed = async () => {
      let n = 0;
      for await (const wf of h.client.workflow.list({ query: visible })) if (wf.workflowId) n += 1;
      return n;
    };
    await expect.poll(listed, { timeout: 20_000, interval: 250 }).toBe(51);

    const scope = { action: 'email.send_external' };
    await identity.killSwitches.engage(scope, { reason: 'mail relay compromised', by: 'operator:erin' });
    const result = await identity.killSwitches.cancelInScope(h.service.temporal, scope, {
      by: 'operator:erin',
      reason: 'mail relay compromised',
    });
    expect(result.inScope).toBe(50);
    await expect
      .poll(async () => (await h.service.temporal.operation(result.operationId))?.state, {
        timeout: 30_000,
        interval: 250,
      })
      .toBe('completed');
    expect(await h.service.temporal.operation(result.operationId)).toMatchObject({
      total: 50,
      completed: 50,
      failed: 0,
    });

    const finals = await Promise.all(parked.map((id) => settle(id)));
    expect(finals.every((s) => s.status === 'cancelled')).toBe(true);
    expect(finals[0]?.cancellation).toMatchObject({
      by: 'operator:erin',
      reason: 'kill switch: mail relay compromised',
    });
    expect(parked.flatMap((id) => target.callsFor(id))).toHaveLength(0);
    expect((await h.service.get({ kind: 'operator', id: 'erin' }, outside)).status).toBe('pending_approval');

    await expect(gatedSubmit(caller, email(99))).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('mail relay compromised') as unknown,
    });
    await identity.killSwitches.lift(scope, { by: 'operator:erin', reason: 'relay rotated' });
    const after = await gatedSubmit(caller, email(100));
    expect(after.state.status).toBe('pending_approval');
  });
});
