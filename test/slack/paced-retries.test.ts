// Slack's own retries wait their turn: after a 500 on an approval message, the retry and the next write to the same
// channel are each spaced by the per-channel pacing, instead of going out right behind one another.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackEnv, type SlackEnv } from './slack-env';

const CHANNEL = 'C0PACED001';
// Long enough that arrival jitter on a loaded machine (hundreds of ms) cannot close a paced gap to half of it.
const INTERVAL_MS = 1_000;

describe('paced Slack retries', () => {
  let env: SlackEnv;
  beforeAll(async () => {
    env = await startSlackEnv({
      configure(config) {
        const finance = config.approvers.finance;
        if (!finance) throw new Error('finance group missing');
        finance.slackChannel = CHANNEL;
      },
      // Backoff shorter than the pacing: only the pacing can space the retry.
      tuning: {
        perChannelIntervalMs: INTERVAL_MS,
        retryConfig: { retries: 3, factor: 1, minTimeout: 10, maxTimeout: 10, randomize: false },
      },
    });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('when Slack answers 500 to a post, then the retry and the next write to that channel keep the pacing interval', async () => {
    env.stub.failNext('chat.postMessage', { status: 500 }, 1);
    const refund = (n: number) =>
      env.submit({
        action: 'payments.refund',
        params: { paymentId: `pay_paced${n}`, amount: 2500, currency: 'USD' },
        reason: 'paced retries',
      });
    const [first, second] = await Promise.all([refund(1), refund(2)]);
    await env.waitForMessages(first.requestId, 1);
    await env.waitForMessages(second.requestId, 1);
    const writes = env.stub
      .callsOf('chat.postMessage')
      .filter((c) => c.args.channel === CHANNEL)
      .map((c) => c.at)
      .sort((a, b) => a - b);
    expect(writes.length).toBeGreaterThanOrEqual(3);
    const gaps = writes.slice(1).map((at, i) => at - (writes[i] ?? at));
    // Arrival times at the stand-in jitter on a loaded machine, so half the interval is the bound; without pacing of
    // the retry the gap after the 500 is about the 10 ms backoff.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(INTERVAL_MS / 2);
    for (const id of [first.requestId, second.requestId]) {
      await env.h.service.cancel({ kind: 'operator', id: 'tests' }, id, 'test cleanup');
    }
  });
});
