import { describe, expect, it } from 'vitest';
import { createConfigAgentDirectory } from '../../src/agents';
import { ActionCatalog } from '../../src/catalog';
import { loadConfigFile, parseConfig } from '../../src/config/load';
import { AppError, type FieldIssue } from '../../src/errors';
import { PolicyEngine, type PolicyInput } from '../../src/policy/engine';

const BASE = `
people:
  carol: { email: carol@example.com }
  alice: { email: alice@example.com }
agents:
  - { id: support-bot, owner: carol, allowedActions: [payments.refund] }
approvers:
  finance: { members: [alice] }
connectors:
  billing: { type: http, allowedHosts: ['127.0.0.1:9'] }
actions:
  payments.refund: { description: Refund., risk: high, connector: billing, http: { url: 'http://127.0.0.1:9/r' } }
`;

function issuesOf(yaml: string): FieldIssue[] {
  try {
    parseConfig(yaml);
  } catch (err) {
    if (err instanceof AppError && err.code === 'config_invalid') return err.errors;
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

describe('configuration', () => {
  it('when the config is valid, then it parses with defaults filled in', () => {
    const config = parseConfig(`${BASE}
policies:
  rules:
    - { id: ok, effect: require_approval, approvers: finance, remindAfter: 90s, expireAfter: 2d }
`);
    expect(config.policies.mode).toBe('enforce');
    const rule = config.policies.rules[0]!;
    expect(rule).toMatchObject({ quorum: 1, remindAfter: 90_000, expireAfter: 172_800_000, match: {} });
    expect(config.connectors.billing).toMatchObject({ timeout: 10_000, maxAttempts: 5 });
    expect(config.agents[0]?.enabled).toBe(true);
  });

  it('when a config has many problems, then every one is reported with its path', () => {
    const issues = issuesOf(`${BASE}
  customers.read: { description: Read., risk: low, connector: crm, http: { url: 'http://127.0.0.1:9/c' } }
policies:
  rules:
    - { id: dup, effect: allow }
    - { id: dup, effect: allow }
    - { id: no-reason, effect: deny }
    - { id: unknown-group, effect: require_approval, approvers: legal }
    - { id: no-group, effect: require_approval }
    - { id: unknown-action, match: { actions: [payments.chargeback] }, effect: allow }
    - { id: bad-expiry, effect: require_approval, approvers: finance, expireAfter: soon }
    - { id: zero-reminder, effect: require_approval, approvers: finance, remindAfter: 0s }
    - { id: half-escalation, effect: require_approval, approvers: finance, escalateAfter: 1h }
    - { id: bad-escalation, effect: require_approval, approvers: finance, escalateAfter: 1h, escalateTo: legal }
`);
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'actions.customers.read.connector',
        'policies.rules[1].id',
        'policies.rules[2].reason',
        'policies.rules[3].approvers',
        'policies.rules[4].approvers',
        'policies.rules[5].match',
        'policies.rules[6].expireAfter',
        'policies.rules[7].remindAfter',
        'policies.rules[8].escalateTo',
        'policies.rules[9].escalateTo',
      ]),
    );
    const at = (path: string) => issues.filter((i) => i.path === path).map((i) => i.message);
    expect(at('policies.rules[1].id')).toEqual(['duplicate rule id "dup"']);
    expect(at('policies.rules[3].approvers')).toEqual(['unknown group "legal"']);
    expect(at('policies.rules[5].match')).toEqual(['unknown action "payments.chargeback"']);
    expect(at('policies.rules[6].expireAfter')[0]).toMatch(/not a positive duration: "soon"/);
    expect(at('policies.rules[9].escalateTo')).toEqual(['unknown group "legal"']);
  });

  it('when people, agents or groups refer to unknown things, then each reference is reported with its path', () => {
    const issues = issuesOf(`
people:
  carol: {}
agents:
  - { id: bot, owner: zed, allowedActions: [payments.nope] }
  - { id: bot, owner: carol }
approvers:
  finance: { members: [carol, yves] }
`);
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'agents[0].owner', message: 'unknown person "zed"' },
        { path: 'agents[0].allowedActions[0]', message: 'unknown action "payments.nope"' },
        { path: 'agents[1].id', message: 'duplicate agent id "bot"' },
        { path: 'approvers.finance.members[1]', message: 'unknown person "yves"' },
      ]),
    );
  });

  it('when a key is unknown or a value has the wrong type, then the schema names it', () => {
    const issues = issuesOf(`${BASE}
policies:
  rules:
    - { id: typo, effect: allow, efect: deny }
    - { id: Bad Id, effect: maybe }
`);
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining(['policies.rules[0]', 'policies.rules[1].id', 'policies.rules[1].effect']),
    );
  });

  it('when a section has the wrong shape, then it is reported and the cross-reference checks do not crash', () => {
    const issues = issuesOf(`
agents: [just-a-string]
approvers: { finance: null }
policies: { rules: [ { id: x, match: 3, effect: allow } ] }
`);
    expect(issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['agents[0]', 'approvers.finance', 'policies.rules[0].match']),
    );
  });

  it('when the YAML itself is broken, then the error says so with a line', () => {
    const issues = issuesOf('people: [unclosed');
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]?.path).toMatch(/^line /);
  });
});

