// Wires budgets and signals into policy decisions: declares `usage` and `signals` for the engine, and loads both for
// the agent before each evaluation (the request service's `policyExtras`).
import type { Environment } from '@marcbachmann/cel-js';
import type { Kysely } from 'kysely';
import type { CountersignConfig } from '../config/schema';
import type { RequestSignals } from '../contracts/types';
import type { Database } from '../db/schema';
import { declareUsageVariables, loadUsageSnapshot, planUsageQueries, type UsageSnapshot } from './budget';
import { computeSignals } from './signals';
import { createUsageStore, type UsageStore } from './store';

export interface UsagePolicyDeps {
  config: CountersignConfig;
  db: Kysely<Database>;
  now?: () => Date;
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
  return {
    plan,
    store,
    /** For `PolicyEngine.compile(config, { extend })`. */
    extend(env: Environment): void {
      declareUsageVariables(env);
    },
    /** For `createRequestService({ policyExtras })`: the agent's usage and the request's signals. */
    async policyExtras(agent: { id: string }, body: { action: string }): Promise<UsageExtras> {
      const at = now();
      const [usage, signals] = await Promise.all([
        loadUsageSnapshot(store, plan, agent.id, at),
        computeSignals(store, deps.config.signals, { agentId: agent.id, action: body.action, at }),
      ]);
      return { usage, signals };
    },
  };
}

export type UsagePolicy = ReturnType<typeof createUsagePolicy>;
