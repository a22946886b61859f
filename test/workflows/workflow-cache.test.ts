// A bounded workflow cache: requests parked beyond `workers.maxCachedWorkflows` leave the worker's memory and replay
// from their history when a decision arrives, then run exactly as cached ones do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { testConfig } from '../support/config';
import { finalState, refund, submit, waitForState } from './helpers';

describe('workflow cache', () => {
  let target: TargetServer;
  let h: Harness;
  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_test_secret_value';
    target = await startTargetServer();
    h = await startHarness({
      config: testConfig({ targetHost: target.host, extraYaml: 'workers:\n  maxCachedWorkflows: 2' }),
    });
  });
  afterAll(async () => {
    await h?.close();
    await target?.close();
  });

  it('when more requests park than the cache holds, then the worker keeps only the cap and each evicted one replays and executes once on its quorum', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { state } = await submit(h, refund(5000 + i));
      ids.push(state.requestId);
    }
    for (const id of ids) await waitForState(h, id, (s) => s.timeline.length > 0);
    expect(h.cachedWorkflows()).toBeLessThanOrEqual(2);

    for (const id of ids) await h.service.decide(id, { decision: 'approve', approver: 'alice' });
    for (const id of ids) await h.service.decide(id, { decision: 'approve', approver: 'bob' });
    for (const id of ids) {
      const final = await finalState(h, id);
      expect(final.status).toBe('succeeded');
      expect(final.approvals.map((a) => a.approver)).toEqual(['alice', 'bob']);
      expect(target.callsFor(id)).toHaveLength(1);
    }
    expect(h.cachedWorkflows()).toBeLessThanOrEqual(2);
  });
});
