// The kill switch: stop one agent, one action (or a family, `payments.*`), one agent's action, or everything, at once.
// New requests in scope are refused with the reason; the execution re-check refuses while it is on; and every running
// request in scope is cancelled by one Temporal operation (a batch signal) that drains after the caller is answered.
// Who pulled it, why and when stays recorded, also after it is lifted.
import type { Kysely } from 'kysely';
import type { ExecutionGuard } from '../../activities';
import type { KillSwitchRow, Database } from '../db/schema';
import { AppError } from '../errors';
import { generateId, systemClock, type Clock } from './secrets';

/** What a switch covers; with neither field it covers every agent and action. */
export interface KillScope {
  agentId?: string;
  /** An action name, or a prefix ending in `*` (`payments.*`). */
  action?: string;
}

export interface KillSwitch {
  id: string;
  scope: KillScope;
  reason: string;
  engagedBy: string;
  engagedAt: string;
  liftedAt?: string;
  liftedBy?: string;
  liftReason?: string;
}

/** Result of starting the cancellation of the running requests in a scope. */
export interface CancelInScopeResult {
  /** Requests running in scope when the switch was pulled. */
  inScope: number;
  /** The operation that drains them; its progress is readable until Temporal forgets it. */
  operationId: string;
}

/** What the kill switch needs of Temporal (src/temporal/adapter.ts). */
export interface ScopeCanceller {
  cancelInScope(
    scope: KillScope,
    input: { operationId: string; by: string; reason: string },
  ): Promise<{ operationId: string; inScope: number }>;
}

export interface KillSwitchDeps {
  db: Kysely<Database>;
  /** Longest age of the switch list used at submit, in ms (0: read every time). Execution always reads fresh. */
  cacheMs: number;
  clock?: Clock;
}

const AGENT_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const ACTION = /^[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*|\*)?$/;

/** Validates a scope from the CLI or API: `all` alone, or an agent and/or an action. */
export function parseKillScope(input: { agent?: string; action?: string; all?: boolean }): KillScope {
  const hasNarrow = Boolean(input.agent || input.action);
  if (input.all && hasNarrow) throw scopeError('--all stands alone; or name an agent and/or an action');
  if (!input.all && !hasNarrow) throw scopeError('name an agent, an action, or --all');
  if (input.agent && !AGENT_ID.test(input.agent)) throw scopeError(`invalid agent id "${input.agent}"`);
  if (input.action && !ACTION.test(input.action)) throw scopeError(`invalid action "${input.action}"`);
  return { ...(input.agent ? { agentId: input.agent } : {}), ...(input.action ? { action: input.action } : {}) };
}

/** Human wording of a scope. */
export function describeScope(scope: KillScope): string {
  if (!scope.agentId && !scope.action) return 'all agents and actions';
  if (scope.agentId && scope.action) return `agent ${scope.agentId}, action ${scope.action}`;
  return scope.agentId ? `agent ${scope.agentId}` : `action ${scope.action}`;
}

/** True when the switch's scope covers this agent and action. */
export function scopeCovers(scope: KillScope, agentId: string, action: string): boolean {
  if (scope.agentId && scope.agentId !== agentId) return false;
  if (!scope.action) return true;
  if (scope.action.endsWith('*')) return action.startsWith(scope.action.slice(0, -1));
  return scope.action === action;
}

