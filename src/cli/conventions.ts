// The CLI's conventions, for every command (including those other modules register): exit codes that say what kind
// of failure it was, `--json` on every command with errors as JSON too, errors on stderr, option values checked
// before any call. A command module uses `parseInteger`/`parseChoice` for option values, throws `CliError` or lets an
// AppError / OperatorApiError through, and prints results with `emit`; runCli maps whatever was thrown here.
import { CommanderError, InvalidArgumentError, Option, type Command } from 'commander';
import { AppError, type ErrorCode } from '../errors';
import { OperatorApiError } from './operator-client';
import type { CliIo } from './output';

/** The exit codes of every `countersign` command (docs/reference/cli.md lists them). */
export const EXIT_CODES = {
  /** It did what was asked. */
  ok: 0,
  /** It ran and the answer is no: an invalid config, a policy test that did not meet --expect, an unexpected error. */
  failed: 1,
  /** The command line is wrong: an unknown command or option, a missing argument, an option value that does not parse. */
  usage: 2,
  /** What it names does not exist (a request, agent, operator, secret, kill switch). */
  notFound: 3,
  /** Refused or in conflict: no or the wrong credentials, not allowed, not pending any more, over the rate limit. */
  refused: 4,
  /** Something it needs is unavailable: the API, Temporal or the database cannot be reached, or is not ready. */
  unavailable: 5,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** What each exit code means, for the generated CLI reference. */
export const EXIT_CODE_MEANINGS: Record<ExitCode, string> = {
  0: 'success',
  1: 'failed: the command ran and the answer is no (invalid config, unmet `--expect`), or an unexpected error',
  2: 'usage error: unknown command or option, missing argument, an option value that does not parse',
  3: 'not found: the request, agent, operator, secret or kill switch does not exist',
  4: 'refused or conflict: missing or wrong credentials, not allowed, no longer pending, rate limited',
  5: 'unavailable: the API, Temporal or the database cannot be reached or is not ready',
};

/** A failure the CLI itself detects, with the exit code and stable code it reports. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    readonly code: string,
    message: string,
    readonly errors: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

const BY_APP_CODE: Partial<Record<ErrorCode, ExitCode>> = {
  bad_request: EXIT_CODES.usage,
  malformed_json: EXIT_CODES.usage,
  unknown_action: EXIT_CODES.usage,
  invalid_params: EXIT_CODES.usage,
  validation_failed: EXIT_CODES.usage,
  not_found: EXIT_CODES.notFound,
  unauthorized: EXIT_CODES.refused,
  forbidden: EXIT_CODES.refused,
  conflict: EXIT_CODES.refused,
  decision_refused: EXIT_CODES.refused,
  idempotency_mismatch: EXIT_CODES.refused,
  rate_limited: EXIT_CODES.refused,
  not_ready: EXIT_CODES.unavailable,
  config_invalid: EXIT_CODES.failed,
};

function byStatus(status: number): ExitCode {
  if (status === 0 || status === 502 || status === 503 || status === 504) return EXIT_CODES.unavailable;
  if (status === 404) return EXIT_CODES.notFound;
  if (status === 400 || status === 413 || status === 415 || status === 422) return EXIT_CODES.usage;
  if (status === 401 || status === 403 || status === 409 || status === 429) return EXIT_CODES.refused;
  return EXIT_CODES.failed;
}

/** Network failures of a database or Temporal client: the thing is unavailable, not the command wrong. */
const UNAVAILABLE_CAUSES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', '57P03']);

/** The error as the CLI reports it: stable code, message, field problems and exit code. */
export interface CliErrorReport {
  code: string;
  message: string;
  exitCode: ExitCode;
  status?: number;
  errors: { path: string; message: string }[];
}

/** Classifies anything a command threw. */
export function describeError(err: unknown): CliErrorReport {
  if (err instanceof CliError) {
    return { code: err.code, message: err.message, exitCode: err.exitCode, errors: err.errors };
  }
  if (err instanceof CommanderError) {
    return { code: err.code, message: err.message.replace(/^error: /, ''), exitCode: EXIT_CODES.usage, errors: [] };
  }
  if (err instanceof AppError) {
    return {
      code: err.code,
      message: err.message,
      exitCode: BY_APP_CODE[err.code] ?? EXIT_CODES.failed,
      status: err.status,
      errors: err.errors,
    };
  }
  if (err instanceof OperatorApiError) {
    const code = typeof err.problem?.code === 'string' ? err.problem.code : undefined;
    const exitCode = (code && BY_APP_CODE[code]) || byStatus(err.status);
    return {
      code: code ?? (err.status === 0 ? 'unreachable' : `http_${err.status}`),
      message: err.message,
      exitCode,
      ...(err.status ? { status: err.status } : {}),
      errors: err.problem?.errors ?? [],
    };
  }
  const cause = (err as { code?: unknown; cause?: { code?: unknown } } | undefined) ?? {};
  const netCode = typeof cause.code === 'string' ? cause.code : cause.cause?.code;
  if (typeof netCode === 'string' && UNAVAILABLE_CAUSES.has(netCode)) {
    return {
      code: 'unavailable',
      message: err instanceof Error ? err.message : String(err),
      exitCode: EXIT_CODES.unavailable,
      errors: [],
    };
  }
  return {
    code: 'internal',
    message: err instanceof Error ? err.message : String(err),
    exitCode: EXIT_CODES.failed,
    errors: [],
  };
}

/** Prints an error on stderr, as `{"error": …}` JSON when `json`, else for a person; returns its exit code. */
export function reportError(io: CliIo, err: unknown, json: boolean): ExitCode {
  const report = describeError(err);
  if (json) {
    io.err(JSON.stringify({ error: report }, null, 2));
    return report.exitCode;
  }
  io.err(`error: ${report.message}`);
  for (const issue of report.errors) io.err(`  ${issue.path || '(root)'}: ${issue.message}`);
  if (err instanceof CommanderError) io.err('(add --help for usage)');
  return report.exitCode;
}

/** True when the command line asks for JSON (`--json` anywhere before a `--`). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** Prints a result: pretty JSON under `--json`, else the text. */
export function emit(io: CliIo, json: boolean | undefined, value: unknown, text: () => string): void {
  io.out(json ? JSON.stringify(value, null, 2) : text());
}

/** An option parser for a positive integer at most `max`; anything else is a usage error before any call. */
export function parseInteger(max = Number.MAX_SAFE_INTEGER, min = 1): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`not a whole number: "${value}"`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}: "${value}"`);
    return n;
  };
}

/** An option parser for a non-empty text (a `--reason ""` is as good as none). */
export function parseText(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('must not be empty');
  return value;
}

/** The `--json` option every command carries. */
export function jsonOption(): Option {
  return new Option('--json', 'print JSON (errors too, on stderr)');
}

/**
 * Gives every runnable command in the tree a `--json` option when it has none, so the convention holds for commands
 * registered by any module; call once after registering everything.
 */
export function ensureJsonEverywhere(root: Command): void {
  const visit = (cmd: Command) => {
    const runnable = cmd.commands.length === 0 && cmd !== root;
    if (runnable && !cmd.options.some((o) => o.long === '--json')) cmd.addOption(jsonOption());
    cmd.commands.forEach(visit);
  };
  visit(root);
}
