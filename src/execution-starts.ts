// News, inside one process, that a request's execution has started: work an approval sets off beside the execution
// (the Slack clicker's confirmation) waits for it, so the connector's activity, handed to the worker moments after
// the approval is answered, gets the process first. Dev mode wires one board to both its Slack app and its connector
// workers; a process without connectors has none and waits for nothing.

/** How many recent starts are remembered for a waiter that asks after the start (the activity can come first). */
const REMEMBERED = 256;

export interface ExecutionStarts {
  /** A connector call for `requestId` is about to go out (every attempt says so; the first one counts). */
  started(requestId: string): void;
  /**
   * Resolves once `requestId`'s execution has started in this process (true) or after `timeoutMs` (false). Waiters
   * are told on the next turn of the event loop, after the call the start announced has been sent.
   */
  whenStarted(requestId: string, timeoutMs: number): Promise<boolean>;
}

export function createExecutionStarts(): ExecutionStarts {
  const recent = new Set<string>();
  const waiting = new Map<string, Set<(started: boolean) => void>>();
  return {
    started(requestId) {
      if (!recent.has(requestId)) {
        recent.add(requestId);
        if (recent.size > REMEMBERED) recent.delete(recent.values().next().value as string);
      }
      const waiters = waiting.get(requestId);
      if (!waiters) return;
      waiting.delete(requestId);
      setImmediate(() => {
        for (const tell of waiters) tell(true);
      });
    },
    whenStarted(requestId, timeoutMs) {
      if (recent.has(requestId)) return Promise.resolve(true);
      return new Promise((resolve) => {
        const waiters = waiting.get(requestId) ?? new Set<(started: boolean) => void>();
        waiting.set(requestId, waiters);
        const timer = setTimeout(() => {
          waiters.delete(tell);
          if (waiters.size === 0 && waiting.get(requestId) === waiters) waiting.delete(requestId);
          resolve(false);
        }, timeoutMs);
        const tell = (started: boolean) => {
          clearTimeout(timer);
          resolve(started);
        };
        waiters.add(tell);
      });
    },
  };
}
