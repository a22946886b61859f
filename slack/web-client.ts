// The Slack Web API client: base URL from SLACK_API_URL, retries with backoff, 429s honoured through Retry-After
// (the client pauses its queue for the advertised time, then retries), and a timeout so a hanging Slack fails fast.
import { webApi } from '@slack/bolt';
import type { Logger } from '../src/logger';
import { createSlackLogger } from './logger';

export type WebClient = webApi.WebClient;
export type RetryOptions = webApi.RetryOptions;

/** Five attempts over about a minute; the notification activity's own retries take over after that. */
export const DEFAULT_RETRY: RetryOptions = {
  retries: 4,
  factor: 2,
  minTimeout: 1_000,
  maxTimeout: 15_000,
  randomize: true,
};
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface SlackClientOptions {
  token: string;
  /** Slack Web API base URL (SLACK_API_URL); Slack's own when unset. */
  apiUrl?: string;
  logger: Logger;
  retryConfig?: RetryOptions;
  timeoutMs?: number;
  /**
   * For the notifier's writes: no retries of the client's own, 429s rejected with their Retry-After, so the caller
   * retries each attempt through its per-channel pacing.
   */
  unretried?: boolean;
  /** Told of every call that failed (after the client's retries) or was rate limited, by method. */
  onApiError?: SlackApiErrorObserver;
}

/** Receives a Web API method (`chat.postMessage`) and Slack's error (`channel_not_found`, `ratelimited`, …). */
export type SlackApiErrorObserver = (method: string, error: string) => void;

/** The WebClient options Countersign uses everywhere (notifier and Bolt). */
export function slackClientOptions(options: Omit<SlackClientOptions, 'token'>): webApi.WebClientOptions {
  return {
    ...(options.apiUrl ? { slackApiUrl: withTrailingSlash(options.apiUrl) } : {}),
    logger: createSlackLogger(options.logger),
    retryConfig: options.unretried ? { retries: 0 } : (options.retryConfig ?? DEFAULT_RETRY),
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    rejectRateLimitedCalls: options.unretried ?? false,
  };
}

/** Creates a Web API client with Countersign's options. */
export function createSlackWebClient(options: SlackClientOptions): WebClient {
  const onApiError = options.onApiError;
  if (!onApiError) return new webApi.WebClient(options.token, slackClientOptions(options));
  const client = new ObservedWebClient(options.token, slackClientOptions(options), onApiError);
  client.on(webApi.WebClientEvent.RATE_LIMITED, (_retrySeconds: number, { url }: { url: string }) => {
    onApiError(url.replace(/^.*\//, ''), 'ratelimited');
  });
  return client;
}

/** Every Web API method goes through apiCall: failures are reported there, then rethrown unchanged. */
class ObservedWebClient extends webApi.WebClient {
  constructor(
    token: string,
    options: webApi.WebClientOptions,
    private readonly onApiError: SlackApiErrorObserver,
  ) {
    super(token, options);
  }

  override async apiCall(method: string, options?: Record<string, unknown>): Promise<webApi.WebAPICallResult> {
    try {
      return await super.apiCall(method, options);
    } catch (err) {
      this.onApiError(method, slackErrorOf(err));
      throw err;
    }
  }
}

/** Slack's own error code for a platform error; the client's error kind otherwise (bounded, for a metric label). */
function slackErrorOf(err: unknown): string {
  const e = err as { code?: string; data?: { error?: unknown }; statusCode?: unknown };
  if (e.code === webApi.ErrorCode.PlatformError && typeof e.data?.error === 'string') return e.data.error.slice(0, 64);
  if (e.code === webApi.ErrorCode.HTTPError) return `http_${typeof e.statusCode === 'number' ? e.statusCode : 'error'}`;
  if (e.code === webApi.ErrorCode.RateLimitedError) return 'ratelimited';
  if (e.code === webApi.ErrorCode.RequestError) return 'request_error';
  return 'error';
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
