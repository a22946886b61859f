// The agent registry: who each agent is, who owns it, what it may do and whether it may act now, with a change log of
// who changed what and when. Seeded from the config file; at run time this database is the source of truth.
import type { Kysely, Transaction } from 'kysely';
import type { CountersignConfig } from '../config/schema';
import { RISK_TIERS, type RiskTier } from '../contracts/types';
import type { AgentChangeRow, AgentRow, Database, NewAgentRow } from '../db/schema';
import { AppError, type FieldIssue } from '../errors';
import { parseRate } from './rate-limiter';
import { systemClock, type Clock } from './secrets';

export const AGENT_STATUSES = ['active', 'suspended', 'decommissioned'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

const AGENT_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** An agent as the registry holds it. */
export interface RegisteredAgent {
  id: string;
  name: string;
  owner: string;
  description: string;
  riskTier: RiskTier;
  allowedActions: string[];
  status: AgentStatus;
  statusReason?: string;
  /** Its own request rate ("60/m"); absent: the deployment default. */
  rateLimit?: string;
  source: 'config' | 'operator';
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  lastActiveAt?: string;
}

/** One entry of the change log. */
export interface AgentChange {
  id: number;
  agentId: string;
  at: string;
  actor: string;
  change: string;
  details: Record<string, unknown>;
}

export interface NewAgent {
  id: string;
  name?: string;
  owner: string;
  description?: string;
  riskTier?: RiskTier;
  allowedActions: string[];
  rateLimit?: string;
}

/** Fields an update may change; `rateLimit: null` returns the agent to the default rate. */
export interface AgentPatch {
  name?: string;
  owner?: string;
  description?: string;
  riskTier?: RiskTier;
  allowedActions?: string[];
  rateLimit?: string | null;
}

/** What the registry checks names against: the config's people and action catalog. */
export interface RegistryVocabulary {
  people: ReadonlySet<string>;
  actions: ReadonlySet<string>;
}

export interface AgentRegistryDeps {
  db: Kysely<Database>;
  clock?: Clock;
  /** When given, owners must be known people and allowed actions known actions. */
  vocabulary?: RegistryVocabulary;
}

/** The people and actions of a config, for validating registry writes. */
export function vocabularyFromConfig(config: CountersignConfig): RegistryVocabulary {
  return { people: new Set(Object.keys(config.people)), actions: new Set(Object.keys(config.actions)) };
}

/** The highest risk among the actions an agent may request: its tier when the config does not say. */
export function riskTierFor(config: CountersignConfig, actions: readonly string[]): RiskTier {
  let tier = 0;
  for (const a of actions) tier = Math.max(tier, RISK_TIERS.indexOf(config.actions[a]?.risk ?? 'low'));
  return RISK_TIERS[tier] ?? 'low';
}

/** Appends to an agent's change log inside the caller's transaction. */
/**
 * Inserts an agent unless one with its id exists, and logs the change in the same transaction. Returns whether it was
 * inserted: another replica may insert the same id at the same moment, and the first insert wins.
 */
async function insertAgentIfAbsent(
  db: Kysely<Database>,
  row: NewAgentRow,
  change: { change: string; details: Record<string, unknown> },
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const result = await trx
      .insertInto('agents')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) return false;
    await recordAgentChange(trx, { agentId: row.id, at: row.created_at, actor: row.created_by, ...change });
    return true;
  });
}

export async function recordAgentChange(
  trx: Kysely<Database> | Transaction<Database>,
  entry: { agentId: string; at: string; actor: string; change: string; details?: Record<string, unknown> },
): Promise<void> {
  await trx
    .insertInto('agent_changes')
    .values({
      agent_id: entry.agentId,
      at: entry.at,
      actor: entry.actor,
      change: entry.change,
      details: JSON.stringify(entry.details ?? {}),
    })
    .execute();
}