/** Creates the kill switch service. */
export function createKillSwitches(deps: KillSwitchDeps) {
  const { db } = deps;
  const clock = deps.clock ?? systemClock;
  let cached: { atMs: number; switches: Promise<KillSwitch[]> } | undefined;

  async function readActive(): Promise<KillSwitch[]> {
    const rows = await db
      .selectFrom('kill_switches')
      .selectAll()
      .where('lifted_at', 'is', null)
      .orderBy('engaged_at')
      .execute();
    return rows.map(toSwitch);
  }

  function activeCached(): Promise<KillSwitch[]> {
    const nowMs = clock().getTime();
    if (cached && nowMs - cached.atMs < deps.cacheMs) return cached.switches;
    const switches = readActive();
    if (deps.cacheMs > 0) {
      const entry = { atMs: nowMs, switches };
      cached = entry;
      // A failed read is not served again: the next caller goes back to the database.
      switches.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return switches;
  }

  /** The switch that blocks this agent and action, if any (`fresh`: bypass the cache). */
  async function blocking(agentId: string, action: string, fresh = false): Promise<KillSwitch | undefined> {
    const switches = fresh ? await readActive() : await activeCached();
    return switches.find((s) => scopeCovers(s.scope, agentId, action));
  }

  const guard: ExecutionGuard = {
    async blockedReason(agentId, action) {
      const hit = await blocking(agentId, action, true);
      return hit ? `${hit.reason} (${describeScope(hit.scope)}, by ${hit.engagedBy})` : undefined;
    },
  };

  return {
    /** Pulls a switch; an identical scope already switched off returns the existing switch. */
    async engage(
      scope: KillScope,
      input: { reason: string; by: string },
    ): Promise<{ killSwitch: KillSwitch; created: boolean }> {
      if (!input.reason.trim()) throw scopeError('a reason is required');
      const existing = (await readActive()).find(
        (s) =>
          (s.scope.agentId ?? null) === (scope.agentId ?? null) && (s.scope.action ?? null) === (scope.action ?? null),
      );
      if (existing) return { killSwitch: existing, created: false };
      const row: KillSwitchRow = {
        id: generateId('kill'),
        agent_id: scope.agentId ?? null,
        action: scope.action ?? null,
        reason: input.reason.trim(),
        engaged_by: input.by,
        engaged_at: clock().toISOString(),
        lifted_at: null,
        lifted_by: null,
        lift_reason: null,
      };
      await db.insertInto('kill_switches').values(row).execute();
      cached = undefined;
      return { killSwitch: toSwitch(row), created: true };
    },

    /** `countersign resume`: lifts the active switches of exactly this scope; returns them. */
    async lift(scope: KillScope, input: { by: string; reason?: string }): Promise<KillSwitch[]> {
      const now = clock().toISOString();
      let q = db
        .updateTable('kill_switches')
        .set({ lifted_at: now, lifted_by: input.by, lift_reason: input.reason ?? null })
        .where('lifted_at', 'is', null);
      q = scope.agentId ? q.where('agent_id', '=', scope.agentId) : q.where('agent_id', 'is', null);
      q = scope.action ? q.where('action', '=', scope.action) : q.where('action', 'is', null);
      const rows = await q.returningAll().execute();
      cached = undefined;
      if (rows.length === 0) throw new AppError('not_found', `no kill switch is on for ${describeScope(scope)}`);
      return rows.map(toSwitch);
    },

    /** Switches now on. */
    active: readActive,

    /** Every switch, newest first, lifted ones included (the record). */
    async history(limit = 100): Promise<KillSwitch[]> {
      const rows = await db
        .selectFrom('kill_switches')
        .selectAll()
        .orderBy('engaged_at', 'desc')
        .limit(limit)
        .execute();
      return rows.map(toSwitch);
    },

    blocking,

    /** At submit: throws 403 with the reason when a switch covers the agent and action. */
    async enforce(agentId: string, action: string): Promise<void> {
      const hit = await blocking(agentId, action);
      if (hit) {
        throw new AppError('forbidden', `kill switch on (${describeScope(hit.scope)}): ${hit.reason}`, {
          errors: [{ path: 'action', message: 'halted by a kill switch' }],
        });
      }
    },

    /** The execution-time check (ExecutionGuard of the control activities); always reads the database. */
    guard,

    /** Starts cancelling every running request in scope; answers with how many and the operation that drains them. */
    async cancelInScope(
      temporal: ScopeCanceller,
      scope: KillScope,
      input: { by: string; reason: string; switchId?: string },
    ): Promise<CancelInScopeResult> {
      const operationId = generateId(input.switchId ? `${input.switchId}_op` : 'kill_op');
      return temporal.cancelInScope(scope, { operationId, by: input.by, reason: `kill switch: ${input.reason}` });
    },
  };
}

export type KillSwitches = ReturnType<typeof createKillSwitches>;

function toSwitch(row: KillSwitchRow): KillSwitch {
  return {
    id: row.id,
    scope: { ...(row.agent_id ? { agentId: row.agent_id } : {}), ...(row.action ? { action: row.action } : {}) },
    reason: row.reason,
    engagedBy: row.engaged_by,
    engagedAt: row.engaged_at,
    ...(row.lifted_at ? { liftedAt: row.lifted_at } : {}),
    ...(row.lifted_by ? { liftedBy: row.lifted_by } : {}),
    ...(row.lift_reason ? { liftReason: row.lift_reason } : {}),
  };
}

function scopeError(message: string): AppError {
  return new AppError('validation_failed', message, { errors: [{ path: 'scope', message }] });
}
