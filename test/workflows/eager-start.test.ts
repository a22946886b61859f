// Eager workflow start: where the API and the control worker share a process (dev mode), a submit hands the first
// workflow task to that worker in the start's response; with no worker on the connection it is a plain start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../src/agents';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { testConfig } from '../support/config';

/** What the server recorded on the execution's first event: whether it handed the first task back eagerly. */
async function startedEagerly(h: Harness, id: string): Promise<boolean> {
  const history = await h.client.workflow.getHandle(id).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  expect(started).toBeDefined();
  return started?.eagerExecutionAccepted === true;
}

const refund = (paymentId: string, amount: number, currency = 'USD') => ({
  action: 'payments.refund',
  params: { paymentId, amount, currency },
  reason: 'customer asked',
});

describe('eager workflow start', () => {
  let target: TargetServer;
  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_test_secret_value';
    target = await startTargetServer();
  });
  afterAll(async () => {
    await target?.close();
  });

  describe('with the control worker on the shared connection', () => {
    let h: Harness;
    let agent: AgentRecord;
    beforeAll(async () => {
      h = await startHarness({ config: testConfig({ targetHost: target.host }), eagerStart: true });
      agent = (await h.agents.get('support-bot'))!;
    });
    afterAll(async () => {
      await h?.close();
    });

    it('when an allowed request is submitted, then its start is eager and it executes once and succeeds', async () => {
      const { state } = await h.service.submit(agent, refund('pay_eagerOne', 10));
      expect(await startedEagerly(h, state.requestId)).toBe(true);
      const final = await h.service.get({ kind: 'agent', agent }, state.requestId, 20);
      expect(final.status).toBe('succeeded');
      expect(target.callsFor(state.requestId)).toHaveLength(1);
    });

    it('when a request needs approval, then its start is eager and it parks awaiting the decision', async () => {
      const { state } = await h.service.submit(agent, refund('pay_eagerPark', 5000, 'EUR'));
      expect(state.status).toBe('pending_approval');
      expect(await startedEagerly(h, state.requestId)).toBe(true);
      const read = await h.service.get({ kind: 'agent', agent }, state.requestId);
      expect(read.status).toBe('pending_approval');
      expect(target.callsFor(state.requestId)).toHaveLength(0);
    });

    it('when a submit is retried, then the second start finds the same request and nothing runs twice', async () => {
      const first = await h.service.submit(agent, refund('pay_eagerRetry', 10), 'eager-retry-key');
      const again = await h.service.submit(agent, refund('pay_eagerRetry', 10), 'eager-retry-key');
      expect(again.created).toBe(false);
      expect(again.state.requestId).toBe(first.state.requestId);
      const final = await h.service.get({ kind: 'agent', agent }, first.state.requestId, 20);
      expect(final.status).toBe('succeeded');
      expect(target.callsFor(first.state.requestId)).toHaveLength(1);
    });
  });

  describe('with no control worker on the shared connection', () => {
    let h: Harness;
    let agent: AgentRecord;
    beforeAll(async () => {
      h = await startHarness({ config: testConfig({ targetHost: target.host }), eagerStart: true, noWorkers: true });
      agent = (await h.agents.get('support-bot'))!;
    });
    afterAll(async () => {
      await h?.close();
    });

    it('when a request is submitted, then the start is plain and the request runs once a worker polls', async () => {
      const { state } = await h.service.submit(agent, refund('pay_eagerNone', 10));
      expect(await startedEagerly(h, state.requestId)).toBe(false);
      await h.startWorkers();
      const final = await h.service.get({ kind: 'agent', agent }, state.requestId, 20);
      expect(final.status).toBe('succeeded');
      expect(target.callsFor(state.requestId)).toHaveLength(1);
    });
  });
});
