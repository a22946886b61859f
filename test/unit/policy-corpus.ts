// A corpus of policy rules and requests for checking that the policy engine decides exactly as it did before its
// conditions got a direct evaluator: rules in the shapes the direct path handles and in shapes it leaves to cel-js
// (functions, lists, timestamps, `in`, bad fields, non-bool results), requests with values of every kind a condition
// may meet (numbers, strings, bools, nulls, lists, missing keys, nested objects, mixed int/double).
import { createHash } from 'node:crypto';
import { parseConfig } from '../../src/config/load';
import type { CountersignConfig } from '../../src/config/schema';
import type { PolicyEvaluation, PolicyInput } from '../../src/policy/engine';

const HOST = '127.0.0.1:9';

/** `when` conditions of the corpus, one rule each (effects rotate through allow, require_approval, deny). */
export const CORPUS_CONDITIONS = [
  'params.amount <= 1000',
  'params.amount > 1000',
  'request.target.environment == "production" && params.amount > 5000',
  'request.target.environment != "production"',
  'params.currency != "USD"',
  'params.currency == "EUR" || params.amount < 10',
  '!params.flag',
  'params.flag || params.amount >= 10.5',
  'params.count == 3',
  'params.count != 3.0',
  'params.count > 2 && params.count < 4.5',
  '-5 < params.amount',
  'request.reason < "m"',
  'request.reason >= "customer"',
  'params.flag == true',
  'params.flag < true',
  'params.nested.deep == "x"',
  'params.nested.deep.deeper != 1',
  'params.missing == 1',
  'params.amount',
  'request.reason.startsWith("urgent")',
  'size(agent.allowedActions) > 0',
  'params.currency in ["USD", "EUR"]',
  'request.time < timestamp("2026-01-01T00:00:00Z")',
  'action.risk == "high" && action.name == "payments.refund"',
  'request.onBehalfOf == "" && agent.description != ""',
  'request.target.system == "billing" || request.target.resource != ""',
  'agent.id == "support-bot" && agent.owner == "carol"',
  'params.amount > 100 && params.amount < 1000 || params.vip == true',
  'params.amount == null',
  'params.list == []',
  'true',
  'false || false',
  '1 < 2 && "a" == "a"',
];

/** A policy of the given conditions, one rule each; `mode` shadow lets every evaluable request through. */
export function corpusConfig(conditions: readonly string[], mode: 'enforce' | 'shadow' = 'enforce'): CountersignConfig {
  const effects = ['allow', 'require_approval\n      approvers: finance', 'deny\n      reason: Not this one.'];
  const rules = conditions.map((when, i) =>
    [
      `    - id: rule-${i}`,
      `      when: '${when.replaceAll("'", "''")}'`,
      `      effect: ${effects[i % 3]}`,
      `      match: { ${[
        i % 7 === 3 ? 'agents: [support-bot]' : '',
        i % 11 === 5 ? 'risk: [high, critical]' : '',
        i % 13 === 4 ? "actions: ['payments.*']" : '',
      ]
        .filter(Boolean)
        .join(', ')} }`,
    ].join('\n'),
  );
  return parseConfig(`
people:
  carol: { email: carol@example.com }
  alice: { email: alice@example.com }
  bob: { email: bob@example.com }
agents:
  - { id: support-bot, owner: carol, allowedActions: [payments.refund, email.send_external] }
  - { id: ops-bot, owner: carol, allowedActions: [payments.refund] }
approvers:
  finance: { members: [alice, bob] }
connectors:
  billing: { type: http, allowedHosts: ['${HOST}'] }
actions:
  payments.refund: { description: Refund., risk: high, connector: billing, http: { url: 'http://${HOST}/r' } }
  email.send_external: { description: Email., risk: medium, connector: billing, http: { url: 'http://${HOST}/e' } }
  customers.delete: { description: Delete., risk: critical, connector: billing, http: { url: 'http://${HOST}/d' } }
policies:
  mode: ${mode}
  rules:
    - { id: unconditional, effect: allow, match: { actions: ['email.*'] } }
${rules.join('\n')}
`);
}

