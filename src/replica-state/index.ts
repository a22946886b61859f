// State every API replica (and worker) must see alike, kept in the database they share rather than in process
// memory: per-agent rate limits, Slack replay memory and per-channel Slack pacing. Each is one atomic upsert per use
// (INSERT … ON CONFLICT … DO UPDATE … WHERE … RETURNING, the same SQL in SQLite and PostgreSQL), so two replicas
// never both take the last unit of a limit, both accept one signed Slack request, or both send in one slot.
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { allowed, gcra, refused, type Rate, type RateDecision, type RateLimitStore } from '../identity/rate-limiter';
import type { ChannelPaceStore } from '../../slack/pacer';
import type { ReplayMemory } from '../../slack/request-guard';

/** How often a process deletes rows nobody needs any more (expired signatures, idle buckets and channels). */
const SWEEP_INTERVAL_MS = 10 * 60_000;

/** The stores over one database. */
export interface ReplicaState {
  rateLimits: RateLimitStore;
  slackReplays: ReplayMemory;
  channelPace: ChannelPaceStore;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tables are reached with raw SQL only
type AnyDb = Kysely<any>;

/** Creates the database-backed stores; `idleMs` is how long an idle rate bucket or channel slot is kept (1 h). */
export function createReplicaState(db: AnyDb, options: { idleMs?: number } = {}): ReplicaState {
  const idleMs = options.idleMs ?? 3_600_000;
  let lastSweepMs = Date.now();
  const sweep = async (nowMs: number) => {
    if (nowMs - lastSweepMs < SWEEP_INTERVAL_MS) return;
    lastSweepMs = nowMs;
    await sql`delete from rate_limits where tat_ms < ${nowMs - idleMs}`.execute(db);
    await sql`delete from slack_replays where expires_ms < ${nowMs}`.execute(db);
    await sql`delete from slack_channel_pace where next_ms < ${nowMs - idleMs}`.execute(db);
  };

  const rateLimits: RateLimitStore = {
    // GCRA: `tat_ms` is the theoretical arrival time of the next request. One request moves it on by T = window/count;
    // a request is allowed while tat - now <= window - T (a burst of `count`). A changed rate starts afresh.
    async take(key: string, rate: Rate, nowMs: number): Promise<RateDecision> {
      await sweep(nowMs);
      const { emissionMs, toleranceMs, rateKey } = gcra(rate);
      const taken = await sql<{ tat_ms: number | string }>`
        insert into rate_limits (key, tat_ms, rate) values (${key}, ${nowMs + emissionMs}, ${rateKey})
        on conflict (key) do update set
          tat_ms = case
            when rate_limits.rate <> excluded.rate or rate_limits.tat_ms < ${nowMs} then ${nowMs + emissionMs}
            else rate_limits.tat_ms + ${emissionMs}
          end,
          rate = excluded.rate
        where rate_limits.rate <> excluded.rate or rate_limits.tat_ms - ${nowMs} <= ${toleranceMs}
        returning tat_ms`.execute(db);
      const row = taken.rows[0];
      if (row) return allowed(Number(row.tat_ms), nowMs, rate);
      const current = await sql<{ tat_ms: number | string }>`select tat_ms from rate_limits where key = ${key}`.execute(
        db,
      );
      return refused(Number(current.rows[0]?.tat_ms ?? nowMs), nowMs, rate);
    },
  };

  const slackReplays: ReplayMemory = {
    async remember(signature: string, nowMs: number, untilMs: number): Promise<boolean> {
      await sweep(nowMs);
      // A digest, not the signature: the table proves "seen" without holding anything that could be replayed.
      const digest = createHash('sha256').update(signature).digest('base64url');
      const fresh = await sql<{ signature_hash: string }>`
        insert into slack_replays (signature_hash, expires_ms) values (${digest}, ${untilMs})
        on conflict (signature_hash) do update set expires_ms = excluded.expires_ms
        where slack_replays.expires_ms < ${nowMs}
        returning signature_hash`.execute(db);
      return fresh.rows.length > 0;
    },
  };

  const channelPace: ChannelPaceStore = {
    async reserve(channel: string, nowMs: number, intervalMs: number): Promise<number> {
      await sweep(nowMs);
      // next_ms is the channel's first free slot after this reservation; this task starts one interval before it.
      const reserved = await sql<{ next_ms: number | string }>`
        insert into slack_channel_pace (channel, next_ms) values (${channel}, ${nowMs + intervalMs})
        on conflict (channel) do update set next_ms = case
          when slack_channel_pace.next_ms < ${nowMs} then ${nowMs + intervalMs}
          else slack_channel_pace.next_ms + ${intervalMs}
        end
        returning next_ms`.execute(db);
      return Number(reserved.rows[0]?.next_ms ?? nowMs + intervalMs) - intervalMs;
    },
  };

  return { rateLimits, slackReplays, channelPace };
}
