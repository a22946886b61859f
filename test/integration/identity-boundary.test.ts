// The boundary-testing signal over HTTP: an agent's refusals (an action outside its allowed list, a scope refused at
// the token endpoint, a policy denial) are counted over the configured window; at the threshold
// `signals.repeatedRefusals` is raised, a rule reading it sends the agent's next request to review, and the metrics
// show the refusals and the raised signal. Other agents are unaffected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_AGENT_KEY, testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { call, operatorToken, startApi, type Api } from './http-support';
import { accessToken, databasesUnderTest, registerAgent, smallRefund, submitAs, tokenRequest } from './identity-support';

describe.each(await databasesUnderTest())('boundary-testing signal over HTTP [%s]', (dialect) => {
  let target: TargetServer;
  let h: Harness;
  let api: Api;

  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_boundary_secret_91aa';
    target = await startTargetServer();
    const config = testConfig({
      targetHost: target.host,
      extraRules: `
    - id: boundary-review
      match: { actions: [payments.refund] }
      when: signals.repeatedRefusals && signals.recentRefusals >= 3
      effect: require_approval
      approvers: security`,
      extraYaml: `
signals:
  refusals: { window: 10m, threshold: 3 }
`,
    });
    h = await startHarness({ config, identity: { dialect } });
    api = await startApi(h);
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
    await target?.close();
  });

  it('when an agent is refused as often as the threshold, then the signal flips and a rule reading it sends its next request to review', async () => {
    const client = await registerAgent(api, operatorToken(h, 'erin'), {
      id: 'probe-bot',
      owner: 'carol',
      allowedActions: ['payments.refund', 'customers.delete'],
    });
    const token = await accessToken(api, client);

    const allowed = await submitAs(api, token, smallRefund('probe01'));
    expect(allowed.status, allowed.text).toBe(201);
    expect(allowed.json.status).not.toBe('pending_approval');

    // 1: an action outside its allowed list.
    const outside = await submitAs(api, token, {
      action: 'customers.read',
      params: { customerId: 'cus_1' },
      reason: 'look around',
    });
    expect(outside.status).toBe(403);
    // 2: a scope it may not have.
    const scope = await tokenRequest(api, client, { scope: 'email.send_external' });
    expect(scope.json).toMatchObject({ error: 'invalid_scope' });

    const stillAllowed = await submitAs(api, token, smallRefund('probe02'));
    expect(stillAllowed.json.status).not.toBe('pending_approval');
    expect(stillAllowed.json.decision.rules).not.toContain('boundary-review');

    // 3: denied by policy.
    const denied = await submitAs(api, token, {
      action: 'customers.delete',
      params: { customerId: 'cus_2' },
      reason: 'cleanup',
      target: { system: 'crm', environment: 'production' },
    });
    expect(denied.json.status).toBe('denied');

    const reviewed = await submitAs(api, token, smallRefund('probe03'));
    expect(reviewed.status).toBe(201);
    expect(reviewed.json.status).toBe('pending_approval');
    expect(reviewed.json.decision.rules).toContain('boundary-review');
    expect(reviewed.json.decision.approvals.map((a) => a.group)).toEqual(['security']);

    // Another agent's standing is its own.
    const other = await submitAs(api, TEST_AGENT_KEY, smallRefund('probe04'));
    expect(other.json.status).not.toBe('pending_approval');

    const metrics = await call(api, 'GET', '/metrics');
    expect(metrics.text).toMatch(/countersign_agent_refusals_total\{kind="action_not_allowed"\} 1/);
    expect(metrics.text).toMatch(/countersign_agent_refusals_total\{kind="scope_refused"\} 1/);
    expect(metrics.text).toMatch(/countersign_agent_refusals_total\{kind="policy_denied"\} 1/);
    expect(metrics.text).toMatch(/countersign_signals_raised_total\{signal="repeatedRefusals"\} 1/);
  });
});
