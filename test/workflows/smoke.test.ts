import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { testConfig } from '../support/config';

describe('action request workflow (smoke)', () => {
  let target: TargetServer;
  let h: Harness;
  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_test_secret_value';
    target = await startTargetServer();
    h = await startHarness({ config: testConfig({ targetHost: target.host }) });
  });
  afterAll(async () => {
    await h?.close();
    await target?.close();
  });

  it('when a small refund is allowed, then it executes once and succeeds', async () => {
    const agent = (await h.agents.get('support-bot'))!;
    const { state, created } = await h.service.submit(agent, {
      action: 'payments.refund',
      params: { paymentId: 'pay_abcd', amount: 10, currency: 'USD' },
      reason: 'customer asked',
    });
    expect(created).toBe(true);
    const final = await h.service.get({ kind: 'agent', agent }, state.requestId, 20);
    expect(final.status).toBe('succeeded');
    expect(target.callsFor(state.requestId)).toHaveLength(1);
  });
});
