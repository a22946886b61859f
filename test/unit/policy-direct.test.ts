import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Environment } from '@marcbachmann/cel-js';
import { describe, expect, it } from 'vitest';
import { compileDirect, UNHANDLED } from '../../src/policy/direct';
import { celContext, POLICY_VARIABLES, PolicyEngine } from '../../src/policy/engine';
import { CORPUS_CONDITIONS, corpusInputs, corpusPolicies, evaluationText } from './policy-corpus';

const VARIABLES = new Set<string>(POLICY_VARIABLES);

interface Recorded {
  inputs: number;
  policies: Record<string, { effects: string; digest: string }>;
}

function celEnvironment(): Environment {
  const env = new Environment({ homogeneousAggregateLiterals: false, limits: { maxAstNodes: 2000, maxDepth: 64 } });
  for (const name of POLICY_VARIABLES) env.registerVariable(name, 'dyn');
  return env;
}

/** What cel-js alone makes of a condition: its value, or its error's first line. */
function celOutcome(
  parsed: (ctx: Record<string, unknown>) => unknown,
  ctx: Record<string, unknown>,
): { value: unknown } | { error: string } {
  try {
    return { value: parsed(ctx) };
  } catch (err) {
    return { error: err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err) };
  }
}

const request = (params: Record<string, unknown>, environment = 'staging') => ({
  params,
  agent: { id: 'support-bot', owner: 'carol', description: '', allowedActions: [] },
  request: { reason: 'customer asked', onBehalfOf: '', target: { system: '', environment, resource: '' } },
  action: { name: 'payments.refund', risk: 'high' },
});

describe('policy conditions: the direct evaluator', () => {
  it('when the corpus requests are decided, then every decision and trace is the one recorded before the direct evaluator', () => {
    const recorded = JSON.parse(
      readFileSync(new URL('./fixtures/policy-corpus-decisions.json', import.meta.url), 'utf8'),
    ) as Recorded;
    const inputs = corpusInputs(recorded.inputs);
    const policies = corpusPolicies();
    expect(Object.keys(recorded.policies)).toEqual(policies.map((p) => p.name));
    for (const { name, config } of policies) {
      const engine = PolicyEngine.compile(config);
      const evaluations = inputs.map((input) => engine.evaluate(input));
      const effects = evaluations.map((e) => e.decision.effect[0]).join('');
      const digest = createHash('sha256').update(evaluations.map(evaluationText).join('\n')).digest('hex');
      expect({ name, effects, digest }).toEqual({ name, ...recorded.policies[name] });
    }
  });

  it('when the direct evaluator decides, then every evaluation equals cel-js alone, key order and trace included', () => {
    const inputs = corpusInputs(300, 7);
    for (const { config } of corpusPolicies()) {
      const direct = PolicyEngine.compile(config);
      const reference = PolicyEngine.compile(config, { celOnly: true });
      for (const input of inputs) {
        expect(evaluationText(direct.evaluate(input))).toBe(evaluationText(reference.evaluate(input)));
      }
    }
  });

  it('when a condition has a value, then it is cel-js value, and the everyday shapes never reach cel-js', () => {
    const env = celEnvironment();
    const inputs = corpusInputs(300, 11);
    let decided = 0;
    let deferred = 0;
    for (const when of CORPUS_CONDITIONS) {
      const parsed = env.parse(when);
      const direct = compileDirect(parsed.ast, VARIABLES);
      if (!direct) continue;
      for (const input of inputs) {
        const ctx = celContext(input, 'high');
        const value = direct(ctx);
        if (value === UNHANDLED) {
          deferred++;
          continue;
        }
        decided++;
        expect({ when, outcome: celOutcome(parsed, ctx) }).toEqual({ when, outcome: { value } });
      }
    }
    // Both paths are exercised: most evaluations are decided directly, and some values are left to cel-js.
    expect(decided).toBeGreaterThan(deferred);
    expect(deferred).toBeGreaterThan(0);

    const everyday = [
      'params.amount > 1000 && request.target.environment != "production"',
      'params.amount <= 1000 || params.currency == "EUR"',
      '!(params.vip == true) && action.risk == "high"',
      '-5 < params.amount && params.amount >= 10.5',
    ];
    for (const when of everyday) {
      const direct = compileDirect(env.parse(when).ast, VARIABLES);
      const ctx = request({ amount: 1500, currency: 'USD', vip: false });
      expect({ when, value: direct?.(ctx) }).toEqual({ when, value: env.parse(when)(ctx) as unknown });
    }
  });

  it('when a value is outside the kinds it handles, then the direct evaluator leaves the condition to cel-js', () => {
    const env = celEnvironment();
    const cases: [string, Record<string, unknown>][] = [
      ['params.amount > 10', {}], // no such key: cel-js raises it
      ['params.amount > 10', { amount: null }],
      ['params.amount > 10', { amount: '20' }], // no overload: cel-js raises it
      ['params.amount == 10', { amount: 10 }], // double == int: cel-js's own cross-type rule
      ['params.amount == "x"', { amount: 10 }],
      ['params.flag && true', { flag: 'yes' }],
      ['params.flag', { flag: 1 }], // not a bool: cel-js answers, the engine records it
      ['params.list == []', { list: [] }],
      ['params.nested.deep == 1', { nested: new Map([['deep', 1]]) }],
      ['params.when < 2', { when: new Date(0) }],
    ];
    for (const [when, params] of cases) {
      const direct = compileDirect(env.parse(when).ast, VARIABLES);
      expect({ when, params, value: direct ? direct(request(params)) : UNHANDLED }).toEqual({
        when,
        params,
        value: UNHANDLED,
      });
    }
  });

  it('when a condition uses functions, macros, `in`, indexing or a typed variable, then no direct evaluator is built', () => {
    const env = celEnvironment();
    for (const when of [
      'request.reason.startsWith("urgent")',
      'size(agent.allowedActions) > 0',
      'params.currency in ["USD", "EUR"]',
      'params["amount"] > 10',
      'has(params.amount)',
      'agent.allowedActions.exists(a, a == "x")',
      'params.amount > 10 ? true : false',
      'params.amount + 1 > 10',
      'usage.x > 1',
      'request.time < timestamp("2026-01-01T00:00:00Z")',
    ]) {
      expect({ when, direct: compileDirect(env.parse(when).ast, VARIABLES) }).toEqual({ when, direct: undefined });
    }
  });

  it('when a decision is returned, then the trace entries it shares with other decisions cannot be changed', () => {
    const [policy] = corpusPolicies();
    const { trace } = PolicyEngine.compile(policy!.config).evaluate(corpusInputs(1)[0]!);
    const shared = trace.filter((t) => !t.why.startsWith('condition failed'));
    expect(shared.length).toBeGreaterThan(0);
    for (const entry of shared) expect(Object.isFrozen(entry)).toBe(true);
  });
});
