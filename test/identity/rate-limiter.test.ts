import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors';
import { createRateLimiter, parseRate } from '../../src/identity/rate-limiter';
import { manualClock } from './databases';

describe('per-agent rate limits', () => {
  it('when rates are written as count/window, then they parse, and nonsense does not', () => {
    expect(parseRate('60/m')).toEqual({ count: 60, windowSeconds: 60 });
    expect(parseRate('10/s')).toEqual({ count: 10, windowSeconds: 1 });
    expect(parseRate('1000/h')).toEqual({ count: 1000, windowSeconds: 3600 });
    expect(parseRate('5/10s')).toEqual({ count: 5, windowSeconds: 10 });
    for (const bad of ['0/m', '60', '60/d', '-1/s', 'ten/s', '5/0s']) expect(parseRate(bad)).toBeUndefined();
  });

  it('when an agent uses its whole burst, then the next request is refused until exactly one interval has passed', async () => {
    const clock = manualClock();
    const limiter = createRateLimiter({ defaultRate: { count: 3, windowSeconds: 3 }, clock: clock.now });
    for (const remaining of [2, 1, 0]) expect(await limiter.take('bot')).toEqual({ allowed: true, remaining });
    expect(await limiter.take('bot')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    clock.advance(999);
    expect((await limiter.take('bot')).allowed).toBe(false);
    clock.advance(1);
    expect(await limiter.take('bot')).toEqual({ allowed: true, remaining: 0 });
    expect((await limiter.take('bot')).allowed).toBe(false);
  });

  it('when an agent is idle for a full window, then its bucket is full again but never fuller', async () => {
    const clock = manualClock();
    const limiter = createRateLimiter({ defaultRate: { count: 2, windowSeconds: 60 }, clock: clock.now });
    await limiter.take('bot');
    await limiter.take('bot');
    expect(await limiter.take('bot')).toEqual({ allowed: false, retryAfterSeconds: 30 });
    clock.advance(10 * 60_000);
    expect(await limiter.take('bot')).toEqual({ allowed: true, remaining: 1 });
    expect(await limiter.take('bot')).toEqual({ allowed: true, remaining: 0 });
    expect((await limiter.take('bot')).allowed).toBe(false);
  });

  it('when agents carry their own rates, then each has its own bucket and the rest use the default', async () => {
    const clock = manualClock();
    const own: Record<string, string> = { fast: '5/s', slow: '1/h' };
    const limiter = createRateLimiter({
      defaultRate: { count: 2, windowSeconds: 60 },
      rateFor: (id) => own[id],
      clock: clock.now,
    });
    for (let i = 0; i < 5; i++) expect((await limiter.take('fast')).allowed).toBe(true);
    expect((await limiter.take('fast')).allowed).toBe(false);
    expect((await limiter.take('slow')).allowed).toBe(true);
    expect(await limiter.take('slow')).toEqual({ allowed: false, retryAfterSeconds: 3600 });
    expect((await limiter.take('other')).allowed).toBe(true);
    expect((await limiter.take('other')).allowed).toBe(true);
    expect((await limiter.take('other')).allowed).toBe(false);
    own.other = '10/s';
    expect((await limiter.take('other')).allowed).toBe(true);
  });

  it('when an agent is over its rate, then enforce throws a 429 with Retry-After in whole seconds', async () => {
    const clock = manualClock();
    const limiter = createRateLimiter({ defaultRate: { count: 1, windowSeconds: 90 }, clock: clock.now });
    await limiter.enforce('bot');
    clock.advance(500);
    const err = await limiter.enforce('bot').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'rate_limited', status: 429, headers: { 'Retry-After': '90' } });
  });
});
