// The machine-readable results of `npm run bench -- --json`: every figure with its per-round values, their median and
// spread, the 1-minute load average around it, and the run's context. Plain data, no Temporal: the table generator and
// its test read it without starting anything.
import { loadavg } from 'node:os';
import { median } from './stats';

/** A goal or a bar: the median must be at least (`>=`) or at most (`<=`) `value`. */
export interface Threshold {
  op: '>=' | '<=';
  value: number;
}

/** Which side of a comparison a measure belongs to. */
export type MetricRole = 'governed' | 'hand-built' | 'bare' | 'comparison' | 'measure';

/** One measure of a figure: its value in every round, and their median, minimum and maximum. */
export interface Metric {
  name: string;
  unit: string;
  role: MetricRole;
  /** Decimals when shown. */
  digits: number;
  rounds: number[];
  median: number;
  min: number;
  max: number;
  goal?: Threshold;
  bar?: Threshold;
}

/** One benchmark figure (B1, B2, …): its measures and the load average at its start and end. */
export interface Figure {
  id: string;
  title: string;
  /** How the figure was taken: sample counts, codec state, what the baselines are. */
  notes: string[];
  load: { start: number; end: number };
  metrics: Metric[];
}

/** One `npm run bench` run. */
export interface BenchResults {
  version: 1;
  startedAt: string;
  finishedAt: string;
  /** False when the run stopped before its last figure (the figures measured so far are kept). */
  complete: boolean;
  quick: boolean;
  node: string;
  commit: string;
  machine: { platform: string; arch: string; cpus: number };
  load: { start: number; end: number };
  figures: Figure[];
}

/** The 1-minute load average now. */
export function loadNow(): number {
  return loadavg()[0] ?? Number.NaN;
}

/** A measure from its per-round values. */
export function metric(
  name: string,
  unit: string,
  role: MetricRole,
  rounds: readonly number[],
  extra: { digits?: number; goal?: Threshold; bar?: Threshold } = {},
): Metric {
  const finite = rounds.filter((v) => Number.isFinite(v));
  return {
    name,
    unit,
    role,
    digits: extra.digits ?? 2,
    rounds: [...rounds],
    median: median(finite),
    min: finite.length > 0 ? Math.min(...finite) : Number.NaN,
    max: finite.length > 0 ? Math.max(...finite) : Number.NaN,
    ...(extra.goal ? { goal: extra.goal } : {}),
    ...(extra.bar ? { bar: extra.bar } : {}),
  };
}

/** Per-round ratios a[i] / b[i]. */
export function ratios(a: readonly number[], b: readonly number[]): number[] {
  return a.map((v, i) => v / (b[i] ?? Number.NaN));
}

/** Per-round differences a[i] − b[i]. */
export function differences(a: readonly number[], b: readonly number[]): number[] {
  return a.map((v, i) => v - (b[i] ?? Number.NaN));
}

/** Whether `value` meets `threshold`. */
export function meets(value: number, threshold: Threshold): boolean {
  return threshold.op === '>=' ? value >= threshold.value : value <= threshold.value;
}
