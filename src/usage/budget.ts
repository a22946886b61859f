// Exposure budgets in CEL: `usage.sum('payments.refund', 'amount', '24h')` and `usage.count('customers.delete', '1h')`.
// CEL functions are synchronous and the numbers live in the database, so the policy's usage calls are found once, at
// load, from the rules' syntax trees (their arguments must be literals), and loaded for the agent before each decision.
// A call that was not loaded fails its rule, and a failed rule denies: budgets fail closed.
import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import ms from 'ms';
import type { CountersignConfig } from '../config/schema';
import { AppError, type FieldIssue } from '../errors';
import type { UsageStore } from './store';

/** Longest window a budget may look back over. */
export const MAX_USAGE_WINDOW_MS = 90 * 86_400_000;

/** One usage figure a policy reads. */
export interface UsageQuery {
  kind: 'sum' | 'count';
  /** Exact action, or `prefix.*`. */
  action: string;
  field?: string;
  window: string;
  windowMs: number;
}

/** The agent's usage figures for one decision; the CEL type `Usage`. */
export class UsageSnapshot {
  constructor(private readonly values: ReadonlyMap<string, number>) {}

  /** Sum of a numeric parameter over the agent's executions of an action in the window. */
  sum(action: string, field: string, window: string): number {
    return this.lookup(
      usageKey({ kind: 'sum', action, field, window }),
      `usage.sum('${action}', '${field}', '${window}')`,
    );
  }

  /** The agent's executions of an action in the window. */
  count(action: string, window: string): bigint {
    return BigInt(this.lookup(usageKey({ kind: 'count', action, window }), `usage.count('${action}', '${window}')`));
  }

  /** Every loaded figure, by its CEL call (for the decision record and dry runs). */
  toJSON(): Record<string, number> {
    return Object.fromEntries(this.values);
  }

  private lookup(key: string, call: string): number {
    const value = this.values.get(key);
    if (value === undefined) throw new Error(`${call} was not loaded for this decision`);
    return value;
  }
}

/** The key of a figure: its CEL call, normalised. */
export function usageKey(q: Pick<UsageQuery, 'kind' | 'action' | 'field' | 'window'>): string {
  return q.kind === 'sum' ? `sum('${q.action}', '${q.field}', '${q.window}')` : `count('${q.action}', '${q.window}')`;
}

/** Declares `usage` (with its methods) and `signals` for policy conditions; pass as `PolicyEngine.compile`'s `extend`. */
export function declareUsageVariables(env: Environment): void {
  env.registerType('Usage', UsageSnapshot);
  env.registerFunction({
    name: 'sum',
    receiverType: 'Usage',
    returnType: 'double',
    description: "The agent's total of a numeric parameter over its executions of an action within a window.",
    params: [
      { name: 'action', type: 'string' },
      { name: 'field', type: 'string' },
      { name: 'window', type: 'string' },
    ],
    handler: (usage: UsageSnapshot, action: string, field: string, window: string) => usage.sum(action, field, window),
  });
  env.registerFunction({
    name: 'count',
    receiverType: 'Usage',
    returnType: 'int',
    description: "The agent's executions of an action within a window.",
    params: [
      { name: 'action', type: 'string' },
      { name: 'window', type: 'string' },
    ],
    handler: (usage: UsageSnapshot, action: string, window: string) => usage.count(action, window),
  });
  env.registerVariable('usage', 'Usage');
  env.registerVariable('signals', 'dyn');
}

