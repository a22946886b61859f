// Bolt and the Slack Web API client log through Countersign's logger. Their debug output (request bodies and headers)
// is dropped: it would carry message contents, and the process logger is the one place that decides what is kept.
import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from '../src/logger';

/** Adapts the pino logger to the Slack SDK's logger interface. */
export function createSlackLogger(logger: Logger): SlackLogger {
  const log = logger.child({ component: 'slack' });
  let level = LogLevel.INFO;
  let name = 'slack';
  return {
    debug: () => undefined,
    info: (...msg: unknown[]) => log.info({ sdk: name }, text(msg)),
    warn: (...msg: unknown[]) => log.warn({ sdk: name }, text(msg)),
    error: (...msg: unknown[]) => log.error({ sdk: name }, text(msg)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: (n: string) => {
      name = n;
    },
  };
}

function text(parts: unknown[]): string {
  return parts
    .map((p) => (p instanceof Error ? p.message : typeof p === 'string' ? p : safeJson(p)))
    .join(' ')
    .slice(0, 2000);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // Circular structures (SDK errors carry requests) still deserve a line.
    return String(value);
  }
}
