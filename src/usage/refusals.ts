// Refusals of an agent, for the boundary-testing signal: an agent that keeps asking for what it may not do (denied by
// policy, an action outside its allowed list or its token's scope, a scope refused at the token endpoint) is what
// security teams watch most. Refusals are written off the request path; a decision in this process first waits for
// the agent's own pending writes, so the refusal just answered is counted by the next request.
import type { Kysely } from 'kysely';
import type { AgentRecord } from '../agents';
import type { PolicyDecision } from '../contracts/types';
import type { Database } from '../db/schema';
import type { ErrorCode } from '../errors';
import type { Logger } from '../logger';

/** Why an agent was refused. */
export const REFUSAL_KINDS = ['policy_denied', 'action_not_allowed', 'scope_refused'] as const;
export type RefusalKind = (typeof REFUSAL_KINDS)[number];

/** One row of `agent_refusals` (created by src/db/migrations/0005_refusals.ts). */
export type AgentRefusalRow = { agent_id: string; kind: RefusalKind; action: string; at: string };
export type RefusalTables = { agent_refusals: AgentRefusalRow };

/** The refusals store over the database. */
export function createRefusalStore(database: Kysely<Database>) {
  const db = database.withTables<RefusalTables>();
  return {
    async record(r: { agentId: string; kind: RefusalKind; action: string; at: Date }): Promise<void> {
      await db
        .insertInto('agent_refusals')
        .values({ agent_id: r.agentId, kind: r.kind, action: r.action, at: r.at.toISOString() })
        .execute();
    },
    /** The agent's refusals since a time. */
    async count(agentId: string, since: Date): Promise<number> {
      const row = await db
        .selectFrom('agent_refusals')
        .where('agent_id', '=', agentId)
        .where('at', '>=', since.toISOString())
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
  };
}

export type RefusalStore = ReturnType<typeof createRefusalStore>;

/** Records refusals without holding up the answer to the agent; failures are logged, never thrown at a request. */
export function createRefusalRecorder(deps: { store: RefusalStore; logger?: Logger; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  const pending = new Map<string, Set<Promise<void>>>();
  const listeners = new Set<(kind: RefusalKind) => void>();

  function record(agentId: string, kind: RefusalKind, action: string): void {
    for (const l of listeners) l(kind);
    const write = deps.store.record({ agentId, kind, action, at: now() }).catch((err: unknown) => {
      deps.logger?.warn(
        { agent: agentId, kind, err: err instanceof Error ? err.message : String(err) },
        'refusal not recorded',
      );
    });
    const set = pending.get(agentId) ?? new Set();
    pending.set(agentId, set);
    set.add(write);
    void write.finally(() => {
      set.delete(write);
      if (set.size === 0 && pending.get(agentId) === set) pending.delete(agentId);
    });
  }

  return {
    record,
    /** Calls `listener` for every refusal (the metric of each API process). */
    listen(listener: (kind: RefusalKind) => void): void {
      listeners.add(listener);
    },
    /** Resolves once this process's refusal writes for the agent are done. */
    async settled(agentId: string): Promise<void> {
      const set = pending.get(agentId);
      if (set) await Promise.all([...set]);
    },
    /** For the request service's observer: policy denials and actions outside what the agent may request. */
    observer: {
      decided(action: string, decision: PolicyDecision, _seconds: number, agent?: AgentRecord): void {
        // Shadow mode lets a denied request through, but the agent still asked for something policy denies.
        if (agent && decision.evaluatedEffect === 'deny') record(agent.id, 'policy_denied', action);
      },
      refused(action: string, code: ErrorCode, agent?: AgentRecord): void {
        if (agent && code === 'forbidden' && agent.enabled && !agent.allowedActions.includes(action)) {
          record(agent.id, 'action_not_allowed', action);
        }
      },
    },
  };
}

export type RefusalRecorder = ReturnType<typeof createRefusalRecorder>;
