// The in-process board of execution starts (src/execution-starts.ts): a waiter hears of a start that comes before or
// after it asks, and gives up at its timeout when none comes.
import { describe, expect, it } from 'vitest';
import { createExecutionStarts } from '../../src/execution-starts';

describe('execution starts', () => {
  it('when the start comes after the wait began, then the waiter is told it started', async () => {
    const starts = createExecutionStarts();
    const waited = starts.whenStarted('req_a', 60_000);
    starts.started('req_a');
    await expect(waited).resolves.toBe(true);
  });

  it('when the start came first, then the wait ends at once with started', async () => {
    const starts = createExecutionStarts();
    starts.started('req_b');
    await expect(starts.whenStarted('req_b', 60_000)).resolves.toBe(true);
  });

  it('when another request starts, then the waiter is not told, and its timeout ends the wait', async () => {
    const starts = createExecutionStarts();
    const waited = starts.whenStarted('req_c', 20);
    starts.started('req_other');
    await expect(waited).resolves.toBe(false);
  });

  it('when many requests have started since, then an old start is forgotten and its waiter times out', async () => {
    const starts = createExecutionStarts();
    starts.started('req_old');
    for (let i = 0; i < 1_000; i++) starts.started(`req_${i}`);
    await expect(starts.whenStarted('req_old', 20)).resolves.toBe(false);
    await expect(starts.whenStarted('req_999', 20)).resolves.toBe(true);
  });

  it('when the start is told, then waiters hear of it only after the code that told it ran on', async () => {
    const starts = createExecutionStarts();
    const order: string[] = [];
    const waited = starts.whenStarted('req_d', 60_000).then(() => order.push('waiter'));
    starts.started('req_d');
    await Promise.resolve();
    order.push('activity');
    await waited;
    expect(order).toEqual(['activity', 'waiter']);
  });
});
