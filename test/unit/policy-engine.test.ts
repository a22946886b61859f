import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import type { CountersignConfig } from '../../src/config/schema';
import { AppError } from '../../src/errors';
import { PolicyEngine, type PolicyInput } from '../../src/policy/engine';
import { testConfig } from '../support/config';

const HOST = '127.0.0.1:9';

/** A small catalog with the given policy rules (YAML list items, indented under `rules:`). */
function configWithRules(rules: string, mode: 'enforce' | 'shadow' = 'enforce'): CountersignConfig {
  return parseConfig(`
people:
  carol: { email: carol@example.com }
  alice: { email: alice@example.com }
  bob: { email: bob@example.com }
  erin: { email: erin@example.com }
agents:
  - { id: support-bot, owner: carol, allowedActions: [payments.refund, email.send_external, customers.delete] }
approvers:
  finance: { members: [alice, bob] }
  security: { members: [erin] }
connectors:
  billing: { type: http, allowedHosts: ['${HOST}'] }
actions:
  payments.refund: { description: Refund., risk: high, connector: billing, http: { url: 'http://${HOST}/r' } }
  email.send_external: { description: Email., risk: medium, connector: billing, http: { url: 'http://${HOST}/e' } }
  customers.delete: { description: Delete., risk: critical, connector: billing, http: { url: 'http://${HOST}/d' } }
policies:
  mode: ${mode}
  rules:
${rules}
`);
}

function input(overrides: Partial<PolicyInput> & { params?: Record<string, unknown> } = {}): PolicyInput {
  return {
    action: 'payments.refund',
    params: { amount: 10 },
    agent: { id: 'support-bot', owner: 'carol' },
    request: { reason: 'customer asked', time: new Date('2025-03-04T10:00:00Z') },
    ...overrides,
  };
}

