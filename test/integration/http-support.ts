// The HTTP API over a test harness, listening on 127.0.0.1:0, and a small fetch wrapper for the HTTP suites.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowNotFoundError } from '@temporalio/client';
import { createHttpApp, type HttpDeps } from '../../src/http/app';
import { createApiKeyAuthenticator } from '../../src/http/auth';
import { createReadiness } from '../../src/http/readiness';
import type { ActionRequestResource, ActionRequestSummaryResource, Problem } from '../../src/http/schemas';
import { requestIdFor } from '../../src/requests';
import type { Harness } from '../support/harness';
import { createResponseValidator, type ResponseValidator } from '../support/openapi-validator';

/** The bootstrap token the API is started with (it only creates the first operator). */
export const ADMIN_TOKEN = 'cs_test_admin_token_5f1e2d';
export const TEMPORAL_UI_URL = 'http://temporal-ui.test:8233';

export interface Api {
  url: string;
  close(): Promise<void>;
}

/** A person's personal operator token in a harness started with `identity`. */
export function operatorToken(h: Harness, person: string): string {
  const token = h.identity?.operatorTokens[person];
  if (!token) throw new Error(`no operator token for ${person}: start the harness with identity`);
  return token;
}

/**
 * Serves createHttpApp over the harness on a random loopback port, wired as the product wires it when the harness has
 * identity (identity authenticator, token endpoint, operator API, kill switches and rate limits at submit).
 */
export async function startApi(h: Harness, overrides: Partial<HttpDeps> = {}): Promise<Api> {
  const identity = h.identity;
  const app = createHttpApp({
    service: h.service,
    authenticator: identity?.identity.authenticator ?? createApiKeyAuthenticator({ agents: h.agents }),
    ...(identity
      ? {
          identity: {
            identity: identity.identity,
            adminToken: ADMIN_TOKEN,
            cancelInScope: (scope, input) =>
              identity.identity.killSwitches.cancelInScope(h.service.temporal, scope, input),
            cancelProgress: (id) => h.service.temporal.operation(id),
          },
          receiptJwks: () => identity.receipts.jwks(),
        }
      : {}),
    config: h.config,
    catalog: h.catalog,
    logger: h.logger,
    metrics: h.metrics,
    readiness: createReadiness({ temporal: h.service.temporal, ...(identity ? { database: identity.database } : {}) }),
    links: { temporalUiUrl: TEMPORAL_UI_URL, namespace: h.namespace },
    ...overrides,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface CallOptions {
  /** A bearer credential; omitted for none. */
  token?: string;
  /** JSON-encoded unless `raw` is given. */
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

/** An answer; `json` is typed by the caller (the tests assert its shape) and undefined for non-JSON answers. */
export interface CallResult<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  json: T;
}

export type RequestList = { items: ActionRequestSummaryResource[] };
export type { ActionRequestResource, Problem };

/** One HTTP call; JSON bodies get `application/json` unless a content type is given. */
export async function call<T = unknown>(
  api: Api,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<CallResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${api.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  // /metrics answers text; only JSON media types are parsed.
  const json = (/json/.test(res.headers.get('content-type') ?? '') && text ? JSON.parse(text) : undefined) as T;
  const issues = (await validatorFor(api)).check({
    method,
    path: path.split('?')[0] ?? path,
    status: res.status,
    contentType: res.headers.get('content-type'),
    json,
    text,
  });
  if (issues.length > 0) throw new Error(`the answer departs from /openapi.json:\n${issues.join('\n')}\n${text}`);
  return { status: res.status, headers: res.headers, text, json };
}

const validators = new WeakMap<Api, Promise<ResponseValidator>>();

/** The validator over the document this API serves (fetched once per API). */
function validatorFor(api: Api): Promise<ResponseValidator> {
  let validator = validators.get(api);
  if (!validator) {
    validator = fetch(`${api.url}/openapi.json`)
      .then((res) => res.json() as Promise<Record<string, unknown>>)
      .then(createResponseValidator);
    validators.set(api, validator);
  }
  return validator;
}

/** True when a workflow exists for the agent's idempotency key (the request id derives from it). */
export async function workflowExistsFor(h: Harness, agentId: string, idempotencyKey: string): Promise<boolean> {
  try {
    await h.client.workflow.getHandle(requestIdFor(agentId, idempotencyKey)).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** Workflows this harness started for an agent, from visibility. */
export async function workflowCount(h: Harness, agentId: string): Promise<number> {
  const { count } = await h.client.workflow.count(`CsAgent = '${agentId}' AND TaskQueue = '${h.taskQueues.control}'`);
  return count;
}

/** Polls until `read` returns a value `accept` takes, or fails after `timeoutMs` with the last value. */
export async function eventually<T>(read: () => Promise<T>, accept: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not reached; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
