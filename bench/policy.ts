// B6: policy decision cost per call at 10 and at 1,000 rules. Rules are indexed by action, so the cost should follow
// the rules that can match the action, not the total.
import { parseConfig } from '../src/config/load';
import { PolicyEngine, type PolicyInput } from '../src/policy/engine';
import { quantile } from './stats';

export interface PolicyFigures {
  rules: number;
  p50us: number;
  p99us: number;
  meanUs: number;
}

/** A config with `rules` rules spread over actions, ten per action, each with a CEL condition. */
export function policyConfigYaml(rules: number): string {
  const actions = Math.max(1, Math.ceil(rules / 10));
  const lines = ['people: { owner: {}, alice: {} }', 'agents: [{ id: bot, owner: owner, allowedActions: [] }]'];
  lines.push('approvers: { finance: { members: [alice] } }');
  lines.push("connectors: { c: { type: http, allowedHosts: ['127.0.0.1'] } }", 'actions:');
  for (let a = 0; a < actions; a++) {
    lines.push(
      `  bench.action_${a}: { description: d, risk: high, connector: c, http: { url: 'http://127.0.0.1/x' } }`,
    );
  }
  lines.push('policies:', '  rules:');
  for (let r = 0; r < rules; r++) {
    const action = `bench.action_${r % actions}`;
    const effect =
      r % 10 === 9 ? 'require_approval\n      approvers: finance' : r % 10 === 8 ? 'deny\n      reason: no' : 'allow';
    lines.push(
      `    - id: rule-${r}`,
      `      match: { actions: [${action}] }`,
      `      when: params.amount > ${r % 1000} && request.target.environment != "production"`,
      `      effect: ${effect}`,
    );
  }
  return lines.join('\n');
}

/** Measures per-call decision time; `iterations` evaluations after a warm-up. */
export function runPolicyBench(rules: number, iterations = 20_000): PolicyFigures {
  const engine = PolicyEngine.compile(parseConfig(policyConfigYaml(rules)));
  const input: PolicyInput = {
    action: 'bench.action_0',
    params: { amount: 500, currency: 'USD' },
    agent: { id: 'bot', owner: 'owner' },
    request: { reason: 'benchmark', target: { environment: 'staging' }, time: new Date() },
  };
  for (let i = 0; i < 2000; i++) engine.evaluate(input);
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    engine.evaluate(input);
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return {
    rules,
    p50us: quantile(samples, 0.5),
    p99us: quantile(samples, 0.99),
    meanUs: samples.reduce((a, b) => a + b, 0) / samples.length,
  };
}
