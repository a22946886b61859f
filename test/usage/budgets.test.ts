import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import type { CountersignConfig } from '../../src/config/schema';
import { PolicyEngine, type PolicyInput } from '../../src/policy/engine';
import { createUsagePolicy, planUsageQueries, type UsagePolicy } from '../../src/usage';
import { describeEachDatabase } from '../identity/databases';

const NOW = new Date('2030-01-07T12:00:00Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);

/** The brief's two budget rules, one rule each. */
function budgetConfig(extraRules = ''): CountersignConfig {
  return parseConfig(`
people:
  carol: { email: carol@example.com }
  alice: { email: alice@example.com }
agents:
  - { id: support-bot, owner: carol, allowedActions: [payments.refund, customers.delete] }
  - { id: other-bot, owner: carol, allowedActions: [payments.refund, customers.delete] }
approvers:
  finance: { members: [alice] }
connectors:
  billing: { type: http, allowedHosts: ['127.0.0.1:9'] }
actions:
  payments.refund: { description: Refund., risk: high, connector: billing, http: { url: 'http://127.0.0.1:9/r' } }
  customers.delete: { description: Delete., risk: critical, connector: billing, http: { url: 'http://127.0.0.1:9/d' } }
policies:
  rules:
    - { id: refunds, match: { actions: [payments.refund] }, effect: allow }
    - id: refunds-over-5000-a-day
      description: Refunds over $5,000 a day need approval.
      match: { actions: [payments.refund] }
      when: usage.sum('payments.refund', 'amount', '24h') + params.amount > 5000
      effect: require_approval
      approvers: finance
    - { id: deletes, match: { actions: [customers.delete] }, effect: allow }
    - id: at-most-50-deletions-an-hour
      description: More than 50 deletions an hour are denied.
      match: { actions: [customers.delete] }
      when: usage.count('customers.delete', '1h') >= 50
      effect: deny
      reason: More than 50 deletions an hour.
${extraRules}
`);
}

await describeEachDatabase('exposure budgets', (current) => {
  let usage: UsagePolicy;
  let engine: PolicyEngine;
  let seq = 0;

  beforeEach(() => {
    const config = budgetConfig();
    usage = createUsagePolicy({ config, db: current().db, now: () => NOW });
    engine = PolicyEngine.compile(config, { extend: (env) => usage.extend(env) });
  });

  async function executed(
    agentId: string,
    action: string,
    params: Record<string, unknown>,
    at: Date,
    end: 'succeeded' | 'rejected' | 'none' = 'succeeded',
  ) {
    const requestId = `req_${(seq += 1)}`;
    await usage.store.recordStarted({ requestId, agentId, action, params, at });
    if (end !== 'none') await usage.store.recordFinished(requestId, end, at);
  }

  async function decide(agentId: string, action: string, params: Record<string, unknown>) {
    const input: PolicyInput = {
      action,
      params,
      agent: { id: agentId, owner: 'carol' },
      request: { reason: 'test', time: NOW },
      extra: await usage.policyExtras({ id: agentId }, { action }),
    };
    return engine.evaluate(input).decision;
  }

  it('when the policy is loaded, then exactly the usage figures its rules read are planned', () => {
    expect(usage.plan.map((q) => [q.kind, q.action, q.field, q.windowMs])).toEqual([
      ['sum', 'payments.refund', 'amount', 86_400_000],
      ['count', 'customers.delete', undefined, 3_600_000],
    ]);
  });

  it('when a day of refunds reaches exactly $5,000, then it is allowed, and a cent more needs approval', async () => {
    await executed('support-bot', 'payments.refund', { paymentId: 'pay_a', amount: 2500 }, minutesAgo(23 * 60));
    await executed('support-bot', 'payments.refund', { paymentId: 'pay_b', amount: 1500 }, minutesAgo(5));

    const atLimit = await decide('support-bot', 'payments.refund', { amount: 1000 });
    expect(atLimit.effect).toBe('allow');
    expect(atLimit.rules).toEqual(['refunds']);

    const over = await decide('support-bot', 'payments.refund', { amount: 1000.01 });
    expect(over.effect).toBe('require_approval');
    expect(over.rules).toEqual(['refunds', 'refunds-over-5000-a-day']);
    expect(over.approvals.map((a) => a.group)).toEqual(['finance']);
  });

  it('when refunds are older than a day, belong to another agent or were refused downstream, then they do not count; in-flight ones do', async () => {
    await executed('support-bot', 'payments.refund', { amount: 4000 }, minutesAgo(24 * 60 + 1));
    await executed('other-bot', 'payments.refund', { amount: 4000 }, minutesAgo(10));
    await executed('support-bot', 'payments.refund', { amount: 4000 }, minutesAgo(10), 'rejected');
    await executed('support-bot', 'payments.refund', { amount: 3000 }, minutesAgo(1), 'none');

    expect((await decide('support-bot', 'payments.refund', { amount: 2000 })).effect).toBe('allow');
    expect((await decide('support-bot', 'payments.refund', { amount: 2001 })).effect).toBe('require_approval');
  });

  it('when 49 deletions ran in the last hour, then the 50th is allowed; after 50, the 51st is denied with the reason', async () => {
    for (let i = 0; i < 49; i += 1)
      await executed('support-bot', 'customers.delete', { customerId: `cus_${i}` }, minutesAgo(59 - i));
    await executed('support-bot', 'customers.delete', { customerId: 'cus_old' }, minutesAgo(61));

    const fiftieth = await decide('support-bot', 'customers.delete', { customerId: 'cus_x' });
    expect(fiftieth.effect).toBe('allow');

    await executed('support-bot', 'customers.delete', { customerId: 'cus_49' }, minutesAgo(0));
    const fiftyFirst = await decide('support-bot', 'customers.delete', { customerId: 'cus_y' });
    expect(fiftyFirst.effect).toBe('deny');
    expect(fiftyFirst.reason).toBe('More than 50 deletions an hour.');
    expect(fiftyFirst.rules).toContain('at-most-50-deletions-an-hour');

    // Another agent has its own budget.
    expect((await decide('other-bot', 'customers.delete', { customerId: 'cus_z' })).effect).toBe('allow');
  });

  it('when usage was not loaded for a decision, then the budget rule fails closed and denies', () => {
    const decision = engine.evaluate({
      action: 'payments.refund',
      params: { amount: 10 },
      agent: { id: 'support-bot', owner: 'carol' },
      request: { reason: 'test', time: NOW },
    }).decision;
    expect(decision.effect).toBe('deny');
    expect(decision.reason).toMatch(/policy could not be evaluated/);
  });
});

describe('usage budget planning', () => {
  const rule = (when: string) =>
    `    - { id: bad, match: { actions: [payments.refund] }, when: "${when}", effect: deny, reason: no }`;

  it('when a usage call has a computed argument, an unknown action or a bad window, then loading the policy fails naming the rule', () => {
    const cases: [string, RegExp][] = [
      ["usage.sum('payments.refund', 'amount', params.window) > 1", /every argument must be a string literal/],
      ["usage.count('payments.refnud', '1h') > 1", /unknown action "payments.refnud"/],
      ["usage.count('payments.refund', 'a while') > 1", /"a while" is not a window/],
      ["usage.count('payments.refund', '400d') > 1", /longer than 90 days/],
      ["usage.sum('payments.refund', 'amount;drop', '1h') > 1", /is not a parameter name/],
      ['has(usage.count) || true', /other than as usage.sum/],
    ];
    for (const [when, message] of cases) {
      let error: unknown;
      try {
        planUsageQueries(budgetConfig(rule(when)));
      } catch (err) {
        error = err;
      }
      expect(error, when).toMatchObject({ code: 'config_invalid' });
      const issues = (error as { errors: { path: string; message: string }[] }).errors;
      expect(issues.map((i) => i.message).join('\n'), when).toMatch(message);
      expect(
        issues.map((i) => i.path),
        when,
      ).toContain('policies.rules[4].when');
    }
  });

  it('when a rule reads a prefix of actions, then it is planned and counts every matching action', () => {
    const plan = planUsageQueries(budgetConfig(rule("usage.count('payments.*', '1h') > 100")));
    expect(plan).toContainEqual(expect.objectContaining({ kind: 'count', action: 'payments.*', windowMs: 3_600_000 }));
  });
});
