// The `http` connector: calls an internal API with a credential that only this activity ever holds.
import { ApplicationFailure } from '@temporalio/activity';
import type { ActionConfig, ConnectorConfig } from '../../src/config/schema';
import { templatePathOf } from '../../src/contracts/names';
import type { ExecuteActionInput, ExecutionOutcome } from '../../src/contracts/types';
import { injectTraceHeaders, inSpan, SpanKind } from '../../src/tracing';

type HttpConnector = Extract<ConnectorConfig, { type: 'http' }>;

/** Largest response excerpt kept in the outcome (the outcome lands in workflow history). */
export const SUMMARY_LIMIT = 512;

export interface HttpCallDeps {
  fetch: typeof fetch;
  /** Attempt number, for the outcome record. */
  attempt: number;
  /** Extra headers (an approval receipt, say) computed per call. */
  extraHeaders?: Record<string, string>;
  /** The clock, for Retry-After dates. */
  now?: () => number;
  /** Texts that must not leave in the outcome or an error (opened secret parameters), besides the credential. */
  secrets?: readonly string[];
}

/** Builds the URL from the template; only declared `{placeholders}` are filled, each URL-encoded. */
export function renderUrl(template: string, params: Record<string, unknown>): { url: URL; used: Set<string> } {
  const used = new Set<string>();
  const rendered = template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = params[name];
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw ApplicationFailure.create({
        type: 'ConnectorMisconfigured',
        message: `URL placeholder {${name}} has no string or number parameter`,
        nonRetryable: true,
      });
    }
    used.add(name);
    return encodeURIComponent(String(value));
  });
  let url: URL;
  try {
    url = new URL(rendered);
  } catch {
    throw ApplicationFailure.create({
      type: 'ConnectorMisconfigured',
      message: 'URL template is not a URL',
      nonRetryable: true,
    });
  }
  return { url, used };
}

/** True when the URL's host (with or without port) is on the allowlist. */
export function hostAllowed(url: URL, allowedHosts: readonly string[]): boolean {
  return allowedHosts.includes(url.host) || allowedHosts.includes(url.hostname);
}

/**
 * Executes one call. Failures carry a type saying whether the call may have arrived: `DownstreamUnreachable` (not
 * sent), `DownstreamTimeout` (may have arrived), `DownstreamBusy` (429/503, details: status and Retry-After ms),
 * `DownstreamUnavailable` (other 5xx), `DownstreamRejected` (other non-2xx, for good).
 */
