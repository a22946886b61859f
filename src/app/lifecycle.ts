// Process lifecycle: wait for Ctrl-C or a stop signal, then run the shutdown steps in order, each with a deadline,
// so one stuck step cannot keep the process alive. Another Ctrl-C after a moment exits at once.
import type { Logger } from '../logger';

/** One named shutdown step. */
export interface ShutdownStep {
  name: string;
  run: () => Promise<void>;
}

/**
 * Resolves with the signal's name on the first SIGINT or SIGTERM. One Ctrl-C often arrives more than once (the
 * terminal signals the whole process group and `npm start` forwards it as well), so repeats within `debounceMs` are
 * ignored; a later one means "stop now" and calls `onForce` (exit 130 by default).
 */
export function waitForStopSignal(
  onForce: () => void = () => process.exit(130),
  debounceMs = 1500,
): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let firstAt: number | undefined;
    const handler = (signal: NodeJS.Signals) => {
      if (firstAt === undefined) {
        firstAt = Date.now();
        resolve(signal);
      } else if (Date.now() - firstAt > debounceMs) {
        onForce();
      }
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

/** Runs the steps in order; a step that fails or overruns `timeoutMs` is logged and the next one still runs. */
export async function runShutdown(
  steps: readonly ShutdownStep[],
  logger: Logger,
  timeoutMs = 15_000,
): Promise<boolean> {
  let clean = true;
  for (const step of steps) {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        step.run(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`did not finish within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      logger.debug({ step: step.name }, 'stopped');
    } catch (err) {
      clean = false;
      logger.warn({ step: step.name, err: err instanceof Error ? err.message : String(err) }, 'shutdown step failed');
    } finally {
      clearTimeout(timer);
    }
  }
  return clean;
}
