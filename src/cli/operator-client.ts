// The CLI's side of the operator API: requests, decisions, agents, kill switches and operators over HTTP with a
// personal operator token, so the CLI goes through exactly the checks every other client does.
import type { z } from 'zod';
import type {
  agentCreatedSchema,
  agentDetailSchema,
  agentSchema,
  issuedOperatorTokenSchema,
  issuedSecretSchema,
  killSwitchEngagedSchema,
  killSwitchLiftedSchema,
  killSwitchListSchema,
  operatorListSchema,
} from '../http/identity-schemas';
import type { ActionRequestResource, ActionRequestSummaryResource, Problem } from '../http/schemas';

export type AgentResource = z.output<typeof agentSchema>;
export type AgentDetailResource = z.output<typeof agentDetailSchema>;
export type AgentCreatedResource = z.output<typeof agentCreatedSchema>;
export type IssuedSecretResource = z.output<typeof issuedSecretSchema>;
export type KillSwitchEngagedResource = z.output<typeof killSwitchEngagedSchema>;
export type KillSwitchListResource = z.output<typeof killSwitchListSchema>;
export type KillSwitchLiftedResource = z.output<typeof killSwitchLiftedSchema>;
export type IssuedOperatorTokenResource = z.output<typeof issuedOperatorTokenSchema>;
export type OperatorListResource = z.output<typeof operatorListSchema>;

/** The scope of a kill switch as the API takes it. */
export interface KillScopeInput {
  agent?: string;
  action?: string;
  all?: boolean;
}

export interface OperatorClientOptions {
  baseUrl: string;
  /** A personal operator token, or a function giving the current sign-in token (refreshed when due). */
  token: string | (() => Promise<string>);
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

  async function call<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    let response: Response;
    const token = typeof options.token === 'string' ? options.token : await options.token();
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
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
    /**
     * Records an approval or rejection as the token's owner; `approver`, when given, must be that owner (the API
     * refuses another name). The workflow decides whether it counts.
     */
    decide(id: string, body: { decision: 'approve' | 'reject'; approver?: string; reason?: string }) {
      return call<ActionRequestResource>('POST', `/v1/action-requests/${encodeURIComponent(id)}/decisions`, {
        ...body,
        channel: 'cli',
      });
    },
    /** Cancels a pending request (recorded as the token's owner). */
    cancel(id: string, reason?: string) {
      return call<ActionRequestResource>(
        'POST',
        `/v1/action-requests/${encodeURIComponent(id)}/cancel`,
        reason ? { reason } : {},
      );
    },
    /** The operator (or agent) the token proves. */
    whoami: () => call<{ kind: 'agent' | 'operator'; id: string }>('GET', '/v1/me'),

    /** The agent inventory. */
    listAgents(filter: { status?: string; owner?: string } = {}) {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(filter)) if (v !== undefined) query.set(k, v);
      return call<{ items: AgentResource[] }>('GET', `/v1/agents${query.size > 0 ? `?${query.toString()}` : ''}`);
    },
    showAgent: (id: string) => call<AgentDetailResource>('GET', agentPath(id)),
    createAgent: (body: Record<string, unknown>) => call<AgentCreatedResource>('POST', '/v1/agents', body),
    updateAgent: (id: string, patch: Record<string, unknown>) => call<AgentResource>('PATCH', agentPath(id), patch),
    transitionAgent: (id: string, to: 'suspend' | 'resume' | 'decommission', reason?: string) =>
      call<AgentResource>('POST', `${agentPath(id)}/${to}`, reason ? { reason } : {}),
    rotateCredentials: (id: string, overlapSeconds?: number) =>
      call<IssuedSecretResource>(
        'POST',
        `${agentPath(id)}/credentials/rotate`,
        overlapSeconds !== undefined ? { overlapSeconds } : {},
      ),

    /** Pulls a kill switch and cancels the running requests in its scope. */
    kill: (scope: KillScopeInput, reason: string) =>
      call<KillSwitchEngagedResource>('POST', '/v1/kill-switches', { ...scope, reason }),
    /** Lifts the kill switches of exactly this scope. */
    resume: (scope: KillScopeInput, reason?: string) =>
      call<KillSwitchLiftedResource>('DELETE', '/v1/kill-switches', { ...scope, ...(reason ? { reason } : {}) }),
    killSwitches: (history: boolean) =>
      call<KillSwitchListResource>('GET', `/v1/kill-switches${history ? '?history=true' : ''}`),

    /** Creates an operator (or, with the bootstrap token, the first one). */
    createOperator: (body: { id: string; name?: string }) =>
      call<IssuedOperatorTokenResource>('POST', '/v1/operators', body),
    listOperators: () => call<OperatorListResource>('GET', '/v1/operators'),
    issueOperatorToken: (id: string, label?: string) =>
      call<IssuedOperatorTokenResource>(
        'POST',
        `/v1/operators/${encodeURIComponent(id)}/tokens`,
        label ? { label } : {},
      ),
    revokeOperatorToken: (tokenId: string) =>
      call<undefined>('DELETE', `/v1/operator-tokens/${encodeURIComponent(tokenId)}`),
  };
}

export type OperatorClient = ReturnType<typeof createOperatorClient>;

function agentPath(id: string): string {
  return `/v1/agents/${encodeURIComponent(id)}`;
}
