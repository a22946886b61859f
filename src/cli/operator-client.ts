// The CLI's side of the operator API: list, show and decide over HTTP with the operator token, so the CLI goes through
// exactly the checks every other client does.
import type { ActionRequestResource, ActionRequestSummaryResource, Problem } from '../http/schemas';

export interface OperatorClientOptions {
  baseUrl: string;
  token: string;
  fetch?: typeof fetch;
}

/** A failed call, with the problem+json details the API returned. */
export class OperatorApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly problem?: Partial<Problem>,
  ) {
    super(message);
    this.name = 'OperatorApiError';
  }
}

/** A small client for the operator endpoints. */
export function createOperatorClient(options: OperatorClientOptions) {
  const doFetch = options.fetch ?? fetch;
  const base = options.baseUrl.replace(/\/+$/, '');

  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${options.token}`,
          Accept: 'application/json',
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(40_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new OperatorApiError(
        `cannot reach the Countersign API at ${base} (${cause ?? (err instanceof Error ? err.message : String(err))}); is it running? (--api sets the URL)`,
        0,
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const problem = (parsed ?? {}) as Partial<Problem>;
      const detail = problem.detail ?? problem.title ?? (text.slice(0, 200) || response.statusText);
      throw new OperatorApiError(`${response.status} ${detail}`, response.status, problem);
    }
    return parsed as T;
  }

  return {
    /** Requests across agents, newest first. */
    list(filter: { status?: string; agent?: string; action?: string; limit?: number } = {}) {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(filter)) if (v !== undefined) query.set(k, String(v));
      const qs = query.size > 0 ? `?${query.toString()}` : '';
      return call<{ items: ActionRequestSummaryResource[] }>('GET', `/v1/action-requests${qs}`);
    },
    /** One request's full state. */
    show(id: string) {
      return call<ActionRequestResource>('GET', `/v1/action-requests/${encodeURIComponent(id)}`);
    },
    /** Records an approval or rejection by `approver`; the workflow decides whether it counts. */
    decide(id: string, body: { decision: 'approve' | 'reject'; approver: string; reason?: string }) {
      return call<ActionRequestResource>('POST', `/v1/action-requests/${encodeURIComponent(id)}/decisions`, {
        ...body,
        channel: 'cli',
      });
    },
  };
}

export type OperatorClient = ReturnType<typeof createOperatorClient>;
