// Slack accepts about one message per second per channel. Every write to a channel goes through its own lane here,
// so a burst of requests to one channel is spread out instead of answered by a storm of 429s.

export interface ChannelPacer {
  /** Runs `task` in the channel's lane, starting no sooner than `intervalMs` after the lane's previous task started. */
  run<T>(channel: string, task: () => Promise<T>): Promise<T>;
  /** Tasks queued or running, across channels. */
  readonly pending: number;
}

interface Lane {
  tail: Promise<void>;
  lastStart: number;
  queued: number;
}

/** A per-channel pacer; `intervalMs` 0 disables pacing. */
export function createChannelPacer(options: { intervalMs: number; now?: () => number }): ChannelPacer {
  const now = options.now ?? Date.now;
  const lanes = new Map<string, Lane>();
  let pending = 0;

  const prune = () => {
    for (const [channel, lane] of lanes) {
      if (lane.queued === 0 && now() - lane.lastStart > options.intervalMs) lanes.delete(channel);
    }
  };

  return {
    run<T>(channel: string, task: () => Promise<T>): Promise<T> {
      if (lanes.size > 1000) prune();
      let lane = lanes.get(channel);
      if (!lane) {
        lane = { tail: Promise.resolve(), lastStart: 0, queued: 0 };
        lanes.set(channel, lane);
      }
      const current = lane;
      current.queued += 1;
      pending += 1;
      const result = current.tail.then(async () => {
        const wait = current.lastStart + options.intervalMs - now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        current.lastStart = now();
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
