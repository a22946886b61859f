// Dev mode's log output: the same pino records (redaction already applied), shown as one short line each so the
// start-up banner and the request trail stay readable in a terminal. Production keeps JSON lines.
import { Writable } from 'node:stream';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'msg', 'name', 'pid', 'hostname', 'temporal']);

/** Formats one pino JSON record as `HH:MM:SS LEVEL message key=value …`; other text passes through. */
export function formatLogLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 19) : '';
  const level = (
    typeof record.level === 'string' ? record.level.toUpperCase() : (LEVELS[Number(record.level)] ?? 'INFO')
  ).padEnd(5);
  const fields = Object.entries(record)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const message = typeof record.msg === 'string' ? record.msg : '';
  return [time, level, message, ...fields].filter(Boolean).join(' ');
}

/** A destination for createLogger that writes formatted lines to `out` (stderr by default). */
export function createDevLogStream(out: NodeJS.WritableStream = process.stderr): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line) out.write(`${formatLogLine(line)}\n`);
      done();
    },
  });
}
