// The `http` connector: calls an internal API with a credential that only this activity ever holds.
import { ApplicationFailure } from '@temporalio/activity';
import type { ActionConfig, ConnectorConfig } from '../../src/config/schema';
import type { ExecuteActionInput, ExecutionOutcome } from '../../src/contracts/types';

type HttpConnector = Extract<ConnectorConfig, { type: 'http' }>;

/** Largest response excerpt kept in the outcome (the outcome lands in workflow history). */
export const SUMMARY_LIMIT = 512;

export interface HttpCallDeps {
  fetch: typeof fetch;
  /** Attempt number, for the outcome record. */
  attempt: number;
  /** Extra headers (an approval receipt, say) computed per call. */
  extraHeaders?: Record<string, string>;
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

/** Executes one call. Network errors and 5xx throw retryable failures; 4xx fails for good. */
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

  let response: Response;
  try {
    response = await deps.fetch(url, {
      method: template.method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(connector.timeout),
    });
  } catch (err) {
    // Network errors and timeouts retry: the downstream dedupes on Idempotency-Key.
    throw ApplicationFailure.create({
      type: 'DownstreamUnavailable',
      message: `${template.method} ${url.host}${url.pathname}: ${networkErrorText(err)}`,
      nonRetryable: false,
    });
  }
  const text = redact(await readBounded(response), credential);
  const summary = `HTTP ${response.status}${text ? `: ${text}` : ''}`;
  // The status rides along as the failure's detail so the recorded outcome keeps it.
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

async function readBounded(response: Response): Promise<string> {
  try {
    const text = await response.text();
    const oneLine = text.replace(/\s+/g, ' ').trim();
    return oneLine.length > SUMMARY_LIMIT ? `${oneLine.slice(0, SUMMARY_LIMIT)}…` : oneLine;
  } catch {
    return '';
  }
}

function redact(text: string, credential: string | undefined): string {
  return credential && credential.length >= 4 ? text.split(credential).join('[redacted]') : text;
}

function networkErrorText(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'timed out';
    const cause = err.cause as { code?: string } | undefined;
    return cause?.code ?? err.message;
  }
  return 'network error';
}
