// Execution: exactly once across a worker restart, retries on 5xx with one Idempotency-Key, no retry on 4xx, the host
// allowlist, and the credential that reaches the target but never the workflow history or the logs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitDecisionSignal } from '../../src/contracts/messages';
import type { CountersignConfig } from '../../src/config/schema';
import { testConfig } from '../support/config';
import { openedHistoryText, rawHistoryText } from '../support/history';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { finalState, refund, submit, waitForState } from './helpers';

const SECRET = 'tok_execution_secret_5f3a9c';

let target: TargetServer;
let h: Harness;

beforeAll(async () => {
  process.env.COUNTERSIGN_TEST_BILLING_TOKEN = SECRET;
  target = await startTargetServer();
  h = await startHarness({ config: testConfig({ targetHost: target.host }) });
});
afterAll(async () => {
  await h?.close();
  await target?.close();
});

describe('execution', () => {
  it('when the workers restart while a request is parked, then two approvals execute it exactly once', async () => {
    const { state } = await submit(h, refund(7000));
    await waitForState(h, state.requestId, (s) => s.timeline.length > 0);
    await h.stopWorkers();
    // Signals are durable: an approval sent while no worker runs is applied when one comes back.
    await h.client.workflow.getHandle(state.requestId).signal(submitDecisionSignal, {
      approver: 'alice',
      decision: 'approve',
      channel: 'slack',
      paramsHash: state.paramsHash,
      at: new Date().toISOString(),
    });
    await h.startWorkers();
    const afterRestart = await waitForState(h, state.requestId, (s) => s.approvals.length === 1);
    expect(afterRestart.status).toBe('pending_approval');

    await h.service.decide(state.requestId, { decision: 'approve', approver: 'bob' });
    await expect(h.service.decide(state.requestId, { decision: 'approve', approver: 'bob' })).rejects.toMatchObject({
      code: 'decision_refused',
    });
    const done = await finalState(h, state.requestId);
    expect(done.status).toBe('succeeded');
    expect(target.callsFor(state.requestId)).toHaveLength(1);
  });

  it('when the target answers 5xx then 200, then the call is retried with the same Idempotency-Key and succeeds', async () => {
    target.failNext(503, 1);
    const { state } = await submit(h, refund(50));
    const done = await finalState(h, state.requestId);
    expect(done.status).toBe('succeeded');
    expect(done.outcome).toMatchObject({ ok: true, status: 200, attempts: 2 });
    const calls = target.callsFor(state.requestId);
    expect(calls).toHaveLength(2);
    expect(new Set(calls.map((c) => c.headers['idempotency-key']))).toEqual(new Set([state.requestId]));
  });

  it('when the target answers 4xx, then the request fails without a retry', async () => {
    target.failNext(422, 1);
    const { state } = await submit(h, refund(60));
    const done = await finalState(h, state.requestId);
    expect(done.status).toBe('failed');
    expect(done.outcome).toMatchObject({ ok: false, status: 422 });
    expect(done.outcome?.summary).toMatch(/DownstreamRejected: HTTP 422/);
    expect(done.timeline.map((t) => t.event)).toEqual(['submitted', 'executing', 'failed']);
    expect(target.callsFor(state.requestId)).toHaveLength(1);
  });

  it('when the credential comes from the environment, then the target gets it but history and logs never hold it', async () => {
    const { state } = await submit(h, refund(70));
    const done = await finalState(h, state.requestId);
    expect(done.status).toBe('succeeded');
    const [call] = target.callsFor(state.requestId);
    expect(call?.headers.authorization).toBe(`Bearer ${SECRET}`);

    const raw = await rawHistoryText(h, state.requestId);
    expect(raw).toContain(state.requestId);
    // Sealed by the payload codec: not even the parameters are readable in the stored history.
    expect(raw).not.toContain('pay_abcd1234');
    const opened = await openedHistoryText(h, state.requestId);
    expect(opened).toContain('pay_abcd1234');
    for (const history of [raw, opened]) {
      expect(history).not.toContain(SECRET);
      expect(history).not.toContain(Buffer.from(SECRET).toString('base64'));
    }
    const logs = h.logLines.join('');
    expect(logs).toContain(state.requestId);
    expect(logs).not.toContain(SECRET);
  });
});

