// One error class for Node-side code. `code` is stable (clients and tests match on it); the message never holds a secret.

/** Every stable error code, in the order the OpenAPI document lists them. */
export const ERROR_CODES = [
  'bad_request',
  'malformed_json',
  'invalid_encoding',
  'invalid_text',
  'nesting_too_deep',
  'request_timeout',
  'payload_too_large',
  'unsupported_media_type',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'idempotency_mismatch',
  'unknown_action',
  'invalid_params',
  'validation_failed',
  'decision_refused',
  'rate_limited',
  'not_ready',
  'config_invalid',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  malformed_json: 400,
  invalid_encoding: 400,
  invalid_text: 422,
  nesting_too_deep: 422,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  idempotency_mismatch: 422,
  unknown_action: 422,
  invalid_params: 422,
  validation_failed: 422,
  decision_refused: 409,
  rate_limited: 429,
  not_ready: 503,
  config_invalid: 500,
  internal: 500,
};

/** One problem with one field, as `{ path, message }` (RFC 9457 extension member `errors`). */
export interface FieldIssue {
  path: string;
  message: string;
}

/** The error every Node-side module throws; mapped to problem+json by the HTTP error handler. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors: FieldIssue[];
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { errors?: FieldIssue[]; cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = STATUS[code];
    this.errors = options.errors ?? [];
    this.headers = options.headers ?? {};
  }
}

/** Formats a path array as `a.b[0].c`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}
