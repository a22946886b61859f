// Sends one completion webhook attempt: resolves the agent's signing secret, signs the body per Standard Webhooks
// (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`) and POSTs it
// to an address the callback policy allows. The secret never leaves this module: not in a log, an error or a result.
import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { CredentialResolver } from '../../activities/connectors';
import type { WebhooksConfig } from '../config/schema';
import type { WebhookDeliveryInput } from '../contracts/types';
import type { Logger } from '../logger';
import { addressProblem, bareHostname, callbackUrlProblem } from './callback-url';

/** How an attempt went; `retryable: false` means another attempt cannot succeed (misconfigured, refused URL). */
export type WebhookAttempt =
  { ok: true; status: number } | { ok: false; retryable: boolean; reason: string; status?: number };

/** What the webhook metric counts: a delivered event, an attempt to be retried, a delivery given up. */
export type WebhookOutcome = 'delivered' | 'retrying' | 'failed';

export interface WebhookSenderDeps {
  config: WebhooksConfig;
  credentials: CredentialResolver;
  logger: Logger;
  /** Told how each attempt (and each given-up delivery) ended: the webhook deliveries metric. */
  observe?: (outcome: WebhookOutcome) => void;
  /** The User-Agent of deliveries. */
  userAgent?: string;
}

export interface WebhookSender {
  /** One delivery attempt. */
  attempt(input: WebhookDeliveryInput, attempt: number): Promise<WebhookAttempt>;
  /** A delivery was given up after its last attempt. */
  gaveUp(input: { deliveryId: string; requestId: string; reason: string }): void;
}

/** The `webhook-signature` header value (Standard Webhooks `v1`). */
export function signWebhookBody(secret: Buffer, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', secret).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** The key bytes of a `whsec_…` secret (the prefix is optional); undefined when it is not base64 of 24+ bytes. */
export function webhookKey(secret: string): Buffer | undefined {
  const text = secret.trim().replace(/^whsec_/, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const key = Buffer.from(text, 'base64');
  return key.length >= 24 ? key : undefined;
}

/** The webhook sender the control worker's delivery activity uses. */
export function createWebhookSender(deps: WebhookSenderDeps): WebhookSender {
  const { config } = deps;
  const keys = new Map<string, Buffer>();

  async function keyOf(agentId: string, requestId: string): Promise<Buffer | undefined> {
    const ref = config.agentSecrets[agentId] ?? config.secret;
    if (!ref) return undefined;
    const cacheKey = JSON.stringify(ref);
    const cached = keys.get(cacheKey);
    if (cached) return cached;
    const key = webhookKey(await deps.credentials.resolve(ref, requestId));
    if (key) keys.set(cacheKey, key);
    return key;
  }

  return {
    async attempt(input, attempt) {
      const log = deps.logger.child({ requestId: input.requestId, deliveryId: input.deliveryId, attempt });
      const refuse = (reason: string): WebhookAttempt => {
        log.warn({ reason }, 'webhook not sent');
        return { ok: false, retryable: false, reason };
      };
      const problem = callbackUrlProblem(input.callback.url, config);
      if (problem) return refuse(`callback URL refused: ${problem}`);
      let key: Buffer | undefined;
      try {
        key = await keyOf(input.agentId, input.requestId);
      } catch (err) {
        return refuse(`signing secret unavailable: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!key) return refuse(`no valid signing secret for agent ${input.agentId} (webhooks.secret, whsec_ base64)`);

      const body = JSON.stringify(input.event);
      const timestamp = Math.floor(Date.now() / 1000);
      const headers = {
        'content-type': 'application/json',
        'user-agent': deps.userAgent ?? 'Countersign-Webhooks/1',
        'webhook-id': input.deliveryId,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhookBody(key, input.deliveryId, timestamp, body),
      };
      const result = await post(new URL(input.callback.url), headers, body, input.callback.timeoutMs, config);
      if (result.ok) {
        deps.observe?.('delivered');
        log.info({ status: result.status }, 'webhook delivered');
      } else if (result.retryable) {
        deps.observe?.('retrying');
        log.warn({ status: result.status, reason: result.reason }, 'webhook attempt failed; retrying');
      } else {
        log.warn({ reason: result.reason }, 'webhook not sent');
      }
      return result;
    },
    gaveUp(input) {
      deps.observe?.('failed');
      deps.logger.warn(
        { requestId: input.requestId, deliveryId: input.deliveryId, reason: input.reason },
        'webhook delivery given up',
      );
    },
  };
}

/** One POST; resolves with how it ended, never rejects. Redirects are not followed (a 3xx is a failed attempt). */
function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  policy: WebhooksConfig,
): Promise<WebhookAttempt> {
  const literal = bareHostname(url);
  if (isIP(literal) !== 0) {
    const problem = addressProblem(url, literal, policy);
    if (problem) return Promise.resolve({ ok: false, retryable: false, reason: problem });
  }
  let refused: string | undefined;
  // Every address the name resolves to must be allowed, and the connection goes to one of exactly those.
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const bad = addresses.map((a) => addressProblem(url, a.address, policy)).find(Boolean);
      if (bad) {
        refused = bad;
        return callback(Object.assign(new Error(bad), { code: 'ECALLBACKREFUSED' }), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      return callback(null, first.address, first.family);
    });
  };
  const options: RequestOptions = {
    method: 'POST',
    headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
    timeout: timeoutMs,
    lookup,
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = send(url, options, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      res.on('end', () => {
        if (status >= 200 && status < 300) resolve({ ok: true, status });
        else resolve({ ok: false, retryable: true, status, reason: `receiver answered HTTP ${status}` });
      });
      res.on('error', () => resolve({ ok: false, retryable: true, status, reason: 'response interrupted' }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (refused) resolve({ ok: false, retryable: false, reason: refused });
      else resolve({ ok: false, retryable: true, reason: err.code ? `${err.code}: ${err.message}` : err.message });
    });
    req.end(body);
  });
}