describe('execution limits', () => {
  it('when the target keeps answering 5xx, then the connector stops after its maxAttempts and the request fails', async () => {
    const base = testConfig({ targetHost: target.host });
    const billing = base.connectors.billing!;
    const limited = await startHarness({
      config: { ...base, connectors: { billing: { ...billing, maxAttempts: 2 } } },
    });
    try {
      target.failNext(503, 2);
      const { state } = await submit(limited, refund(85));
      const done = await finalState(limited, state.requestId);
      expect(done.status).toBe('failed');
      expect(done.outcome).toMatchObject({ ok: false, status: 503 });
      expect(done.outcome?.summary).toMatch(/HTTP 503/);
      expect(target.callsFor(state.requestId)).toHaveLength(2);
    } finally {
      await limited.close();
    }
  });
});

describe('execution guards', () => {
  it('when the action URL host is not on the allowlist, then the request fails and nothing is called', async () => {
    const base = testConfig({ targetHost: target.host });
    const billing = base.connectors.billing!;
    const config: CountersignConfig = {
      ...base,
      connectors: { billing: { ...billing, allowedHosts: ['billing.internal:443'] } },
    };
    const guarded = await startHarness({ config });
    try {
      const { state } = await submit(guarded, refund(80));
      const done = await finalState(guarded, state.requestId);
      expect(done.status).toBe('failed');
      expect(done.outcome?.summary).toMatch(
        /ConnectorMisconfigured: host 127\.0\.0\.1:\d+ is not in the connector's allowedHosts/,
      );
      expect(target.callsFor(state.requestId)).toHaveLength(0);
    } finally {
      await guarded.close();
    }
  });

  it('when the agent is disabled between approval and execution, then the re-check blocks it and nothing is called', async () => {
    const config = testConfig({ targetHost: target.host });
    let enabled = true;
    const guarded = await startHarness({
      config,
      agents: {
        get(id) {
          const agent = config.agents.find((a) => a.id === id);
          return Promise.resolve(agent && { ...agent, enabled: agent.id === 'support-bot' ? enabled : agent.enabled });
        },
        authenticateApiKey: () => Promise.resolve(undefined),
      },
    });
    try {
      const agent = (await guarded.agents.get('support-bot'))!;
      const { state } = await guarded.service.submit(agent, refund(8000));
      await guarded.service.decide(state.requestId, { decision: 'approve', approver: 'alice' });
      enabled = false;
      await guarded.service.decide(state.requestId, { decision: 'approve', approver: 'bob' });
      const done = await finalState(guarded, state.requestId);
      expect(done.status).toBe('failed');
      expect(done.outcome?.summary).toBe('Not executed: agent support-bot is not active');
      expect(done.timeline.map((t) => t.event)).toContain('execution_blocked');
      expect(target.callsFor(state.requestId)).toHaveLength(0);
    } finally {
      await guarded.close();
    }
  });

  it('when the kill switch is on, then an allowed request is not executed', async () => {
    const guarded = await startHarness({
      config: testConfig({ targetHost: target.host }),
      guard: {
        blockedReason: (_agent, action) => Promise.resolve(action === 'payments.refund' ? 'refunds halted' : undefined),
      },
    });
    try {
      const { state } = await submit(guarded, refund(90));
      const done = await finalState(guarded, state.requestId);
      expect(done).toMatchObject({
        status: 'failed',
        outcome: { ok: false, summary: 'Not executed: kill switch: refunds halted' },
      });
      expect(target.callsFor(state.requestId)).toHaveLength(0);
    } finally {
      await guarded.close();
    }
  });
});
