// Per-agent request rate limits: a token bucket per agent whose size is the rate's count, refilled evenly over its
// window. In memory, so each API replica enforces the limit on the requests it serves.
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

export interface RateLimiterDeps {
  /** The rate of agents without their own. */
  defaultRate: Rate;
  /** An agent's own rate ("60/m"), if it has one; read on every request, so keep it cheap (the agent cache). */
  rateFor?: (agentId: string) => Promise<string | undefined> | string | undefined;
  clock?: Clock;
  /** Buckets idle this long are dropped, bounding memory (default 1 h). */
  idleMs?: number;
}

interface Bucket {
  /** Fill level in integer units: one request is `windowMs` units and each ms adds `count`, so no rounding drifts. */
  units: number;
  updatedMs: number;
  rate: Rate;
}

/** Creates the per-agent limiter. */
export function createRateLimiter(deps: RateLimiterDeps) {
  const clock = deps.clock ?? systemClock;
  const idleMs = deps.idleMs ?? 3_600_000;
  const buckets = new Map<string, Bucket>();
  let lastSweepMs = 0;

  async function rateOf(agentId: string): Promise<Rate> {
    const own = await deps.rateFor?.(agentId);
    return (own && parseRate(own)) || deps.defaultRate;
  }

  function sweep(nowMs: number): void {
    if (nowMs - lastSweepMs < idleMs) return;
    lastSweepMs = nowMs;
    for (const [id, b] of buckets) if (nowMs - b.updatedMs > idleMs) buckets.delete(id);
  }

  /** Takes one request from the agent's bucket, or says how long until one is available. */
  async function take(agentId: string): Promise<RateDecision> {
    const rate = await rateOf(agentId);
    const nowMs = clock().getTime();
    sweep(nowMs);
    const windowMs = rate.windowSeconds * 1000;
    const capacity = rate.count * windowMs;
    let bucket = buckets.get(agentId);
    if (!bucket || bucket.rate.count !== rate.count || bucket.rate.windowSeconds !== rate.windowSeconds) {
      // A new or re-rated agent starts with a full bucket at its current rate.
      bucket = { units: capacity, updatedMs: nowMs, rate };
      buckets.set(agentId, bucket);
    } else {
      const elapsed = Math.max(0, nowMs - bucket.updatedMs);
      bucket.units = Math.min(capacity, bucket.units + elapsed * rate.count);
      bucket.updatedMs = nowMs;
    }
    if (bucket.units >= windowMs) {
      bucket.units -= windowMs;
      return { allowed: true, remaining: Math.floor(bucket.units / windowMs) };
    }
    const waitMs = Math.ceil((windowMs - bucket.units) / rate.count);
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
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
