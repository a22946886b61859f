// State the API replicas share through PostgreSQL, in the production topology: a kill switch pulled on one replica
// holds at the other within the documented delay (COUNTERSIGN_KILL_SWITCH_CACHE) with nothing executing meanwhile, and
// an agent alternating between replicas gets its rate limit once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OTHER_AGENT_KEY,
  startTopology,
  statusOf,
  submitRefund,
  waitAllTerminal,
  type Submitted,
  type Topology,
} from './support/topology';

/** The documented longest delay before a kill switch pulled on one replica holds on the others. */
const KILL_SWITCH_DELAY_MS = 1_000;
const RATE_LIMIT = 12;

describe('topology: state shared between API replicas', () => {
  let t: Topology;

  beforeAll(async () => {
    t = await startTopology({
      name: 'shared',
      env: { COUNTERSIGN_KILL_SWITCH_CACHE: `${KILL_SWITCH_DELAY_MS}ms`, COUNTERSIGN_RATE_LIMIT: `${RATE_LIMIT}/h` },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('when a kill switch is pulled on one replica, then the other refuses within the documented delay and nothing submitted after the pull executes', async () => {
    const [a, b] = t.replicas as [(typeof t.replicas)[0], (typeof t.replicas)[0]];
    // Warm the other replica's cache with "no switch" so the delay is the cache's, not a cold read.
    const warm = await submitRefund(b.url);
    expect(warm.status).toBe(201);
    const pull = await fetch(`${a.url}/v1/kill-switches`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${t.operator}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ agent: 'topology-bot', reason: 'topology test: agent misbehaving' }),
    });
    expect(pull.status).toBe(202);
    const pulledAt = Date.now();
    const after: { startedAt: number; result: Submitted }[] = [];
    // Keep submitting at the other replica until a submit started past the delay has been answered.
    for (;;) {
      const startedAt = Date.now();
      const result = await submitRefund(b.url);
      after.push({ startedAt, result });
      if (startedAt > pulledAt + KILL_SWITCH_DELAY_MS) break;
      // Paced: the agent's submits here stay under its rate limit.
      await new Promise((r) => setTimeout(r, 250));
    }
    const late = after.filter((s) => s.startedAt > pulledAt + KILL_SWITCH_DELAY_MS);
    expect(late.length).toBeGreaterThan(0);
    for (const s of late) expect(s.result.status).toBe(403);
    // Accepted in the window: each ends without executing (the re-check before execution reads the switch fresh).
    const accepted = after.filter((s) => s.result.status === 201).map((s) => s.result.id!);
    const final = await waitAllTerminal(a.url, t.operator, accepted, 60_000);
    for (const id of accepted) {
      expect(final.get(id)).not.toBe('succeeded');
      expect(t.target.callsFor(id)).toEqual([]);
    }
    for (const s of after) expect([201, 403]).toContain(s.result.status);
    expect(await statusOf(a.url, t.operator, warm.id!)).toBeDefined();
  });

  it('when an agent alternates between the replicas, then it gets its rate limit in all, not once per replica', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 2 * RATE_LIMIT; i++) {
      statuses.push((await submitRefund(t.replicas[i % 2]!.url, { key: OTHER_AGENT_KEY, amount: 5_000 })).status);
    }
    expect(statuses.filter((s) => s === 201)).toHaveLength(RATE_LIMIT);
    expect(statuses.slice(RATE_LIMIT)).toEqual(Array.from({ length: RATE_LIMIT }, () => 429));
  });
});