/** Creates the registry over the database. */
export function createAgentRegistry(deps: AgentRegistryDeps) {
  const { db } = deps;
  const clock = deps.clock ?? systemClock;
  const listeners = new Set<(agentId: string) => void>();

  function changed(agentId: string): void {
    for (const l of listeners) l(agentId);
  }

  function validate(
    input: Omit<Partial<NewAgent>, 'rateLimit'> & { rateLimit?: string | null },
    creating: boolean,
  ): void {
    const issues: FieldIssue[] = [];
    if (creating && (input.id === undefined || !AGENT_ID.test(input.id))) {
      issues.push({ path: 'id', message: 'lowercase letters, digits, ".", "_" and "-" only, at most 64' });
    }
    if (input.owner !== undefined) {
      if (!input.owner) issues.push({ path: 'owner', message: 'required' });
      else if (deps.vocabulary && !deps.vocabulary.people.has(input.owner)) {
        issues.push({ path: 'owner', message: `unknown person "${input.owner}"` });
      }
    }
    if (input.riskTier !== undefined && !RISK_TIERS.includes(input.riskTier)) {
      issues.push({ path: 'riskTier', message: `one of ${RISK_TIERS.join(', ')}` });
    }
    input.allowedActions?.forEach((a, i) => {
      if (deps.vocabulary && !deps.vocabulary.actions.has(a)) {
        issues.push({ path: `allowedActions[${i}]`, message: `unknown action "${a}"` });
      }
    });
    if (input.rateLimit && !parseRate(input.rateLimit)) {
      issues.push({ path: 'rateLimit', message: 'a rate such as "60/m", "10/s" or "1000/h"' });
    }
    if (issues.length > 0) throw new AppError('validation_failed', 'invalid agent', { errors: issues });
  }

  async function find(id: string): Promise<RegisteredAgent | undefined> {
    const row = await db.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toAgent(row) : undefined;
  }

  async function mustFind(trx: Kysely<Database>, id: string): Promise<AgentRow> {
    const row = await trx.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new AppError('not_found', `no agent "${id}"`);
    return row;
  }

  /** Registers a new agent (active). */
  async function create(
    input: NewAgent,
    actor: string,
    source: 'config' | 'operator' = 'operator',
  ): Promise<RegisteredAgent> {
    validate(input, true);
    const now = clock().toISOString();
    const allowedActions = unique(input.allowedActions);
    const inserted = await insertAgentIfAbsent(
      db,
      {
        id: input.id,
        name: input.name ?? input.id,
        owner: input.owner,
        description: input.description ?? '',
        risk_tier: input.riskTier ?? 'medium',
        allowed_actions: JSON.stringify(allowedActions),
        status: 'active',
        status_reason: null,
        rate_limit: input.rateLimit ?? null,
        source,
        created_at: now,
        created_by: actor,
        updated_at: now,
        last_active_at: null,
      },
      { change: 'created', details: { owner: input.owner, allowedActions, riskTier: input.riskTier ?? 'medium' } },
    );
    if (!inserted) throw new AppError('conflict', `agent "${input.id}" already exists`);
    changed(input.id);
    return (await find(input.id)) as RegisteredAgent;
  }

  /** The inventory, by id; optionally one status or one owner. */
  async function list(filter: { status?: AgentStatus; owner?: string } = {}): Promise<RegisteredAgent[]> {
    let q = db.selectFrom('agents').selectAll().orderBy('id');
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.owner) q = q.where('owner', '=', filter.owner);
    return (await q.execute()).map(toAgent);
  }

  /** Changes descriptive fields and permissions; every changed field is logged with its old and new value. */
  async function update(id: string, patch: AgentPatch, actor: string): Promise<RegisteredAgent> {
    validate(patch, false);
    const now = clock().toISOString();
    const changedAny = await db.transaction().execute(async (trx) => {
      const row = await mustFind(trx, id);
      if (row.status === 'decommissioned') throw new AppError('conflict', `agent "${id}" is decommissioned`);
      const before = toAgent(row);
      const diff: Record<string, { from: unknown; to: unknown }> = {};
      const set: Partial<AgentRow> = {};
      const note = (field: string, from: unknown, to: unknown) => {
        if (JSON.stringify(from) !== JSON.stringify(to)) diff[field] = { from, to };
      };
      if (patch.name !== undefined) {
        note('name', before.name, patch.name);
        set.name = patch.name;
      }
      if (patch.owner !== undefined) {
        note('owner', before.owner, patch.owner);
        set.owner = patch.owner;
      }
      if (patch.description !== undefined) {
        note('description', before.description, patch.description);
        set.description = patch.description;
      }
      if (patch.riskTier !== undefined) {
        note('riskTier', before.riskTier, patch.riskTier);
        set.risk_tier = patch.riskTier;
      }
      if (patch.allowedActions !== undefined) {
        const next = unique(patch.allowedActions);
        note('allowedActions', before.allowedActions, next);
        set.allowed_actions = JSON.stringify(next);
      }
      if (patch.rateLimit !== undefined) {
        note('rateLimit', before.rateLimit ?? null, patch.rateLimit);
        set.rate_limit = patch.rateLimit;
      }
      if (Object.keys(diff).length === 0) return false;
      await trx
        .updateTable('agents')
        .set({ ...set, updated_at: now })
        .where('id', '=', id)
        .execute();
      await recordAgentChange(trx, { agentId: id, at: now, actor, change: 'updated', details: diff });
      return true;
    });
    if (changedAny) changed(id);
    return (await find(id)) as RegisteredAgent;
  }

  async function transition(
    id: string,
    to: AgentStatus,
    change: string,
    actor: string,
    reason: string | undefined,
  ): Promise<RegisteredAgent> {
    const now = clock().toISOString();
    const moved = await db.transaction().execute(async (trx) => {
      const row = await mustFind(trx, id);
      if (row.status === 'decommissioned') throw new AppError('conflict', `agent "${id}" is decommissioned`);
      if (row.status === to) return false;
      await trx
        .updateTable('agents')
        .set({ status: to, status_reason: reason ?? null, updated_at: now })
        .where('id', '=', id)
        .execute();
      const details: Record<string, unknown> = { from: row.status, to, ...(reason ? { reason } : {}) };
      if (to === 'decommissioned') {
        // Every secret goes with the agent, in the same transaction: no window where an old secret still works.
        const revoked = await trx
          .updateTable('agent_credentials')
          .set({ revoked_at: now })
          .where('agent_id', '=', id)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
        details.credentialsRevoked = Number(revoked.numUpdatedRows);
      }
      await recordAgentChange(trx, { agentId: id, at: now, actor, change, details });
      return true;
    });
    if (moved) changed(id);
    return (await find(id)) as RegisteredAgent;
  }

  /** Seeds the config's agents: inserts those absent, leaves existing ones as the registry has them. */
  async function seedFromConfig(config: CountersignConfig, actor = 'config'): Promise<string[]> {
    const inserted: string[] = [];
    for (const agent of config.agents) {
      const now = clock().toISOString();
      const riskTier = riskTierFor(config, agent.allowedActions);
      const done = await insertAgentIfAbsent(
        db,
        {
          id: agent.id,
          name: agent.name ?? agent.id,
          owner: agent.owner,
          description: agent.description,
          risk_tier: riskTier,
          allowed_actions: JSON.stringify(unique(agent.allowedActions)),
          status: agent.enabled ? 'active' : 'suspended',
          status_reason: agent.enabled ? null : 'disabled in the config file',
          rate_limit: null,
          source: 'config',
          created_at: now,
          created_by: actor,
          updated_at: now,
          last_active_at: null,
        },
        {
          change: 'seeded',
          details: { owner: agent.owner, allowedActions: agent.allowedActions, riskTier, enabled: agent.enabled },
        },
      );
      if (done) {
        inserted.push(agent.id);
        changed(agent.id);
      }
    }
    return inserted;
  }

  return {
    create,
    get: find,
    list,
    update,
    /** Stops the agent: its tokens are refused and nothing it asked for executes until it is resumed. */
    suspend: (id: string, actor: string, reason?: string) => transition(id, 'suspended', 'suspended', actor, reason),
    /** Lets a suspended agent act again. */
    resume: (id: string, actor: string, reason?: string) => transition(id, 'active', 'resumed', actor, reason),
    /** Retires the agent for good and revokes every client secret it has. */
    decommission: (id: string, actor: string, reason?: string) =>
      transition(id, 'decommissioned', 'decommissioned', actor, reason),
    /** The agent's change log, oldest first. */
    async changes(id: string, limit = 200): Promise<AgentChange[]> {
      const rows = await db
        .selectFrom('agent_changes')
        .selectAll()
        .where('agent_id', '=', id)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(toChange);
    },
    /** Notes that the agent was seen now (the inventory's "last activity"); not a change-log entry. */
    async recordActivity(id: string, at: Date = clock()): Promise<void> {
      await db.updateTable('agents').set({ last_active_at: at.toISOString() }).where('id', '=', id).execute();
    },
    seedFromConfig,
    /** Subscribes to writes made through this registry (caches invalidate on them); returns the unsubscribe. */
    onChange(listener: (agentId: string) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Tells subscribers an agent changed through another path (credentials) in this process. */
    notifyChanged: changed,
  };
}

export type AgentRegistry = ReturnType<typeof createAgentRegistry>;

function toAgent(row: AgentRow): RegisteredAgent {
  return {
    id: row.id,
    name: row.name,
    owner: row.owner,
    description: row.description,
    riskTier: row.risk_tier as RiskTier,
    allowedActions: JSON.parse(row.allowed_actions) as string[],
    status: row.status as AgentStatus,
    ...(row.status_reason ? { statusReason: row.status_reason } : {}),
    ...(row.rate_limit ? { rateLimit: row.rate_limit } : {}),
    source: row.source as 'config' | 'operator',
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    ...(row.last_active_at ? { lastActiveAt: row.last_active_at } : {}),
  };
}

function toChange(row: AgentChangeRow): AgentChange {
  return {
    id: Number(row.id),
    agentId: row.agent_id,
    at: row.at,
    actor: row.actor,
    change: row.change,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