/** Every usage figure the policy reads; throws AppError('config_invalid') for a call that cannot be planned. */
export function planUsageQueries(config: CountersignConfig): UsageQuery[] {
  const env = new Environment({ homogeneousAggregateLiterals: false, unlistedVariablesAreDyn: true });
  declareUsageVariables(env);
  const issues: FieldIssue[] = [];
  const plan = new Map<string, UsageQuery>();
  config.policies.rules.forEach((rule, index) => {
    if (!rule.when || !/\busage\b/.test(rule.when)) return;
    const path = `policies.rules[${index}].when`;
    let ast: ASTNode;
    try {
      ast = env.parse(rule.when).ast;
    } catch {
      return; // The policy engine reports syntax errors with their position.
    }
    let receivers = 0;
    let references = 0;
    walk(ast, (node) => {
      if (node.op === 'id' && node.args === 'usage') references += 1;
      if (node.op !== 'rcall') return;
      const [name, receiver, args] = node.args;
      if (receiver.op !== 'id' || receiver.args !== 'usage') return;
      receivers += 1;
      const literals = args.map((a) => (a.op === 'value' && typeof a.args === 'string' ? a.args : undefined));
      const at = `usage.${name}(…) in rule "${rule.id}"`;
      if (literals.some((l) => l === undefined)) {
        issues.push({ path, message: `${at}: every argument must be a string literal, so the figure can be loaded` });
        return;
      }
      const query = toQuery(name, literals as string[]);
      if (typeof query === 'string') {
        issues.push({ path, message: `${at}: ${query}` });
        return;
      }
      const unknown = unknownAction(config, query.action);
      if (unknown) issues.push({ path, message: `${at}: ${unknown}` });
      else plan.set(usageKey(query), query);
    });
    if (references > receivers) {
      issues.push({ path, message: `rule "${rule.id}" uses \`usage\` other than as usage.sum(…) or usage.count(…)` });
    }
  });
  if (issues.length > 0) throw new AppError('config_invalid', 'invalid usage budget in policy', { errors: issues });
  return [...plan.values()];
}

/** Loads the planned figures for one agent as of `now`. */
export async function loadUsageSnapshot(
  store: UsageStore,
  plan: readonly UsageQuery[],
  agentId: string,
  now: Date,
): Promise<UsageSnapshot> {
  const values = new Map<string, number>();
  await Promise.all(
    plan.map(async (q) => {
      const scope = { agentId, action: q.action, since: new Date(now.getTime() - q.windowMs) };
      values.set(usageKey(q), q.kind === 'sum' ? await store.sum(scope, q.field ?? '') : await store.count(scope));
    }),
  );
  return new UsageSnapshot(values);
}

function toQuery(name: string, args: string[]): UsageQuery | string {
  const expectedArgs = name === 'sum' ? 3 : name === 'count' ? 2 : undefined;
  if (expectedArgs === undefined)
    return `unknown function; use usage.sum(action, field, window) or usage.count(action, window)`;
  if (args.length !== expectedArgs) return `takes ${expectedArgs} arguments`;
  const action = args[0] ?? '';
  const window = args[expectedArgs - 1] ?? '';
  const windowMs = ms(window as ms.StringValue);
  if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs <= 0) {
    return `"${window}" is not a window such as "1h", "24h" or "7d"`;
  }
  if (windowMs > MAX_USAGE_WINDOW_MS) return `"${window}" is longer than ${ms(MAX_USAGE_WINDOW_MS, { long: true })}`;
  if (name === 'sum') {
    const field = args[1] ?? '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$/.test(field))
      return `"${field}" is not a parameter name`;
    return { kind: 'sum', action, field, window, windowMs };
  }
  return { kind: 'count', action, window, windowMs };
}

function unknownAction(config: CountersignConfig, action: string): string | undefined {
  if (action.endsWith('*')) {
    const prefix = action.slice(0, -1);
    return Object.keys(config.actions).some((a) => a.startsWith(prefix)) ? undefined : `no action matches "${action}"`;
  }
  return action in config.actions ? undefined : `unknown action "${action}"`;
}

function walk(node: unknown, visit: (node: ASTNode) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) walk(child, visit);
    return;
  }
  if (!node || typeof node !== 'object' || !('op' in node)) return;
  visit(node as ASTNode);
  walk((node as ASTNode).args, visit);
}
