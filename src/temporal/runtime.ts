// Routes the Temporal SDK's own logs (worker, activities, workflows' `log`) into the Countersign logger.
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../logger';

let installed = false;

/**
 * Installs the Temporal runtime once per process with its log lines forwarded to `logger` at `level` and above, and
 * with `prometheusBindAddress` its metrics exported there (worker processes serve them through their /metrics).
 */
export function installTemporalRuntime(
  logger: Logger,
  level: LogLevel = 'WARN',
  options: { prometheusBindAddress?: string } = {},
): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    ...(options.prometheusBindAddress
      ? {
          telemetryOptions: {
            metrics: {
              // Names and units as Prometheus expects them (`promtool check metrics` clean): counters end in _total,
              // durations are seconds with the unit in the name.
              prometheus: {
                bindAddress: options.prometheusBindAddress,
                countersTotalSuffix: true,
                unitSuffix: true,
                useSecondsForDurations: true,
              },
            },
          },
        }
      : {}),
    logger: new DefaultLogger(level, (entry) => {
      const { message, meta } = entry;
      const fields = { temporal: true, ...(meta ?? {}) };
      switch (entry.level) {
        case 'ERROR':
          logger.error(fields, message);
          break;
        case 'WARN':
          logger.warn(fields, message);
          break;
        case 'INFO':
          logger.info(fields, message);
          break;
        default:
          logger.debug(fields, message);
      }
    }),
  });
}
