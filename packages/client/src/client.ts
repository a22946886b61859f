// The Countersign client: an agent's side of the API. It holds the agent's client credentials, exchanges them for
// short-lived access tokens (renewed before they expire), sends an Idempotency-Key with every submit, and turns
// problem+json answers into CountersignError with the API's stable code.
import type { components, paths } from './generated/openapi.js';

export type ActionRequest = components['schemas']['ActionRequest'];
export type Problem = components['schemas']['Problem'];
export type ProblemCode = Problem['code'];
export type RequestStatus = ActionRequest['status'];
export type ActionTarget = components['schemas']['ActionTarget'];
export type { components, paths };

/** What an agent submits; `params` follows the action's own JSON Schema (see /openapi.json). */
export interface SubmitInput {
  action: string;
  params: Record<string, unknown>;
  reason: string;
  onBehalfOf?: string;
  target?: ActionTarget;
}

export interface CountersignClientOptions {
  /** Base URL of the Countersign API, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  /** Client credentials of the agent (client id = agent id). */
  clientId?: string;
  clientSecret?: string;
  /** Ask for a token narrowed to these actions. */
  scopes?: string[];
  /** A ready bearer credential instead (an API key where allowed, or a token you obtained yourself). */
  token?: string;
  fetch?: typeof fetch;
  /** Renew the access token this long before it expires (default 60 s). */
  refreshMarginMs?: number;
  /** The clock, in epoch milliseconds (tests pass their own). */
  now?: () => number;
}

export const TERMINAL_STATUSES: readonly RequestStatus[] = [
  'succeeded',
  'failed',
  'denied',
  'rejected',
  'expired',
  'cancelled',
];
/** The longest single long poll the API holds (GET ?wait=). */
const MAX_POLL_SECONDS = 30;

