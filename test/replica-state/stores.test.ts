// The database-backed replica state on both databases: two store instances stand for two replicas on one database.
// Concurrent takes never exceed an agent's limit between them, a signature is accepted once across them, and channel
// slots are handed out one interval apart whoever asks.
import { describe, expect, it } from 'vitest';
import { createMemoryRateLimitStore, createRateLimiter } from '../../src/identity/rate-limiter';
import { createReplicaState } from '../../src/replica-state';
import { createChannelPacer } from '../../slack/pacer';
import { describeEachDatabase, manualClock } from '../identity/databases';

await describeEachDatabase('replica state', (current) => {
  it('when two replicas take from one agent concurrently, then together they allow exactly its limit', async () => {
    const clock = manualClock();
    const [a, b] = [createReplicaState(current().db), createReplicaState(current().db)];
    const limiters = [a, b].map((state) =>
      createRateLimiter({ defaultRate: { count: 5, windowSeconds: 60 }, clock: clock.now, store: state.rateLimits }),
    );
    const decisions = await Promise.all(Array.from({ length: 12 }, (_, i) => limiters[i % 2]!.take('bot')));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
    expect(decisions.filter((d) => !d.allowed)).toEqual(
      Array.from({ length: 7 }, () => ({ allowed: false, retryAfterSeconds: 12 })),
    );
    // Another agent has its own bucket; after one interval (60 s / 5) one more request fits.
    expect((await limiters[1]!.take('other')).allowed).toBe(true);
    clock.advance(12_000);
    expect(await limiters[0]!.take('bot')).toEqual({ allowed: true, remaining: 0 });
    expect((await limiters[1]!.take('bot')).allowed).toBe(false);
  });

  it('when the database store and the memory store see the same requests, then they decide alike', async () => {
    const clock = manualClock();
    const rate = { count: 3, windowSeconds: 3 };
    const stores = [createReplicaState(current().db).rateLimits, createMemoryRateLimitStore()];
    for (const step of [0, 0, 0, 0, 999, 1, 0, 5_000, 0, 0, 0, 0]) {
      clock.advance(step);
      const nowMs = clock.now().getTime();
      const [fromDb, fromMemory] = await Promise.all(stores.map((s) => s.take('agent:bot', rate, nowMs)));
      expect(fromDb).toEqual(fromMemory);
    }
  });

  it('when one Slack signature reaches two replicas, then exactly one accepts it, until it has expired', async () => {
    const [a, b] = [createReplicaState(current().db), createReplicaState(current().db)];
    const now = Date.now();
    const results = await Promise.all([
      a.slackReplays.remember('v0=abc', now, now + 600_000),
      b.slackReplays.remember('v0=abc', now, now + 600_000),
    ]);
    expect(results.sort()).toEqual([false, true]);
    expect(await a.slackReplays.remember('v0=abc', now + 1_000, now + 601_000)).toBe(false);
    expect(await b.slackReplays.remember('v0=other', now, now + 600_000)).toBe(true);
    expect(await b.slackReplays.remember('v0=abc', now + 600_001, now + 1_200_001)).toBe(true);
  });

  it('when two replicas write to one channel, then the slots they reserve are one interval apart whoever asks', async () => {
    const [a, b] = [createReplicaState(current().db), createReplicaState(current().db)];
    const nowMs = Date.now();
    const slots = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).channelPace.reserve('C0PACE', nowMs, 1_100)),
    );
    expect(slots.sort((x, y) => x - y)).toEqual(Array.from({ length: 6 }, (_, i) => nowMs + i * 1_100));
    // Another channel has its own pace; a channel idle past its last slot starts at once again.
    expect(await a.channelPace.reserve('C0OTHER', nowMs, 1_100)).toBe(nowMs);
    expect(await b.channelPace.reserve('C0PACE', nowMs + 60_000, 1_100)).toBe(nowMs + 60_000);
  });

  it('when a pacer runs over the database store, then its tasks run in order and each waits for its slot', async () => {
    const state = createReplicaState(current().db);
    const pacer = createChannelPacer({ intervalMs: 50, store: state.channelPace });
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((n) => pacer.run('C0ORDER', () => Promise.resolve(order.push(n)))));
    expect(order).toEqual([1, 2, 3]);
    // The three took consecutive slots, so the next one is three intervals after the first.
    const next = await state.channelPace.reserve('C0ORDER', 0, 50);
    expect(next).toBeGreaterThan(0);
    expect(pacer.pending).toBe(0);
  });
});

describe('replica state without a database', () => {
  it('when no store is given, then the limiter keeps its buckets in memory', async () => {
    const limiter = createRateLimiter({ defaultRate: { count: 1, windowSeconds: 60 } });
    expect((await limiter.take('solo')).allowed).toBe(true);
    expect((await limiter.take('solo')).allowed).toBe(false);
  });
});