/**
 * The corpus policies: every condition in one policy (enforced and in shadow mode), a policy of the first eight (the
 * everyday shapes, which mostly evaluate), and each condition alone (its own verdicts: matched, false, not a bool,
 * failed). Names are stable: the recorded fixture refers to them.
 */
export function corpusPolicies(): { name: string; config: CountersignConfig }[] {
  return [
    { name: 'all', config: corpusConfig(CORPUS_CONDITIONS) },
    { name: 'all-shadow', config: corpusConfig(CORPUS_CONDITIONS, 'shadow') },
    { name: 'everyday', config: corpusConfig(CORPUS_CONDITIONS.slice(0, 8)) },
    ...CORPUS_CONDITIONS.map((when, i) => ({ name: `only-${i}`, config: corpusConfig([when]) })),
  ];
}

/** A small deterministic PRNG (mulberry32), so the corpus is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MISSING = Symbol('missing');

/** `count` requests, the same for a given seed. */
export function corpusInputs(count: number, seed = 20261201): PolicyInput[] {
  const random = prng(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const inputs: PolicyInput[] = [];
  for (let i = 0; i < count; i++) {
    const params: Record<string, unknown> = {};
    const set = (key: string, values: readonly unknown[]) => {
      const v = pick(values);
      if (v !== MISSING) params[key] = v;
    };
    set('amount', [0, 9.5, 10, 10.5, 500, 999.99, 1000, 1000.5, 5001, -3, -5, Number.NaN, '100', null, true, MISSING]);
    set('currency', ['USD', 'EUR', 'GBP', '', 5, null, MISSING]);
    set('flag', [true, false, 'yes', 0, null, MISSING]);
    set('count', [3, 3.5, 2, 4, 5, '3', MISSING]);
    set('nested', [
      { deep: 'x' },
      { deep: 'y' },
      { deep: 1 },
      { deep: { deeper: 1 } },
      { deep: { deeper: 2 } },
      null,
      [],
      'x',
      MISSING,
    ]);
    set('vip', [true, false, MISSING]);
    set('list', [[], [1], MISSING]);
    const target = pick([
      undefined,
      { environment: 'production' },
      { environment: 'staging', system: 'billing' },
      { system: 'crm', resource: 'cus_1' },
      {},
    ]);
    const description = pick([undefined, '', 'Answers support tickets.']);
    const allowedActions = pick([undefined, [], ['payments.refund']]);
    const onBehalfOf = pick([undefined, 'carol']);
    inputs.push({
      action: pick(['payments.refund', 'email.send_external', 'customers.delete', 'unknown.action']),
      params,
      agent: {
        id: pick(['support-bot', 'ops-bot']),
        owner: 'carol',
        ...(description !== undefined ? { description } : {}),
        ...(allowedActions ? { allowedActions } : {}),
      },
      request: {
        reason: pick(['customer asked', 'urgent: chargeback', 'monthly cleanup', 'Zebra']),
        ...(onBehalfOf ? { onBehalfOf } : {}),
        ...(target ? { target } : {}),
        time: new Date(pick([Date.UTC(2025, 2, 4, 10), Date.UTC(2026, 5, 1, 8, 30, 15, 250)])),
      },
    });
  }
  return inputs;
}

/** The whole evaluation, serialized with its key order (histories and evidence keep it as serialized). */
export function evaluationText(evaluation: PolicyEvaluation): string {
  return JSON.stringify(evaluation);
}

/** A short digest of one evaluation, for a recorded fixture. */
export function evaluationDigest(evaluation: PolicyEvaluation): string {
  return createHash('sha256').update(evaluationText(evaluation)).digest('hex').slice(0, 16);
}