/** True once a request will not change again. */
export function isTerminal(status: RequestStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** A refused or failed call: the HTTP status and, where the API sent one, its RFC 9457 problem. */
export class CountersignError extends Error {
  readonly status: number;
  readonly code: ProblemCode | 'oauth_error' | 'network_error' | 'unexpected_response';
  readonly problem?: Problem;
  /** Seconds to wait before retrying, from Retry-After. */
  readonly retryAfter?: number;

  constructor(
    message: string,
    init: {
      status: number;
      code: CountersignError['code'];
      problem?: Problem;
      retryAfter?: number;
      cause?: unknown;
    },
  ) {
    super(message, { cause: init.cause });
    this.name = 'CountersignError';
    this.status = init.status;
    this.code = init.code;
    if (init.problem) this.problem = init.problem;
    if (init.retryAfter !== undefined) this.retryAfter = init.retryAfter;
  }
}

/** Creates a client; nothing is fetched until the first call. */
export function createCountersignClient(options: CountersignClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const margin = options.refreshMarginMs ?? 60_000;
  const now = options.now ?? Date.now;
  let cached: { token: string; renewAt: number } | undefined;
  let inflight: Promise<string> | undefined;

  async function issueToken(): Promise<string> {
    const { clientId, clientSecret } = options;
    if (!clientId || !clientSecret) throw new Error('Countersign client: give clientId and clientSecret, or token');
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (options.scopes?.length) form.set('scope', options.scopes.join(' '));
    const basic = btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`);
    const res = await send(`${base}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok || typeof body.access_token !== 'string') {
      throw new CountersignError(`token endpoint: ${typeof body.error === 'string' ? body.error : res.status}`, {
        status: res.status,
        code: 'oauth_error',
      });
    }
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 300) * 1000;
    cached = { token: body.access_token, renewAt: now() + Math.max(lifetimeMs - margin, lifetimeMs / 2) };
    return body.access_token;
  }

  /** The bearer credential for the next call, renewed ahead of expiry (one renewal at a time). */
  async function bearer(): Promise<string> {
    if (options.token) return options.token;
    if (cached && now() < cached.renewAt) return cached.token;
    inflight ??= issueToken().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  async function send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await doFetch(url, init);
    } catch (err) {
      throw new CountersignError(`cannot reach Countersign at ${base}`, {
        status: 0,
        code: 'network_error',
        cause: err,
      });
    }
  }

  async function call<T>(
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<T> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${await bearer()}`,
      accept: 'application/json',
      ...init.headers,
    };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const res = await send(`${base}${path}`, {
      method,
      headers,
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      ...(init.signal ? { signal: init.signal } : {}),
    });
    const text = await res.text();
    if (res.ok) return (text ? JSON.parse(text) : undefined) as T;
    // A token refused for expiry (clock skew, a long pause) is renewed once.
    if (res.status === 401 && !options.token && cached) {
      cached = undefined;
      return call<T>(method, path, init);
    }
    throw errorOf(res, text);
  }

  return {
    /**
     * Submits an action request. An Idempotency-Key is always sent (a fresh one unless given): retry with the same
     * key and body and you get the same request back, never a second execution.
     */
    async submit(
      input: SubmitInput,
      opts: { idempotencyKey?: string; waitSeconds?: number; signal?: AbortSignal } = {},
    ): Promise<ActionRequest> {
      const wait = opts.waitSeconds ? `?wait=${Math.min(Math.ceil(opts.waitSeconds), MAX_POLL_SECONDS)}` : '';
      return call<ActionRequest>('POST', `/v1/action-requests${wait}`, {
        body: input,
        headers: { 'idempotency-key': opts.idempotencyKey ?? globalThis.crypto.randomUUID() },
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    },

    /** Reads a request; with `waitSeconds` (at most 30) the API holds the answer until it is terminal. */
    async get(id: string, opts: { waitSeconds?: number; signal?: AbortSignal } = {}): Promise<ActionRequest> {
      const wait = opts.waitSeconds ? `?wait=${Math.min(Math.ceil(opts.waitSeconds), MAX_POLL_SECONDS)}` : '';
      return call<ActionRequest>('GET', `/v1/action-requests/${encodeURIComponent(id)}${wait}`, {
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    },

    /**
     * Long-polls until the request is terminal or `timeoutMs` passes, then returns its latest state. The wait is held
     * by Countersign's workflow, so calling again after a restart simply picks it up.
     */
    async wait(
      id: string,
      opts: { timeoutMs?: number; signal?: AbortSignal; onPoll?: (r: ActionRequest) => void } = {},
    ): Promise<ActionRequest> {
      const deadline = Date.now() + (opts.timeoutMs ?? 15 * 60_000);
      for (;;) {
        const left = Math.ceil((deadline - Date.now()) / 1000);
        const request = await this.get(id, {
          waitSeconds: Math.max(0, Math.min(left, MAX_POLL_SECONDS)),
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        opts.onPoll?.(request);
        if (isTerminal(request.status) || left <= 0 || opts.signal?.aborted) return request;
      }
    },

    /** Withdraws a request that still waits for approval. */
    async cancel(id: string, reason?: string): Promise<ActionRequest> {
      return call<ActionRequest>('POST', `/v1/action-requests/${encodeURIComponent(id)}/cancel`, {
        body: reason ? { reason } : {},
      });
    },

    /** The catalog actions this agent may request, with their parameter schemas (from /openapi.json and the token). */
    async actions(): Promise<ActionDescription[]> {
      const doc = (await (await send(`${base}/openapi.json`, { headers: { accept: 'application/json' } })).json()) as {
        components?: { schemas?: Record<string, Record<string, unknown>> };
      };
      const schemas = doc.components?.schemas ?? {};
      const allowed = await allowedActions();
      const out: ActionDescription[] = [];
      for (const [key, schema] of Object.entries(schemas)) {
        if (!key.startsWith('ActionRequest.')) continue;
        const name = key.slice('ActionRequest.'.length);
        if (allowed && !allowed.includes(name)) continue;
        const params = schemas[`${name}.params`] ?? { type: 'object' };
        const { description, ...paramsSchema } = params;
        delete paramsSchema.title;
        out.push({
          name,
          description: typeof description === 'string' ? description : name,
          risk: typeof schema['x-countersign-risk'] === 'string' ? schema['x-countersign-risk'] : 'unknown',
          params: paramsSchema,
        });
      }
      return out;
    },
  };

  /** The token's scope names the actions it grants; unknown for a static credential. */
  async function allowedActions(): Promise<string[] | undefined> {
    const token = await bearer();
    const payload = token.split('.')[1];
    if (!payload) return undefined;
    try {
      const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { scope?: unknown };
      return typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : undefined;
    } catch {
      return undefined;
    }
  }
}

export type CountersignClient = ReturnType<typeof createCountersignClient>;

/** A catalog action as a tool definition. */
export interface ActionDescription {
  name: string;
  description: string;
  risk: string;
  /** JSON Schema (2020-12) of the parameters. */
  params: Record<string, unknown>;
}

function errorOf(res: Response, text: string): CountersignError {
  const retry = Number(res.headers.get('retry-after'));
  const retryAfter = Number.isFinite(retry) && res.headers.has('retry-after') ? retry : undefined;
  let problem: Problem | undefined;
  if (/json/.test(res.headers.get('content-type') ?? '')) {
    try {
      problem = JSON.parse(text) as Problem;
    } catch {
      problem = undefined;
    }
  }
  if (problem && typeof problem.code === 'string') {
    return new CountersignError(`${problem.title}: ${problem.detail}`, {
      status: res.status,
      code: problem.code,
      problem,
      ...(retryAfter !== undefined ? { retryAfter } : {}),
    });
  }
  return new CountersignError(`unexpected answer ${res.status}`, {
    status: res.status,
    code: 'unexpected_response',
    ...(retryAfter !== undefined ? { retryAfter } : {}),
  });
}