describe('the example configuration', () => {
  const { config } = loadConfigFile(undefined);
  const engine = PolicyEngine.compile(config);
  const decide = (action: string, params: Record<string, unknown>, request: Partial<PolicyInput['request']> = {}) =>
    engine.evaluate({
      action,
      params,
      agent: { id: 'support-bot', owner: 'carol' },
      request: { reason: 'ticket 42', time: new Date(), ...request },
    }).decision;

  it('when it is loaded, then it validates, its schemas compile and the demo key authenticates the demo agent', async () => {
    expect(config.agents.map((a) => a.id)).toEqual(['support-bot']);
    expect(() => ActionCatalog.compile(config)).not.toThrow();
    const agent = await createConfigAgentDirectory(config).authenticateApiKey('cs_demo_support_bot_key');
    expect(agent?.id).toBe('support-bot');
    expect(await createConfigAgentDirectory(config).authenticateApiKey('cs_wrong_key')).toBeUndefined();
  });

  it('when an agent reads customer data, then it is allowed; when it deletes production data, then it is denied', () => {
    expect(decide('customers.read', { customerId: 'cus_1234' })).toMatchObject({
      effect: 'allow',
      rules: ['read-customers'],
    });
    expect(
      decide('customers.delete', { customerId: 'cus_1234' }, { target: { environment: 'production' } }),
    ).toMatchObject({
      effect: 'deny',
      rules: ['no-production-deletes'],
      reason: 'Agents may not delete production data.',
    });
  });

  it('when an agent sends an external email, then one communications approver must approve', () => {
    const decision = decide('email.send_external', { to: 'x@example.org', subject: 's', body: 'b' });
    expect(decision.effect).toBe('require_approval');
    expect(decision.approvals).toEqual([
      expect.objectContaining({ ruleId: 'external-email-needs-approval', group: 'communications', quorum: 1 }),
    ]);
  });

  it('when a refund is at most $1,000, then it is allowed; over $1,000, then two distinct finance approvers must approve', () => {
    expect(decide('payments.refund', { paymentId: 'pay_abcd', amount: 1000, currency: 'USD' })).toMatchObject({
      effect: 'allow',
      rules: ['small-refunds'],
    });
    const large = decide('payments.refund', { paymentId: 'pay_abcd', amount: 1000.5, currency: 'USD' });
    expect(large.effect).toBe('require_approval');
    expect(large.approvals).toEqual([
      expect.objectContaining({
        ruleId: 'large-refunds-two-approvers',
        group: 'finance',
        quorum: 2,
        members: ['alice', 'bob'],
      }),
    ]);
  });
});
