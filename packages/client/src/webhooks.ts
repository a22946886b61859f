// Standard Webhooks (https://www.standardwebhooks.com): the signature scheme of Countersign's completion events.
// `webhook-signature` is a space-separated list of `v1,<base64 HMAC-SHA256>` over `${webhook-id}.${webhook-timestamp}.${body}`,
// keyed by the base64 secret after its `whsec_` prefix. WebCrypto only, so it runs in Node, Deno, Bun and workers.

/** Why a delivery was refused. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Default tolerance between the sender's timestamp and this clock, in seconds (the specification's five minutes). */
const TOLERANCE_SECONDS = 5 * 60;

async function hmacKey(secret: string) {
  const raw = Uint8Array.from(atob(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret), (c) =>
    c.charCodeAt(0),
  );
  return globalThis.crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

function base64(bytes: ArrayBuffer): string {
  let text = '';
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text);
}

/** The `webhook-signature` value for a delivery. */
export async function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  const mac = await globalThis.crypto.subtle.sign(
    'HMAC',
    await hmacKey(secret),
    new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`),
  );
  return `v1,${base64(mac)}`;
}

/**
 * Verifies a delivery and returns its parsed JSON payload; throws WebhookVerificationError when a header is missing,
 * the timestamp is outside the tolerance, or no `v1` signature matches. Pass the raw body, exactly as received.
 */
export async function verifyWebhook<T = unknown>(
  secret: string,
  headers: Headers | Record<string, string | string[] | undefined>,
  body: string,
  options: { toleranceSeconds?: number; now?: () => number } = {},
): Promise<T> {
  const get = (name: keyof WebhookHeaders): string => {
    const value = headers instanceof Headers ? headers.get(name) : headers[name];
    const text = Array.isArray(value) ? value[0] : value;
    if (!text) throw new WebhookVerificationError(`missing ${name} header`);
    return text;
  };
  const id = get('webhook-id');
  const timestamp = Number(get('webhook-timestamp'));
  const signatures = get('webhook-signature');
  const now = Math.floor((options.now ?? Date.now)() / 1000);
  const tolerance = options.toleranceSeconds ?? TOLERANCE_SECONDS;
  if (!Number.isInteger(timestamp) || Math.abs(now - timestamp) > tolerance) {
    throw new WebhookVerificationError('webhook-timestamp is outside the tolerance');
  }
  const key = await hmacKey(secret);
  const signed = new TextEncoder().encode(`${id}.${timestamp}.${body}`);
  for (const entry of signatures.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) continue;
    let mac: Uint8Array<ArrayBuffer>;
    try {
      mac = Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
    } catch {
      continue;
    }
    // crypto.subtle.verify compares in constant time.
    if (await globalThis.crypto.subtle.verify('HMAC', key, mac, signed)) return JSON.parse(body) as T;
  }
  throw new WebhookVerificationError('no matching webhook signature');
}

/** A completion webhook event (the `WebhookEvent` schema of the OpenAPI document's `webhooks.requestEvent`). */
export interface CountersignWebhookEvent {
  type: string;
  timestamp: string;
  data: {
    requestId: string;
    status: string;
    action: string;
    agent: string;
    outcome?: { ok: boolean; status?: number; summary: string };
    [key: string]: unknown;
  };
}

/**
 * A receiver for fetch-style servers (Node's `Request`, Hono, Next.js route handlers, workers): verifies the
 * signature, answers 400 to anything unsigned, skips a `webhook-id` already handled (retries carry the same id), and
 * answers 204 once `onEvent` has run; a throwing `onEvent` answers 500, so Countersign delivers it again.
 */
export function createWebhookHandler(options: {
  secret: string;
  onEvent: (event: CountersignWebhookEvent, id: string) => Promise<void> | void;
  /** Ids already handled; by default an in-memory set (use a shared store with several replicas). */
  seen?: { has(id: string): boolean | Promise<boolean>; add(id: string): unknown };
}): (request: Request) => Promise<Response> {
  const seen = options.seen ?? new Set<string>();
  return async (request) => {
    const body = await request.text();
    let event: CountersignWebhookEvent;
    try {
      event = await verifyWebhook<CountersignWebhookEvent>(options.secret, request.headers, body);
    } catch (err) {
      if (err instanceof WebhookVerificationError) return new Response(err.message, { status: 400 });
      throw err;
    }
    const id = request.headers.get('webhook-id') ?? '';
    if (await seen.has(id)) return new Response(null, { status: 204 });
    try {
      await options.onEvent(event, id);
    } catch {
      return new Response('event not handled', { status: 500 });
    }
    await seen.add(id);
    return new Response(null, { status: 204 });
  };
}
