// Slack accepts about one message per second per channel. Every write to a channel goes through its own lane here,
// so a burst of requests to one channel is spread out instead of answered by a storm of 429s. The channel's send
// slots come from a ChannelPaceStore: the database in every process (src/replica-state), so API replicas and workers
// writing to one channel share its pace; this process's memory when none is given.

export interface ChannelPacer {
  /** Runs `task` in the channel's lane, starting no sooner than `intervalMs` after the lane's previous task started. */
  run<T>(channel: string, task: () => Promise<T>): Promise<T>;
  /** Tasks queued or running, across channels. */
  readonly pending: number;
}

/** Hands out each channel's send slots, `intervalMs` apart, to everyone sharing the store. */
export interface ChannelPaceStore {
  /** Reserves the channel's next free slot at or after `nowMs`; resolves with the slot's start (epoch ms). */
  reserve(channel: string, nowMs: number, intervalMs: number): Promise<number>;
}

/** Slots kept in this process's memory (one process's view); idle channels are forgotten. */
export function createMemoryChannelPaceStore(): ChannelPaceStore {
  const next = new Map<string, number>();
  return {
    reserve(channel, nowMs, intervalMs) {
      if (next.size > 1000) for (const [c, at] of next) if (at < nowMs) next.delete(c);
      const start = Math.max(nowMs, next.get(channel) ?? 0);
      next.set(channel, start + intervalMs);
      return Promise.resolve(start);
    },
  };
}

interface Lane {
  tail: Promise<void>;
  queued: number;
}

/** A per-channel pacer; `intervalMs` 0 disables pacing. */
export function createChannelPacer(options: {
  intervalMs: number;
  now?: () => number;
  store?: ChannelPaceStore;
}): ChannelPacer {
  const now = options.now ?? Date.now;
  const store = options.store ?? createMemoryChannelPaceStore();
  const lanes = new Map<string, Lane>();
  let pending = 0;

  const prune = () => {
    for (const [channel, lane] of lanes) if (lane.queued === 0) lanes.delete(channel);
  };

  return {
    run<T>(channel: string, task: () => Promise<T>): Promise<T> {
      if (lanes.size > 1000) prune();
      let lane = lanes.get(channel);
      if (!lane) {
        lane = { tail: Promise.resolve(), queued: 0 };
        lanes.set(channel, lane);
      }
      const current = lane;
      current.queued += 1;
      pending += 1;
      const result = current.tail.then(async () => {
        if (options.intervalMs > 0) {
          const start = await store.reserve(channel, now(), options.intervalMs);
          const wait = start - now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
        return task();
      });
      current.tail = result
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          current.queued -= 1;
          pending -= 1;
        });
      return result;
    },
    get pending() {
      return pending;
    },
  };
}
