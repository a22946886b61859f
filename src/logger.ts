// The one structured logger. Tokens, secrets and action parameters are redacted wherever they appear by key. Levels
// are written by name (`"level":"warn"`), and every line logged while an HTTP request is handled carries its id.
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

/** The request context of the code running now (set by the HTTP layer for each request). */
const requestContext = new AsyncLocalStorage<{ requestId: string }>();

/** Runs `fn` with `requestId` on every log line it (and what it awaits) writes. */
export function withRequestId<T>(requestId: string, fn: () => T): T {
  return requestContext.run({ requestId }, fn);
}

/** The id of the HTTP request being handled, if any. */
export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

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
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => {
      const id = currentRequestId();
      return id ? { httpRequestId: id } : {};
    },
  };
  return destination ? pino(opts, destination) : pino(opts);
}
