// One error handler for the whole API: every failure leaves as RFC 9457 problem+json and is logged exactly once,
// without secrets and without parameters (field paths only, never field values).
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { AppError, type ErrorCode } from '../errors';
import type { Logger } from '../logger';
import { isTemporalUnavailable } from '../temporal/adapter';
import type { Problem } from './schemas';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const TITLES: Record<ErrorCode, string> = {
  bad_request: 'Bad request',
  malformed_json: 'Malformed JSON',
  invalid_encoding: 'Invalid encoding',
  invalid_text: 'Invalid text',
  nesting_too_deep: 'Nesting too deep',
  request_timeout: 'Request timeout',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  conflict: 'Conflict',
  idempotency_mismatch: 'Idempotency key reused',
  unknown_action: 'Unknown action',
  invalid_params: 'Invalid parameters',
  validation_failed: 'Validation failed',
  decision_refused: 'Decision refused',
  rate_limited: 'Too many requests',
  not_ready: 'Service not ready',
  config_invalid: 'Configuration invalid',
  internal: 'Internal error',
};

/** Node socket errors and PostgreSQL SQLSTATE classes that mean the database cannot be reached right now. */
const DATABASE_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);
const DATABASE_DOWN_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|database is locked|SQLITE_BUSY|SQLITE_CANTOPEN|SQLITE_IOERR/i;

/** The `type` URI of a problem code. */
export function problemType(code: ErrorCode): string {
  return `urn:countersign:problem:${code}`;
}

/** Any thrown value as an AppError: body-parser and Temporal failures get their stable codes, the rest is internal. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const parserType = bodyParserType(err);
  switch (parserType) {
    case 'entity.parse.failed': {
      // JSON.parse messages quote the body, which may hold anything: only the position is kept.
      const position = /position (\d+)/.exec(err instanceof Error ? err.message : '')?.[1];
      return new AppError('malformed_json', 'the request body is not valid JSON', {
        errors: [{ path: 'body', message: position ? `not valid JSON (at position ${position})` : 'not valid JSON' }],
      });
    }
    case 'entity.too.large':
      return new AppError('payload_too_large', 'the request body exceeds 64 KiB', {
        errors: [{ path: 'body', message: 'larger than 64 KiB' }],
      });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('unsupported_media_type', 'the request body’s encoding or charset is not supported', {
        errors: [{ path: 'Content-Type', message: 'use application/json in UTF-8' }],
      });
    case undefined:
      break;
    default:
      return new AppError('bad_request', 'the request body could not be read', {
        errors: [{ path: 'body', message: parserType }],
      });
  }
  if (isTemporalUnavailable(err)) {
    return new AppError('not_ready', 'Temporal is not reachable right now; try again', {
      cause: err,
      headers: { 'Retry-After': '5' },
    });
  }
  if (isDatabaseUnavailable(err)) {
    return new AppError('not_ready', 'the registry database is not reachable right now; try again', {
      cause: err,
      headers: { 'Retry-After': '5' },
    });
  }
  return new AppError('internal', 'internal error', { cause: err });
}

/** True for errors that mean the registry database could not be reached (not for a bad query). */
export function isDatabaseUnavailable(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    const { code, message, errors } = current as { code?: unknown; message?: unknown; errors?: unknown };
    if (typeof code === 'string' && (DATABASE_DOWN_CODES.has(code) || code.startsWith('08'))) return true;
    if (typeof message === 'string' && DATABASE_DOWN_MESSAGES.test(message)) return true;
    // AggregateError (pg connecting to several addresses)
    if (Array.isArray(errors) && errors.some((e) => isDatabaseUnavailable(e))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** The problem document for an error at a request path. */
export function problemFor(error: AppError, instance: string): Problem {
  return {
    type: problemType(error.code),
    title: TITLES[error.code],
    status: error.status,
    detail: error.message,
    instance,
    code: error.code,
    errors: error.errors,
  };
}

/** Answers routes that do not exist. */
export function notFoundHandler(): RequestHandler {
  return (req, _res, next) => {
    next(new AppError('not_found', `no route for ${req.method} ${pathOf(req)}`));
  };
}

/** The last middleware: maps, logs once, answers problem+json. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    const error = toAppError(err);
    const fields = {
      code: error.code,
      status: error.status,
      method: req.method,
      path: pathOf(req),
      errors: error.errors.map((e) => e.path),
    };
    if (error.status >= 500) logger.error({ ...fields, err: error.cause ?? error }, error.message);
    else logger.info(fields, `request refused: ${error.message}`);
    if (res.headersSent) {
      next(err);
      return;
    }
    res
      .status(error.status)
      .set(error.headers)
      .type(PROBLEM_CONTENT_TYPE)
      .json(problemFor(error, pathOf(req)));
  };
}

/** The request path without its query string. */
export function pathOf(req: Request): string {
  return req.originalUrl.split('?')[0] ?? req.originalUrl;
}

function bodyParserType(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { type, status } = err as { type?: unknown; status?: unknown };
  return typeof type === 'string' && typeof status === 'number' ? type : undefined;
}
