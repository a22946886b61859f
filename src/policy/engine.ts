// The policy engine: rules compiled once at load (CEL parsed and type-checked, rules indexed by action), so a decision
// costs what its matching rules cost. Every rule is evaluated; deny beats require_approval beats allow; no match denies.
import { Environment } from '@marcbachmann/cel-js';
import { canonicalJson, sha256Hex } from '../canonical';
import type { CountersignConfig, PolicyRuleConfig } from '../config/schema';
import type {
  ActionTarget,
  ApprovalRequirement,
  PolicyDecision,
  PolicyEffect,
  RecordedPolicyInputs,
  RequestSignals,
  RiskTier,
} from '../contracts/types';
import { groupMembers } from '../directory';
import { AppError, type FieldIssue } from '../errors';
import { compileDirect, UNHANDLED } from './direct';
import { isoTime } from './iso-time';

/** What a rule sees of a request. */
export interface PolicyInput {
  action: string;
  params: Record<string, unknown>;
  agent: { id: string; owner: string; description?: string; allowedActions?: string[] };
  request: { reason: string; onBehalfOf?: string; target?: ActionTarget; time: Date };
  /** Extra variables (usage, signals) provided by later stages; exposed to CEL as-is. */
  extra?: Record<string, unknown>;
}

/** One rule's verdict, for dry runs and the decision record. */
export interface RuleTrace {
  ruleId: string;
  matched: boolean;
  effect: PolicyEffect;
  why: string;
}

export interface PolicyEvaluation {
  decision: PolicyDecision;
  trace: RuleTrace[];
}

interface CompiledRule {
  rule: PolicyRuleConfig;
  index: number;
  agents?: ReadonlySet<string>;
  risk?: ReadonlySet<RiskTier>;
  condition?: (ctx: Record<string, unknown>) => unknown;
  /** The rule's trace entries that do not depend on the request, built once (frozen: decisions share them). */
  traces: {
    agent: RuleTrace;
    risk: RuleTrace;
    whenFalse: RuleTrace;
    notBool: RuleTrace;
    matched: RuleTrace;
  };
}

/** A condition: the direct evaluator where it decides, cel-js for everything else (see direct.ts). */
function condition(
  parsed: (ctx: Record<string, unknown>) => unknown,
  ast: unknown,
  variables: ReadonlySet<string>,
): (ctx: Record<string, unknown>) => unknown {
  const direct = compileDirect(ast, variables);
  if (!direct) return parsed;
  return (ctx) => {
    const value = direct(ctx);
    return value === UNHANDLED ? parsed(ctx) : value;
  };
}

function ruleTraces(rule: PolicyRuleConfig): CompiledRule['traces'] {
  const entry = (matched: boolean, why: string): RuleTrace =>
    Object.freeze({ ruleId: rule.id, matched, effect: rule.effect, why });
  return {
    agent: entry(false, 'agent not in match.agents'),
    risk: entry(false, 'risk tier not in match.risk'),
    whenFalse: entry(false, `when is false: ${rule.when}`),
    notBool: entry(false, 'when is not a bool'),
    matched: entry(true, rule.when ? `when: ${rule.when}` : 'matched'),
  };
}

const NO_RULES: readonly CompiledRule[] = [];

const EFFECT_RANK: Record<PolicyEffect, number> = { allow: 0, require_approval: 1, deny: 2 };
const EFFECTS: readonly PolicyEffect[] = ['allow', 'require_approval', 'deny'];

/** The agent-facing reason of a denial: every matched deny rule's reason, in rule order. */
function denyReasons(matched: readonly CompiledRule[]): string {
  const reasons: (string | undefined)[] = [];
  for (const c of matched) if (c.rule.effect === 'deny') reasons.push(c.rule.reason);
  return reasons.join('; ');
}

/** Extra CEL variables every condition may use; later stages fill them. */
export const POLICY_VARIABLES = ['params', 'agent', 'request', 'action'] as const;

/** A compiled, immutable policy. */
export class PolicyEngine {
  readonly version: string;
  readonly mode: 'enforce' | 'shadow';
  private readonly byAction: Map<string, CompiledRule[]>;
  private readonly risks: Map<string, RiskTier>;

