// Per-agent request rate limits: a bucket per agent whose size is the rate's count, refilled evenly over its window
// (GCRA, the token bucket written as one arrival time). The buckets live in a RateLimitStore: the database in every
// process (src/replica-state), so replicas share one limit; in memory for unit tests.
import { AppError } from '../errors';
import { systemClock, type Clock } from './secrets';

/** A rate such as 60 requests per 60 s. */
export interface Rate {
  count: number;
  windowSeconds: number;
}

const RATE = /^(\d+)\/(\d*)(s|m|h)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;

/** Parses "60/m", "10/s", "1000/h" or "5/10s" (5 per 10 seconds); undefined when malformed. */
export function parseRate(text: string): Rate | undefined {
  const m = RATE.exec(text.trim());
  if (!m?.[1] || !m[3]) return undefined;
  const count = Number(m[1]);
  const multiple = m[2] ? Number(m[2]) : 1;
  const windowSeconds = multiple * UNIT_SECONDS[m[3] as keyof typeof UNIT_SECONDS];
  if (!Number.isSafeInteger(count) || count < 1 || windowSeconds < 1) return undefined;
  return { count, windowSeconds };
}

export type RateDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterSeconds: number };

/** Where buckets live; `take` must be atomic per key across everything sharing the store. */
export interface RateLimitStore {
  /** Takes one request from `key`'s bucket at `nowMs` under `rate` (a changed rate starts with a full bucket). */
  take(key: string, rate: Rate, nowMs: number): Promise<RateDecision>;
}

export interface RateLimiterDeps {
  /** The rate of agents without their own. */
  defaultRate: Rate;
  /** An agent's own rate ("60/m"), if it has one; read on every request, so keep it cheap (the agent cache). */
  rateFor?: (agentId: string) => Promise<string | undefined> | string | undefined;
  clock?: Clock;
  /** Where the buckets live (default: this process's memory, for unit tests; processes pass the database's). */
  store?: RateLimitStore;
}

/** The GCRA parameters of a rate: emission interval T, tolerance window - T, and the rate's text for the store. */
export function gcra(rate: Rate): { emissionMs: number; toleranceMs: number; rateKey: string } {
  const windowMs = rate.windowSeconds * 1000;
  const emissionMs = windowMs / rate.count;
  return { emissionMs, toleranceMs: windowMs - emissionMs, rateKey: `${rate.count}/${rate.windowSeconds}s` };
}

/** The decision after a request moved the arrival time to `tatMs`. */
export function allowed(tatMs: number, nowMs: number, rate: Rate): RateDecision {
  const { emissionMs, toleranceMs } = gcra(rate);
  // Whole requests still fitting in the burst; a hair of float error must not hide one.
  const remaining = Math.floor((toleranceMs + emissionMs - (tatMs - nowMs)) / emissionMs + 1e-9);
  return { allowed: true, remaining: Math.max(0, remaining) };
}

/** The decision for a request refused while the arrival time is `tatMs`. */
export function refused(tatMs: number, nowMs: number, rate: Rate): RateDecision {
  const waitMs = tatMs - nowMs - gcra(rate).toleranceMs;
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000 - 1e-9)) };
}

/** Buckets in this process's memory: one replica's view only; idle ones are dropped after `idleMs` (1 h). */
export function createMemoryRateLimitStore(idleMs = 3_600_000): RateLimitStore {
  const buckets = new Map<string, { tatMs: number; rateKey: string }>();
  let lastSweepMs = 0;
  return {
    take(key, rate, nowMs) {
      if (nowMs - lastSweepMs >= idleMs) {
        lastSweepMs = nowMs;
        for (const [k, b] of buckets) if (b.tatMs < nowMs - idleMs) buckets.delete(k);
      }
      const { emissionMs, toleranceMs, rateKey } = gcra(rate);
      const bucket = buckets.get(key);
      if (!bucket || bucket.rateKey !== rateKey || bucket.tatMs < nowMs) {
        buckets.set(key, { tatMs: nowMs + emissionMs, rateKey });
        return Promise.resolve(allowed(nowMs + emissionMs, nowMs, rate));
      }
      if (bucket.tatMs - nowMs > toleranceMs) return Promise.resolve(refused(bucket.tatMs, nowMs, rate));
      bucket.tatMs += emissionMs;
      return Promise.resolve(allowed(bucket.tatMs, nowMs, rate));
    },
  };
}

/** Creates the per-agent limiter. */
export function createRateLimiter(deps: RateLimiterDeps) {
  const clock = deps.clock ?? systemClock;
  const store = deps.store ?? createMemoryRateLimitStore();

  async function rateOf(agentId: string): Promise<Rate> {
    const own = await deps.rateFor?.(agentId);
    return (own && parseRate(own)) || deps.defaultRate;
  }

  /** Takes one request from the agent's bucket, or says how long until one is available. */
  async function take(agentId: string): Promise<RateDecision> {
    return store.take(`agent:${agentId}`, await rateOf(agentId), clock().getTime());
  }

  /** Takes one request or throws AppError('rate_limited') carrying a `Retry-After` header (for the 429). */
  async function enforce(agentId: string): Promise<void> {
    const decision = await take(agentId);
    if (!decision.allowed) {
      throw new AppError(
        'rate_limited',
        `agent ${agentId} is over its request rate; retry in ${decision.retryAfterSeconds}s`,
        {
          headers: { 'Retry-After': String(decision.retryAfterSeconds) },
        },
      );
    }
  }

  return { take, enforce };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
