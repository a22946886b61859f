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

/** Decisions before the timed ones: enough for V8 to have optimized the evaluation path before the first sample. */
const WARM_UP = 10_000;

/**
 * Measures per-call decision time; `iterations` evaluations after a warm-up. The harness allocates nothing per sample
 * beyond the timer's own readings (samples go into a preallocated array), and collects the garbage of compiling the
 * policy before timing starts when the process runs with `--expose-gc` (as `npm run bench` does), so the tail is the
 * decisions' own: their allocation and its scavenges are counted, the harness's and the compiler's are not.
 */
export function runPolicyBench(rules: number, iterations = 20_000): PolicyFigures {
  const engine = PolicyEngine.compile(parseConfig(policyConfigYaml(rules)));
  const input: PolicyInput = {
    action: 'bench.action_0',
    params: { amount: 500, currency: 'USD' },
    agent: { id: 'bot', owner: 'owner' },
    request: { reason: 'benchmark', target: { environment: 'staging' }, time: new Date() },
  };
  for (let i = 0; i < WARM_UP; i++) engine.evaluate(input);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    engine.evaluate(input);
    samples[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  const values = Array.from(samples);
  return {
    rules,
    p50us: quantile(values, 0.5),
    p99us: quantile(values, 0.99),
    meanUs: values.reduce((a, b) => a + b, 0) / values.length,
  };
}
