import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCountersign } from './cli-run';

const dir = mkdtempSync(join(tmpdir(), 'countersign-cli-policy-'));
function request(name: string, body: object): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(body));
  return path;
}

const refund = (amount: number) => ({
  agent: 'support-bot',
  action: 'payments.refund',
  params: { paymentId: 'pay_2002abcd', amount, currency: 'USD' },
  reason: 'Service outage credit',
});

describe('countersign policy test (example config)', () => {
  it('when a refund is over $1,000, then it needs two finance approvers and the rules say why', async () => {
    const result = await runCountersign(['policy', 'test', request('large.json', refund(2500))]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toContain('Request: payments.refund by support-bot');
    expect(out).toContain('Effect: require_approval');
    expect(out).toMatch(/Policy version: p-[0-9a-f]{16}/);
    expect(out).toMatch(/matched +large-refunds-two-approvers \(require_approval\): when: params\.amount > 1000/);
    expect(out).toMatch(/not matched +small-refunds \(allow\): when is false: params\.amount <= 1000/);
    expect(out).toContain('Approval: 2 of finance [alice, bob]');
    expect(out).toContain('May not approve: carol');
  });

  it('when a small refund is tested with --expect allow, then it is allowed by small-refunds and exits 0', async () => {
    const result = await runCountersign(['policy', 'test', request('small.json', refund(50)), '--expect', 'allow']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Effect: allow');
    expect(result.stdout).toMatch(/matched +small-refunds \(allow\)/);
  });

  it('when a production delete is tested, then it is denied with the reason, and --expect allow exits 1', async () => {
    const path = request('delete.json', {
      agent: 'support-bot',
      action: 'customers.delete',
      params: { customerId: 'cus_4242abcd' },
      reason: 'Customer asked us to close the account',
      target: { system: 'billing', environment: 'production' },
    });
    const result = await runCountersign(['policy', 'test', path, '--expect', 'allow']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Effect: deny');
    expect(result.stdout).toContain('Reason: Agents may not delete production data.');
    expect(result.stdout).toMatch(/matched +no-production-deletes \(deny\)/);
    expect(result.stdout).toMatch(/not matched +deletes-outside-production \(require_approval\)/);
    expect(result.stderr).toContain('expected allow, got deny');
  });

  it('when --json is given, then the report carries the decision and the full trace', async () => {
    const result = await runCountersign(['policy', 'test', request('json.json', refund(2500)), '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      decision: { effect: string; rules: string[]; approvals: { group: string; quorum: number }[] };
      trace: { ruleId: string; matched: boolean }[];
    };
    expect(report.decision.effect).toBe('require_approval');
    expect(report.decision.rules).toEqual(['large-refunds-two-approvers']);
    expect(report.decision.approvals).toMatchObject([{ group: 'finance', quorum: 2 }]);
    expect(report.trace.map((t) => [t.ruleId, t.matched])).toEqual([
      ['small-refunds', false],
      ['large-refunds-two-approvers', true],
    ]);
  });

  it('when the request would be refused before policy, then the refusals are printed with paths and it exits 1', async () => {
    const badParams = await runCountersign([
      'policy',
      'test',
      request('bad-params.json', { ...refund(50), params: { paymentId: 'nope', amount: -1, currency: 'USD' } }),
    ]);
    expect(badParams.code).toBe(1);
    expect(badParams.stdout).toContain('Refused before policy');
    expect(badParams.stdout).toContain('params.paymentId:');
    expect(badParams.stdout).toContain('params.amount:');

    const unknownAgent = await runCountersign([
      'policy',
      'test',
      request('agent.json', { ...refund(50), agent: 'ghost' }),
    ]);
    expect(unknownAgent.code).toBe(1);
    expect(unknownAgent.stdout).toContain('agent: unknown agent "ghost"');
  });

  it('when the request file is malformed, then every problem is printed with its path and it exits 2 (usage)', async () => {
    const result = await runCountersign(['policy', 'test', request('malformed.json', { action: 42, extra: true })]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('not a policy test request');
    expect(result.stderr).toMatch(/agent: /);
    expect(result.stderr).toMatch(/action: /);
  });

  it("when a rule reads the agent's usage, then the dry run uses the figures the request file gives and says so", async () => {
    const config = join(dir, 'budget.yaml');
    writeFileSync(
      config,
      `
people: { carol: { email: carol@example.com }, alice: { email: alice@example.com } }
agents: [{ id: support-bot, owner: carol, allowedActions: [payments.refund] }]
approvers: { finance: { members: [alice] } }
connectors: { billing: { type: http, allowedHosts: ['127.0.0.1:9'] } }
actions:
  payments.refund:
    { description: Refund., risk: high, connector: billing, http: { url: 'http://127.0.0.1:9/r' }, params: { type: object } }
policies:
  rules:
    - id: daily-budget
      match: { actions: [payments.refund] }
      when: "usage.sum('payments.refund', 'amount', '24h') + params.amount <= 1000"
      effect: allow
    - id: over-budget
      match: { actions: [payments.refund] }
      when: "usage.sum('payments.refund', 'amount', '24h') + params.amount > 1000"
      effect: require_approval
      approvers: finance
`,
    );
    const within = await runCountersign(['--config', config, 'policy', 'test', request('within.json', refund(300))]);
    expect(within.code).toBe(0);
    expect(within.stdout).toContain('Effect: allow');
    expect(within.stdout).toContain("Usage assumed: usage.sum('payments.refund', 'amount', '24h') = 0");

    const over = await runCountersign([
      '--config',
      config,
      'policy',
      'test',
      request('over.json', { ...refund(300), usage: { "sum('payments.refund', 'amount', '24h')": 900 } }),
    ]);
    expect(over.code).toBe(0);
    expect(over.stdout).toContain('Effect: require_approval');
    expect(over.stdout).toMatch(/matched +over-budget/);
    expect(over.stdout).toContain("usage.sum('payments.refund', 'amount', '24h') = 900");
  });
});