export async function executeHttpAction(
  input: ExecuteActionInput,
  action: ActionConfig,
  connector: HttpConnector,
  credential: string | undefined,
  deps: HttpCallDeps,
): Promise<ExecutionOutcome> {
  const template = action.http;
  if (!template) {
    throw ApplicationFailure.create({
      type: 'ConnectorMisconfigured',
      message: 'action has no http template',
      nonRetryable: true,
    });
  }
  const { url, used } = renderUrl(template.url, input.params);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw ApplicationFailure.create({
      type: 'ConnectorMisconfigured',
      message: 'only http and https',
      nonRetryable: true,
    });
  }
  if (!hostAllowed(url, connector.allowedHosts)) {
    throw ApplicationFailure.create({
      type: 'ConnectorMisconfigured',
      message: `host ${url.host} is not in the connector's allowedHosts`,
      nonRetryable: true,
    });
  }

  const hidden = [...(credential !== undefined ? [credential] : []), ...(deps.secrets ?? [])];
  const headers: Record<string, string> = {
    ...template.headers,
    ...deps.extraHeaders,
    'Idempotency-Key': input.requestId,
    'Countersign-Request-Id': input.requestId,
    'User-Agent': 'countersign',
  };
  if (credential !== undefined) {
    headers[connector.auth.header] = connector.auth.scheme ? `${connector.auth.scheme} ${credential}` : credential;
  }
  let body: string | undefined;
  if (template.body === 'params' && template.method !== 'GET') {
    body = JSON.stringify(Object.fromEntries(Object.entries(input.params).filter(([k]) => !used.has(k))));
    headers['Content-Type'] = 'application/json';
  }

  // The downstream call is a client span of the request's trace; its W3C `traceparent` goes with the call. The name
  // and attributes carry the URL template's path and the host, never a parameter value.
  const templatePath = templatePathOf(template.url);
  const call = () =>
    inSpan(
      `${template.method} ${templatePath}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': template.method,
          'server.address': url.hostname,
          'url.template': templatePath,
          'countersign.connector': input.connector,
          'countersign.request_id': input.requestId,
        },
      },
      async (span) => {
        injectTraceHeaders(headers);
        const answer = await deps.fetch(url, {
          method: template.method,
          headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(connector.timeout),
        });
        span?.setAttribute('http.response.status_code', answer.status);
        return answer;
      },
    );
  let response: Response;
  try {
    response = await call();
  } catch (err) {
    const where = redact(`${template.method} ${url.host}${url.pathname}`, hidden);
    // Refused or unresolvable before anything was sent: safe to try again whatever the downstream does with retries.
    if (failedBeforeSending(err)) {
      throw ApplicationFailure.create({
        type: 'DownstreamUnreachable',
        message: `${where}: ${networkErrorText(err)}`,
        nonRetryable: false,
      });
    }
    // A timeout or a reset after connecting: the call may have arrived.
    throw ApplicationFailure.create({
      type: 'DownstreamTimeout',
      message: `${where}: ${networkErrorText(err)}`,
      nonRetryable: false,
    });
  }
  const text = redact(await readBounded(response), hidden);
  const summary = `HTTP ${response.status}${text ? `: ${text}` : ''}`;
  // The status rides along as the failure's detail so the recorded outcome keeps it.
  if (response.status === 429 || response.status === 503) {
    // "Not now": the downstream declined the call without acting on it, so it is retried, after Retry-After if given.
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), deps.now?.() ?? Date.now());
    throw ApplicationFailure.create({
      type: 'DownstreamBusy',
      message: summary,
      nonRetryable: false,
      details: retryAfterMs !== undefined ? [response.status, retryAfterMs] : [response.status],
    });
  }
  if (response.status >= 500) {
    throw ApplicationFailure.create({
      type: 'DownstreamUnavailable',
      message: summary,
      nonRetryable: false,
      details: [response.status],
    });
  }
  if (response.status >= 300) {
    throw ApplicationFailure.create({
      type: 'DownstreamRejected',
      message: summary,
      nonRetryable: true,
      details: [response.status],
    });
  }
  return { ok: true, status: response.status, summary, attempts: deps.attempt };
}

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, in ms from now; undefined when absent or invalid. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

// Errors raised while connecting, before a byte of the request left: the downstream cannot have acted on it.
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function failedBeforeSending(err: unknown): boolean {
  if (!(err instanceof Error) || err.name === 'TimeoutError' || err.name === 'AbortError') return false;
  const cause = err.cause as { code?: string; errors?: { code?: string }[] } | undefined;
  if (cause?.code && NOT_SENT_CODES.has(cause.code)) return true;
  // Happy eyeballs tries several addresses; refused on every one is still refused.
  return Boolean(cause?.errors?.length && cause.errors.every((e) => e.code && NOT_SENT_CODES.has(e.code)));
}

async function readBounded(response: Response): Promise<string> {
  try {
    const text = await response.text();
    const oneLine = text.replace(/\s+/g, ' ').trim();
    return oneLine.length > SUMMARY_LIMIT ? `${oneLine.slice(0, SUMMARY_LIMIT)}…` : oneLine;
  } catch {
    return '';
  }
}

function redact(text: string, hidden: readonly string[]): string {
  // Longest first, so a secret containing another is replaced whole.
  const sorted = hidden.filter((h) => h.length >= 4).sort((a, b) => b.length - a.length);
  return sorted.reduce((t, h) => t.split(h).join('[redacted]'), text);
}

function networkErrorText(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'timed out';
    const cause = err.cause as { code?: string } | undefined;
    return cause?.code ?? err.message;
  }
  return 'network error';
}
