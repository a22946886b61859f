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
  RequestSignals,
  RiskTier,
} from '../contracts/types';
import { groupMembers } from '../directory';
import { AppError, type FieldIssue } from '../errors';

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
}

const EFFECT_RANK: Record<PolicyEffect, number> = { allow: 0, require_approval: 1, deny: 2 };

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
   */
  static compile(
    config: CountersignConfig,
    options: { extraVariables?: readonly string[]; extend?: (env: Environment) => void } = {},
  ): PolicyEngine {
    const env = new Environment({ homogeneousAggregateLiterals: false, limits: { maxAstNodes: 2000, maxDepth: 64 } });
    for (const name of [...POLICY_VARIABLES, ...(options.extraVariables ?? [])]) env.registerVariable(name, 'dyn');
    options.extend?.(env);
    const issues: FieldIssue[] = [];
    const compiled: CompiledRule[] = config.policies.rules.map((rule, index) => {
      const out: CompiledRule = {
        rule,
        index,
        agents: rule.match.agents ? new Set(rule.match.agents) : undefined,
        risk: rule.match.risk ? new Set(rule.match.risk) : undefined,
      };
      if (rule.when) {
        try {
          const check = env.check(rule.when);
          if (!check.valid) throw check.error ?? new Error('invalid expression');
          if (check.type !== 'bool' && check.type !== 'dyn') throw new Error(`must be bool, is ${check.type}`);
          out.condition = env.parse(rule.when);
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
    const candidates = this.byAction.get(input.action) ?? [];
    const trace: RuleTrace[] = [];
    const matched: CompiledRule[] = [];
    let failure: string | undefined;
    let ctx: Record<string, unknown> | undefined;

    for (const c of candidates) {
      const { rule } = c;
      if (c.agents && !c.agents.has(input.agent.id)) {
        trace.push({ ruleId: rule.id, matched: false, effect: rule.effect, why: 'agent not in match.agents' });
        continue;
      }
      if (c.risk && (!risk || !c.risk.has(risk))) {
        trace.push({ ruleId: rule.id, matched: false, effect: rule.effect, why: 'risk tier not in match.risk' });
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
          continue;
        }
        if (result !== true) {
          trace.push({
            ruleId: rule.id,
            matched: false,
            effect: rule.effect,
            why: typeof result === 'boolean' ? `when is false: ${rule.when}` : 'when is not a bool',
          });
          continue;
        }
      }
      trace.push({ ruleId: rule.id, matched: true, effect: rule.effect, why: rule.when ? `when: ${rule.when}` : 'matched' });
      matched.push(c);
    }

    let effect: PolicyEffect = 'deny';
    let reason: string | undefined = 'no policy rule allows this request';
    if (failure) {
      reason = `policy could not be evaluated (${failure})`;
    } else if (matched.length > 0) {
      effect = matched.reduce<PolicyEffect>((e, c) => (EFFECT_RANK[c.rule.effect] > EFFECT_RANK[e] ? c.rule.effect : e), 'allow');
      reason = effect === 'deny' ? matched.filter((c) => c.rule.effect === 'deny').map((c) => c.rule.reason).join('; ') : undefined;
    }
    const approvals: ApprovalRequirement[] =
      effect === 'require_approval'
        ? matched.filter((c) => c.rule.effect === 'require_approval').map((c) => this.requirement(c.rule))
        : [];
    // Shadow mode lets requests through, except when the policy could not be evaluated: that always fails closed.
    const governing = this.mode === 'shadow' && !failure ? 'allow' : effect;
    const signals = input.extra?.signals as RequestSignals | undefined;
    const usage = input.extra?.usage as { toJSON?: () => Record<string, number> } | undefined;
    return {
      decision: {
        effect: governing,
        evaluatedEffect: effect,
        mode: this.mode,
        rules: matched.map((c) => c.rule.id),
        ...(reason ? { reason } : {}),
        policyVersion: this.version,
        approvals: governing === 'require_approval' ? approvals : [],
        // The signals the rules saw are part of why the request was decided as it was: they go on the record.
        ...(signals && typeof signals === 'object' ? { signals } : {}),
        inputs: {
          time: input.request.time.toISOString(),
          agent: {
            ...(input.agent.description !== undefined ? { description: input.agent.description } : {}),
            ...(input.agent.allowedActions ? { allowedActions: [...input.agent.allowedActions] } : {}),
          },
          ...(typeof usage?.toJSON === 'function' ? { usage: usage.toJSON() } : {}),
        },
      },
      trace,
    };
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

function celContext(input: PolicyInput, risk: RiskTier | undefined): Record<string, unknown> {
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
