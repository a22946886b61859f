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
}

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
  return new webApi.WebClient(options.token, slackClientOptions(options));
}

function withTrailingSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
