// Wires budgets and signals into policy decisions: declares `usage` and `signals` for the engine, and loads both for
// the agent before each evaluation (the request service's `policyExtras`).
import type { Environment } from '@marcbachmann/cel-js';
import type { Kysely } from 'kysely';
import type { CountersignConfig } from '../config/schema';
import type { RequestSignals } from '../contracts/types';
import type { Database } from '../db/schema';
import type { Logger } from '../logger';
import { declareUsageVariables, loadUsageSnapshot, planUsageQueries, type UsageSnapshot } from './budget';
import { createRefusalRecorder, createRefusalStore } from './refusals';
import { computeSignals } from './signals';
import { createUsageStore, type UsageStore } from './store';

export interface UsagePolicyDeps {
  config: CountersignConfig;
  db: Kysely<Database>;
  now?: () => Date;
  logger?: Logger;
}

/** The extra CEL variables of one decision. */
export interface UsageExtras extends Record<string, unknown> {
  usage: UsageSnapshot;
  signals: RequestSignals;
}

/** Plans the policy's usage figures (throws AppError('config_invalid') for one it cannot load) and serves them. */
export function createUsagePolicy(deps: UsagePolicyDeps) {
  const plan = planUsageQueries(deps.config);
  const store: UsageStore = createUsageStore(deps.db);
  const now = deps.now ?? (() => new Date());
  const refusalStore = createRefusalStore(deps.db);
  const refusals = createRefusalRecorder({ store: refusalStore, now, ...(deps.logger ? { logger: deps.logger } : {}) });
  return {
    plan,
    store,
    /** The boundary-testing signal's refusals: record them here, read them as `signals.repeatedRefusals`. */
    refusals,
    /** For `PolicyEngine.compile(config, { extend })`. */
    extend(env: Environment): void {
      declareUsageVariables(env);
    },
    /** For `createRequestService({ policyExtras })`: the agent's usage and the request's signals. */
    async policyExtras(agent: { id: string }, body: { action: string }): Promise<UsageExtras> {
      // The refusal just answered to this agent counts for its next request.
      await refusals.settled(agent.id);
      const at = now();
      const [usage, signals] = await Promise.all([
        loadUsageSnapshot(store, plan, agent.id, at),
        computeSignals(store, deps.config.signals, { agentId: agent.id, action: body.action, at }, refusalStore),
      ]);
      return { usage, signals };
    },
  };
}

export type UsagePolicy = ReturnType<typeof createUsagePolicy>;
