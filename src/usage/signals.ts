// Anomaly signals: facts about a request relative to its agent's own history, computed before the decision, readable
// in rules as `signals.*` and kept with the decision. They inform policy; on their own they decide nothing.
import type { SignalsConfig } from '../config/schema';
import type { RequestSignals } from '../contracts/types';
import type { RefusalStore } from './refusals';
import type { UsageStore } from './store';

type WorkingHours = NonNullable<SignalsConfig['workingHours']>;

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** Computes the signals of a request by `agentId` for `action` arriving at `at`. */
export async function computeSignals(
  store: UsageStore,
  config: SignalsConfig,
  request: { agentId: string; action: string; at: Date },
  refusals?: Pick<RefusalStore, 'count'>,
): Promise<RequestSignals> {
  const { window, lookback, factor, minimum } = config.volume;
  const now = request.at.getTime();
  const windowStart = new Date(now - window);
  const [used, recent, first, recentRefusals] = await Promise.all([
    store.hasExecuted(request.agentId, request.action),
    store.count({ agentId: request.agentId, since: windowStart }),
    store.firstExecutionAt(request.agentId),
    refusals ? refusals.count(request.agentId, new Date(now - config.refusals.window)) : Promise.resolve(0),
  ]);

  // The baseline covers the lookback before the recent window, or less for a young agent: an agent is compared
  // with its own habits only for as long as it has had any, and never over less than one window.
  let baselineVolume = 0;
  if (first && first < windowStart) {
    const since = new Date(Math.max(now - lookback, first.getTime()));
    const before = await store.count({ agentId: request.agentId, since, until: windowStart });
    baselineVolume = before / Math.max((windowStart.getTime() - since.getTime()) / window, 1);
  }
  const recentVolume = recent + 1;
  const signals = {
    firstUse: !used,
    volumeAboveBaseline: recentVolume > Math.max(minimum, factor * baselineVolume),
    outsideWorkingHours: outsideWorkingHours(request.at, config.workingHours),
    recentVolume,
    baselineVolume: Math.round(baselineVolume * 100) / 100,
    repeatedRefusals: recentRefusals >= config.refusals.threshold,
    recentRefusals,
  };
  const raised = (['firstUse', 'volumeAboveBaseline', 'outsideWorkingHours', 'repeatedRefusals'] as const).filter(
    (s) => signals[s],
  );
  return { ...signals, raised };
}

/** True when `at` falls outside the working hours (false when none are configured). */
export function outsideWorkingHours(at: Date, hours: WorkingHours | undefined): boolean {
  if (!hours) return false;
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: hours.timezone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = WEEKDAYS.findIndex((d) => d === part('weekday').toLowerCase().slice(0, 3));
  const minutes = Number(part('hour')) * 60 + Number(part('minute'));
  const start = toMinutes(hours.start);
  const end = toMinutes(hours.end);
  const works = (d: number) => hours.days.includes(WEEKDAYS[(d + 7) % 7]!);
  if (start === end) return !works(day);
  if (start < end) return !(works(day) && minutes >= start && minutes < end);
  // A night shift: from `start` on a working day until `end` the next morning.
  return !((works(day) && minutes >= start) || (works(day - 1) && minutes < end));
}

function toMinutes(clock: string): number {
  const [h, m] = clock.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}
