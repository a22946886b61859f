// Small statistics helpers for the benchmarks.

/** The q-quantile (0..1) of a list of numbers. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** Runs `task` for every item with at most `concurrency` in flight. */
export async function pool<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  });
  await Promise.all(runners);
}

/** Formats a number with a fixed number of decimals. */
export function fmt(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

const noop = () => undefined;
/** A logger for the SDK's bundler and workers that says nothing (benchmarks print only their figures). */
export const quiet = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

/** The median of a list of numbers (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Splits samples into `rounds` consecutive rounds of (nearly) equal size. */
export function splitRounds<T>(values: readonly T[], rounds: number): T[][] {
  const size = Math.ceil(values.length / rounds);
  return Array.from({ length: rounds }, (_, r) => values.slice(r * size, (r + 1) * size)).filter((r) => r.length > 0);
}