  private constructor(
    private readonly config: CountersignConfig,
    version: string,
    byAction: Map<string, CompiledRule[]>,
  ) {
    this.version = version;
    this.mode = config.policies.mode;
    this.byAction = byAction;
    this.risks = new Map(Object.entries(config.actions).map(([name, a]) => [name, a.risk]));
  }

  /**
   * Compiles every rule; throws AppError('config_invalid') listing each bad CEL condition with its path.
   * `extend` declares typed variables and functions (usage budgets, signals) before the rules are checked.
   * `celOnly` evaluates every condition with cel-js alone, without the direct evaluator: the reference it is tested
   * against (the decisions are the same either way).
   */
  static compile(
    config: CountersignConfig,
    options: { extraVariables?: readonly string[]; extend?: (env: Environment) => void; celOnly?: boolean } = {},
  ): PolicyEngine {
    const env = new Environment({ homogeneousAggregateLiterals: false, limits: { maxAstNodes: 2000, maxDepth: 64 } });
    const dynVariables = new Set<string>([...POLICY_VARIABLES, ...(options.extraVariables ?? [])]);
    for (const name of dynVariables) env.registerVariable(name, 'dyn');
    options.extend?.(env);
    const issues: FieldIssue[] = [];
    const compiled: CompiledRule[] = config.policies.rules.map((rule, index) => {
      const out: CompiledRule = {
        rule,
        index,
        agents: rule.match.agents ? new Set(rule.match.agents) : undefined,
        risk: rule.match.risk ? new Set(rule.match.risk) : undefined,
        traces: ruleTraces(rule),
      };
      if (rule.when) {
        try {
          const check = env.check(rule.when);
          if (!check.valid) throw check.error ?? new Error('invalid expression');
          if (check.type !== 'bool' && check.type !== 'dyn') throw new Error(`must be bool, is ${check.type}`);
          const parsed = env.parse(rule.when);
          out.condition = options.celOnly ? parsed : condition(parsed, parsed.ast, dynVariables);
        } catch (err) {
          issues.push({
            path: `policies.rules[${index}].when`,
            message: `invalid CEL in rule "${rule.id}": ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
          });
        }
      }
      return out;
    });
    if (issues.length > 0) throw new AppError('config_invalid', 'invalid policy', { errors: issues });

    const byAction = new Map<string, CompiledRule[]>();
    for (const action of Object.keys(config.actions)) {
      byAction.set(
        action,
        compiled.filter((c) => matchesAction(c.rule.match.actions, action)),
      );
    }
    const version = `p-${sha256Hex(canonicalJson({ policies: config.policies, approvers: config.approvers })).slice(0, 16)}`;
    return new PolicyEngine(config, version, byAction);
  }

  /** Rules that could apply to an action (for inspection and benchmarks). */
  candidateRules(action: string): number {
    return this.byAction.get(action)?.length ?? 0;
  }

  /** Decides a request. Never throws for a bad condition at run time: that rule fails closed (deny). */
  evaluate(input: PolicyInput): PolicyEvaluation {
    const risk = this.risks.get(input.action);
    const candidates = this.byAction.get(input.action) ?? NO_RULES;
    const trace: RuleTrace[] = [];
    const matched: CompiledRule[] = [];
    let failure: string | undefined;
    let ctx: Record<string, unknown> | undefined;
    // The strongest effect among the matched rules (deny beats require_approval beats allow).
    let rank = 0;

    for (const c of candidates) {
      const { rule, traces } = c;
      if (c.agents && !c.agents.has(input.agent.id)) {
        trace.push(traces.agent);
        continue;
      }
      if (c.risk && (!risk || !c.risk.has(risk))) {
        trace.push(traces.risk);
        continue;
      }
      if (c.condition) {
        ctx ??= celContext(input, risk);
        let result: unknown;
        try {
          result = c.condition(ctx);
        } catch (err) {
          const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
          failure = `rule "${rule.id}" could not be evaluated: ${message}`;
          trace.push({ ruleId: rule.id, matched: true, effect: 'deny', why: `condition failed: ${message}` });
          matched.push(c);
          rank = Math.max(rank, EFFECT_RANK[rule.effect]);
          continue;
        }
        if (result !== true) {
          trace.push(typeof result === 'boolean' ? traces.whenFalse : traces.notBool);
          continue;
        }
      }
      trace.push(traces.matched);
      matched.push(c);
      rank = Math.max(rank, EFFECT_RANK[rule.effect]);
    }

    let effect: PolicyEffect = 'deny';
    let reason: string | undefined = 'no policy rule allows this request';
    if (failure) {
      reason = `policy could not be evaluated (${failure})`;
    } else if (matched.length > 0) {
      effect = EFFECTS[rank] ?? 'deny';
      reason = effect === 'deny' ? denyReasons(matched) : undefined;
    }
    // Shadow mode lets requests through, except when the policy could not be evaluated: that always fails closed.
    const governing = this.mode === 'shadow' && !failure ? 'allow' : effect;
    const rules: string[] = [];
    const approvals: ApprovalRequirement[] = [];
    for (const c of matched) {
      rules.push(c.rule.id);
      if (governing === 'require_approval' && c.rule.effect === 'require_approval')
        approvals.push(this.requirement(c.rule));
    }
    const signals = input.extra?.signals as RequestSignals | undefined;
    const usage = input.extra?.usage as { toJSON?: () => Record<string, number> } | undefined;
    // Built key by key in the order the record has always had (histories and evidence serialize it as is).
    const { mode, version: policyVersion } = this;
    const decision: PolicyDecision = reason
      ? { effect: governing, evaluatedEffect: effect, mode, rules, reason, policyVersion, approvals }
      : { effect: governing, evaluatedEffect: effect, mode, rules, policyVersion, approvals };
    // The signals the rules saw are part of why the request was decided as it was: they go on the record.
    if (signals && typeof signals === 'object') decision.signals = signals;
    const agent: RecordedPolicyInputs['agent'] = {};
    if (input.agent.description !== undefined) agent.description = input.agent.description;
    if (input.agent.allowedActions) agent.allowedActions = [...input.agent.allowedActions];
    const inputs: RecordedPolicyInputs = { time: isoTime(input.request.time), agent };
    if (typeof usage?.toJSON === 'function') inputs.usage = usage.toJSON();
    decision.inputs = inputs;
    return { decision, trace };
  }

  private requirement(rule: PolicyRuleConfig): ApprovalRequirement {
    return {
      ruleId: rule.id,
      group: rule.approvers ?? '',
      quorum: rule.quorum,
      members: groupMembers(this.config, rule.approvers),
      ...(rule.remindAfter !== undefined ? { remindAfterMs: rule.remindAfter } : {}),
      ...(rule.escalateAfter !== undefined ? { escalateAfterMs: rule.escalateAfter } : {}),
      ...(rule.escalateTo !== undefined ? { escalateTo: rule.escalateTo } : {}),
      escalationMembers: groupMembers(this.config, rule.escalateTo),
      ...usergroupsOf(this.config, 'usergroups', rule.approvers),
      ...usergroupsOf(this.config, 'escalationUsergroups', rule.escalateTo),
      expireAfterMs: rule.expireAfter,
    };
  }
}

/** A group's Slack user group as a requirement field, omitted when the group names none. */
function usergroupsOf(
  config: CountersignConfig,
  key: 'usergroups' | 'escalationUsergroups',
  group: string | undefined,
): Partial<Pick<ApprovalRequirement, 'usergroups' | 'escalationUsergroups'>> {
  const usergroup = group ? config.approvers[group]?.slackUsergroup : undefined;
  return usergroup ? { [key]: [usergroup] } : {};
}

function matchesAction(patterns: readonly string[] | undefined, action: string): boolean {
  if (!patterns) return true;
  return patterns.some((p) => (p.endsWith('*') ? action.startsWith(p.slice(0, -1)) : p === action));
}

/** The CEL variables of one decision. */
export function celContext(input: PolicyInput, risk: RiskTier | undefined): Record<string, unknown> {
  return {
    ...input.extra,
    params: input.params,
    agent: { description: '', allowedActions: [], ...input.agent },
    request: {
      reason: input.request.reason,
      onBehalfOf: input.request.onBehalfOf ?? '',
      target: { system: '', environment: '', resource: '', ...input.request.target },
      time: input.request.time,
    },
    action: { name: input.action, risk: risk ?? '' },
  };
}
