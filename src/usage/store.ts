// Executions per agent, for exposure budgets and volume signals. An execution counts from the moment its downstream
// call starts (it may well have happened even if its end is never recorded) until the downstream refuses it for good.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import type { UsageStatus, UsageTables } from './tables';

/** Statuses that count as executed. */
const COUNTED: readonly UsageStatus[] = ['started', 'succeeded'];

/** Largest number of numeric parameters kept per execution, and how deep they are looked for. */
const MAX_FIELDS = 32;
const MAX_DEPTH = 3;

export interface StartedExecution {
  requestId: string;
  agentId: string;
  action: string;
  params: Record<string, unknown>;
  at: Date;
}

/** Which executions a query covers: one agent, an action (or `prefix.*`), since a time (and before another). */
export interface UsageScope {
  agentId: string;
  /** Exact action name, `payments.*` for a prefix, or undefined for every action. */
  action?: string;
  since: Date;
  until?: Date;
}

/** The usage store over the database. */
export function createUsageStore(database: Kysely<Database>) {
  const db = database.withTables<UsageTables>();

  function scoped(scope: UsageScope) {
    let q = db
      .selectFrom('usage_events')
      .where('agent_id', '=', scope.agentId)
      .where('status', 'in', [...COUNTED]);
    q = q.where('started_at', '>=', scope.since.toISOString());
    if (scope.until) q = q.where('started_at', '<', scope.until.toISOString());
    const action = scope.action;
    if (action?.endsWith('*')) {
      const prefix = action.slice(0, -1);
      q = q.where((eb) => eb(eb.fn<string>('substr', ['action', eb.val(1), eb.val(prefix.length)]), '=', prefix));
    } else if (action) {
      q = q.where('action', '=', action);
    }
    return q;
  }

  return {
    /** Records that a request's execution is starting; repeated attempts of the same request count once. */
    async recordStarted(e: StartedExecution): Promise<void> {
      const amounts = numericFields(e.params);
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('usage_events')
          .values({
            request_id: e.requestId,
            agent_id: e.agentId,
            action: e.action,
            status: 'started',
            started_at: e.at.toISOString(),
            finished_at: null,
          })
          .onConflict((oc) => oc.column('request_id').doNothing())
          .execute();
        if (amounts.length > 0) {
          await trx
            .insertInto('usage_amounts')
            .values(amounts.map(([field, value]) => ({ request_id: e.requestId, field, value })))
            .onConflict((oc) => oc.columns(['request_id', 'field']).doNothing())
            .execute();
        }
      });
    },

    /** Records how an execution ended. */
    async recordFinished(requestId: string, status: Exclude<UsageStatus, 'started'>, at: Date): Promise<void> {
      await db
        .updateTable('usage_events')
        .set({ status, finished_at: at.toISOString() })
        .where('request_id', '=', requestId)
        .where('status', '=', 'started')
        .execute();
    },

    /** Executions in scope. */
    async count(scope: UsageScope): Promise<number> {
      const row = await scoped(scope)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    /** The sum of a numeric parameter over the executions in scope (those without it add nothing). */
    async sum(scope: UsageScope, field: string): Promise<number> {
      const row = await scoped(scope)
        .innerJoin('usage_amounts', 'usage_amounts.request_id', 'usage_events.request_id')
        .where('usage_amounts.field', '=', field)
        .select((eb) => eb.fn.sum<number | string | null>('usage_amounts.value').as('total'))
        .executeTakeFirst();
      return Number(row?.total ?? 0);
    },

    /** When the agent's first counted execution started, if it has one. */
    async firstExecutionAt(agentId: string): Promise<Date | undefined> {
      const row = await db
        .selectFrom('usage_events')
        .where('agent_id', '=', agentId)
        .where('status', 'in', [...COUNTED])
        .select((eb) => eb.fn.min<string | null>('started_at').as('first'))
        .executeTakeFirst();
      return row?.first ? new Date(row.first) : undefined;
    },

    /** True when the agent has executed the action before (refused executions included: it has tried). */
    async hasExecuted(agentId: string, action: string): Promise<boolean> {
      const row = await db
        .selectFrom('usage_events')
        .where('agent_id', '=', agentId)
        .where('action', '=', action)
        .select('request_id')
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}

export type UsageStore = ReturnType<typeof createUsageStore>;

/** Finite numbers among the parameters, as dotted paths (`amount`, `refund.total`); strings are never kept. */
export function numericFields(params: Record<string, unknown>): [string, number][] {
  const out: [string, number][] = [];
  const walk = (value: unknown, path: string, depth: number) => {
    if (out.length >= MAX_FIELDS) return;
    if (typeof value === 'number' && Number.isFinite(value)) {
      out.push([path, value]);
    } else if (value && typeof value === 'object' && !Array.isArray(value) && depth < MAX_DEPTH) {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, depth + 1);
    }
  };
  walk(params, '', 0);
  return out;
}
