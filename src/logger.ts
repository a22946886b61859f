// The one structured logger. Tokens, secrets and action parameters are redacted wherever they appear by key.
import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger };

/** Keys whose values never reach a log line. */
export const REDACTED_PATHS = [
  'params',
  '*.params',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'apiKey',
  '*.apiKey',
  'credential',
  '*.credential',
  'clientSecret',
  '*.clientSecret',
];

/** Creates the process logger; pass a destination to capture lines (tests do). */
export function createLogger(options: { level?: string; name?: string } = {}, destination?: DestinationStream): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    name: options.name ?? 'countersign',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: undefined,
  };
  return destination ? pino(opts, destination) : pino(opts);
}