function compileError(config: CountersignConfig): AppError {
  try {
    PolicyEngine.compile(config);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected the policy not to compile');
}

describe('policy engine', () => {
  it('when allow, require_approval and deny rules all match, then deny wins and every matching rule is named', () => {
    const engine = PolicyEngine.compile(
      configWithRules(`
    - { id: allow-all, effect: allow }
    - { id: approve-all, effect: require_approval, approvers: finance }
    - { id: deny-all, effect: deny, reason: Not today. }`),
    );
    const { decision } = engine.evaluate(input());
    expect(decision.effect).toBe('deny');
    expect(decision.evaluatedEffect).toBe('deny');
    expect(decision.rules).toEqual(['allow-all', 'approve-all', 'deny-all']);
    expect(decision.reason).toBe('Not today.');
    expect(decision.approvals).toEqual([]);
  });

  it('when allow and require_approval rules match, then approval is required by the approval rule', () => {
    const engine = PolicyEngine.compile(
      configWithRules(`
    - { id: allow-all, effect: allow }
    - { id: approve-all, effect: require_approval, approvers: finance, quorum: 2, expireAfter: 1h }`),
    );
    const { decision } = engine.evaluate(input());
    expect(decision.effect).toBe('require_approval');
    expect(decision.reason).toBeUndefined();
    expect(decision.approvals).toEqual([
      {
        ruleId: 'approve-all',
        group: 'finance',
        quorum: 2,
        members: ['alice', 'bob'],
        escalationMembers: [],
        expireAfterMs: 3_600_000,
      },
    ]);
  });

  it('when only allow rules match, then the request is allowed', () => {
    const engine = PolicyEngine.compile(configWithRules(`    - { id: allow-all, effect: allow }`));
    const { decision } = engine.evaluate(input());
    expect(decision.effect).toBe('allow');
    expect(decision.rules).toEqual(['allow-all']);
    expect(decision.reason).toBeUndefined();
  });

  it('when no rule matches, then the request is denied by default with a reason and no rule named', () => {
    const engine = PolicyEngine.compile(
      configWithRules(`    - { id: emails-only, match: { actions: [email.send_external] }, effect: allow }`),
    );
    const { decision, trace } = engine.evaluate(input());
    expect(decision.effect).toBe('deny');
    expect(decision.rules).toEqual([]);
    expect(decision.reason).toMatch(/no policy rule allows/);
    expect(trace).toEqual([]);
  });

  it('when an action has no rules at all, then it is denied', () => {
    const engine = PolicyEngine.compile(configWithRules('    []'));
    expect(engine.candidateRules('payments.refund')).toBe(0);
    expect(engine.evaluate(input()).decision.effect).toBe('deny');
  });

  it('when a condition reads params, then it decides by the parameter values', () => {
    const engine = PolicyEngine.compile(
      configWithRules(`
    - { id: small, when: 'params.amount <= 1000', effect: allow }
    - { id: large, when: 'params.amount > 1000', effect: require_approval, approvers: finance, quorum: 2 }`),
    );
    expect(engine.evaluate(input({ params: { amount: 1000 } })).decision).toMatchObject({
      effect: 'allow',
      rules: ['small'],
    });
    expect(engine.evaluate(input({ params: { amount: 1000.01 } })).decision).toMatchObject({
      effect: 'require_approval',
      rules: ['large'],
    });
    expect(engine.evaluate(input({ params: { amount: 25_000 } })).decision.approvals[0]?.quorum).toBe(2);
  });

  it('when a condition reads the agent, the target and onBehalfOf, then each is visible to CEL', () => {
    const engine = PolicyEngine.compile(
      configWithRules(`
    - { id: by-owner, when: 'agent.owner == "carol" && agent.id == "support-bot"', effect: allow }
    - id: prod-deny
      when: 'request.target.environment == "production"'
      effect: deny
      reason: No production.
    - id: behalf-approval
      when: 'request.onBehalfOf.endsWith("@example.com")'
      effect: require_approval
      approvers: finance`),
    );
    expect(engine.evaluate(input()).decision).toMatchObject({ effect: 'allow', rules: ['by-owner'] });
    expect(
      engine.evaluate(input({ request: { reason: 'r', time: new Date(), target: { environment: 'production' } } }))
        .decision,
    ).toMatchObject({ effect: 'deny', rules: ['by-owner', 'prod-deny'], reason: 'No production.' });
    expect(
      engine.evaluate(input({ request: { reason: 'r', time: new Date(), target: { environment: 'staging' } } }))
        .decision.effect,
    ).toBe('allow');
    expect(
      engine.evaluate(input({ request: { reason: 'r', time: new Date(), onBehalfOf: 'bob@example.com' } })).decision,
    ).toMatchObject({ effect: 'require_approval', rules: ['by-owner', 'behalf-approval'] });
    expect(engine.evaluate(input({ agent: { id: 'support-bot', owner: 'someone-else' } })).decision.effect).toBe(
      'deny',
    );
  });

  it('when a condition reads the request time, then business hours are told apart from the night', () => {
    const engine = PolicyEngine.compile(
      configWithRules(`
    - { id: office-hours, when: 'request.time.getHours() >= 9 && request.time.getHours() < 17', effect: allow }
    - { id: after-hours, when: 'request.time.getHours() < 9 || request.time.getHours() >= 17', effect: require_approval, approvers: security }
    - { id: after-cutover, when: 'request.time > timestamp("2030-01-01T00:00:00Z")', effect: deny, reason: Retired. }`),
    );
    const at = (iso: string) => input({ request: { reason: 'r', time: new Date(iso) } });
    expect(engine.evaluate(at('2025-03-04T10:00:00Z')).decision).toMatchObject({
      effect: 'allow',
      rules: ['office-hours'],
    });
    expect(engine.evaluate(at('2025-03-04T22:00:00Z')).decision).toMatchObject({
      effect: 'require_approval',
      rules: ['after-hours'],
    });
    expect(engine.evaluate(at('2031-03-04T10:00:00Z')).decision).toMatchObject({ effect: 'deny', reason: 'Retired.' });
  });

  it('when match lists name agents and risk tiers, then other agents and tiers are not matched', () => {
    const engine = PolicyEngine.compile(
      configWithRules(`
    - { id: bot-only, match: { agents: [support-bot] }, effect: allow }
    - { id: critical, match: { risk: [critical] }, effect: deny, reason: Critical actions are off. }`),
    );
    expect(engine.evaluate(input()).decision).toMatchObject({ effect: 'allow', rules: ['bot-only'] });
    expect(engine.evaluate(input({ action: 'customers.delete' })).decision).toMatchObject({
      effect: 'deny',
      rules: ['bot-only', 'critical'],
    });
    const other = engine.evaluate(input({ agent: { id: 'other-bot', owner: 'carol' } }));
    expect(other.decision.effect).toBe('deny');
    expect(other.trace).toContainEqual(expect.objectContaining({ ruleId: 'bot-only', matched: false }));
  });

  it('when several approval rules match, then each becomes its own requirement with its own group and quorum', () => {
    const engine = PolicyEngine.compile(
      configWithRules(`
    - { id: finance-two, effect: require_approval, approvers: finance, quorum: 2, expireAfter: 2h }
    - id: security-one
      effect: require_approval
      approvers: security
      remindAfter: 10m
      escalateAfter: 30m
      escalateTo: finance
      expireAfter: 1h`),
    );
    const { decision } = engine.evaluate(input());
    expect(decision.effect).toBe('require_approval');
    expect(decision.rules).toEqual(['finance-two', 'security-one']);
    expect(decision.approvals).toEqual([
      {
        ruleId: 'finance-two',
        group: 'finance',
        quorum: 2,
        members: ['alice', 'bob'],
        escalationMembers: [],
        expireAfterMs: 7_200_000,
      },
      {
        ruleId: 'security-one',
        group: 'security',
        quorum: 1,
        members: ['erin'],
        remindAfterMs: 600_000,
        escalateAfterMs: 1_800_000,
        escalateTo: 'finance',
        escalationMembers: ['alice', 'bob'],
        expireAfterMs: 3_600_000,
      },
    ]);
  });

  it('when the policy runs in shadow mode, then the request is let through and the evaluated effect and rules are kept', () => {
    const engine = PolicyEngine.compile(
      configWithRules(
        `
    - { id: approve-all, effect: require_approval, approvers: finance }
    - { id: deny-deletes, match: { actions: [customers.delete] }, effect: deny, reason: No deletes. }`,
        'shadow',
      ),
    );
    expect(engine.mode).toBe('shadow');
    const deny = engine.evaluate(input({ action: 'customers.delete' })).decision;
    expect(deny).toMatchObject({
      effect: 'allow',
      evaluatedEffect: 'deny',
      mode: 'shadow',
      rules: ['approve-all', 'deny-deletes'],
      reason: 'No deletes.',
      approvals: [],
    });
    const approval = engine.evaluate(input()).decision;
    expect(approval).toMatchObject({ effect: 'allow', evaluatedEffect: 'require_approval', rules: ['approve-all'] });
    const unmatched = PolicyEngine.compile(configWithRules('    []', 'shadow')).evaluate(input()).decision;
    expect(unmatched).toMatchObject({ effect: 'allow', evaluatedEffect: 'deny', rules: [] });
  });

  it('when a condition is not valid CEL, then compiling reports it with the rule path', () => {
    const err = compileError(
      configWithRules(`
    - { id: fine, when: 'params.amount > 1', effect: allow }
    - { id: broken, when: 'params.amount >', effect: allow }
    - { id: not-bool, when: '1 + 1', effect: allow }`),
    );
    expect(err.code).toBe('config_invalid');
    expect(err.errors.map((e) => e.path)).toEqual(['policies.rules[1].when', 'policies.rules[2].when']);
    expect(err.errors[0]?.message).toMatch(/invalid CEL in rule "broken"/);
    expect(err.errors[1]?.message).toMatch(/must be bool/);
  });

  it('when a condition fails at run time, then the request is denied (fail closed) and the failing rule is named', () => {
    const engine = PolicyEngine.compile(
      configWithRules(`
    - { id: allow-all, effect: allow }
    - { id: needs-field, when: 'params.missing > 5', effect: allow }`),
    );
    const { decision, trace } = engine.evaluate(input());
    expect(decision.effect).toBe('deny');
    expect(decision.rules).toContain('needs-field');
    expect(decision.reason).toMatch(/could not be evaluated/);
    expect(trace).toContainEqual(expect.objectContaining({ ruleId: 'needs-field', effect: 'deny' }));
  });

  it('when a condition fails at run time in shadow mode, then the request is still denied (fail closed)', () => {
    const engine = PolicyEngine.compile(
      configWithRules(
        `
    - { id: allow-all, effect: allow }
    - { id: needs-field, when: 'params.missing > 5', effect: allow }`,
        'shadow',
      ),
    );
    const { decision } = engine.evaluate(input());
    expect(decision.mode).toBe('shadow');
    expect(decision.effect).toBe('deny');
    expect(decision.reason).toMatch(/could not be evaluated/);
  });

  it('when a condition yields a non-bool at run time, then that rule does not match', () => {
    const engine = PolicyEngine.compile(
      configWithRules(`
    - { id: dyn, when: 'params.flag', effect: allow }`),
    );
    expect(engine.evaluate(input({ params: { flag: true } })).decision.effect).toBe('allow');
    const notBool = engine.evaluate(input({ params: { flag: 'yes' } }));
    expect(notBool.decision.effect).toBe('deny');
    expect(notBool.trace[0]).toMatchObject({ matched: false, why: 'when is not a bool' });
  });

  it('when rules are indexed, then an action only costs the rules that name it (prefix patterns included)', () => {
    const engine = PolicyEngine.compile(
      configWithRules(`
    - { id: refunds, match: { actions: [payments.refund] }, effect: allow }
    - { id: payments, match: { actions: ['payments.*'] }, effect: allow }
    - { id: emails, match: { actions: [email.send_external] }, effect: allow }
    - { id: everything, effect: allow }`),
    );
    expect(engine.candidateRules('payments.refund')).toBe(3);
    expect(engine.candidateRules('email.send_external')).toBe(2);
    expect(engine.candidateRules('customers.delete')).toBe(1);
    expect(engine.candidateRules('not.an_action')).toBe(0);
    expect(engine.evaluate(input({ action: 'email.send_external' })).decision.rules).toEqual(['emails', 'everything']);
  });

  it('when the policy content changes, then the policy version changes; when it does not, the version is stable', () => {
    const a = PolicyEngine.compile(testConfig({ targetHost: HOST }));
    const b = PolicyEngine.compile(testConfig({ targetHost: HOST }));
    const c = PolicyEngine.compile(testConfig({ targetHost: HOST, expireAfter: '2h' }));
    expect(a.version).toMatch(/^p-[0-9a-f]{16}$/);
    expect(b.version).toBe(a.version);
    expect(c.version).not.toBe(a.version);
    expect(a.evaluate(input()).decision.policyVersion).toBe(a.version);
  });
});
