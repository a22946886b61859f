import { expect, it } from 'vitest';
import { createKillSwitches, describeScope, parseKillScope, scopeCovers } from '../../src/identity/kill-switch';
import { describeEachDatabase, manualClock } from './databases';

await describeEachDatabase('kill switch', (current) => {
  const setup = (cacheMs = 0) => {
    const clock = manualClock();
    return { clock, switches: createKillSwitches({ db: current().db, cacheMs, clock: clock.now }) };
  };

  it('when a switch is pulled for an agent, an action, an action family or everything, then exactly its scope is blocked', async () => {
    const { switches } = setup();
    await switches.engage({ agentId: 'support-bot' }, { reason: 'leaked prompt', by: 'operator:erin' });
    expect((await switches.blocking('support-bot', 'customers.read'))?.reason).toBe('leaked prompt');
    expect(await switches.blocking('other-bot', 'customers.read')).toBeUndefined();

    await switches.engage({ action: 'payments.*' }, { reason: 'billing incident', by: 'operator:erin' });
    expect((await switches.blocking('other-bot', 'payments.refund'))?.reason).toBe('billing incident');
    expect(await switches.blocking('other-bot', 'customers.read')).toBeUndefined();

    await switches.engage(
      { agentId: 'other-bot', action: 'customers.delete' },
      { reason: 'audit', by: 'operator:erin' },
    );
    expect((await switches.blocking('other-bot', 'customers.delete'))?.reason).toBe('audit');
    expect(await switches.blocking('third-bot', 'customers.delete')).toBeUndefined();

    await switches.engage({}, { reason: 'stop everything', by: 'operator:alice' });
    expect((await switches.blocking('third-bot', 'email.send_external'))?.reason).toBe('stop everything');
    expect(await switches.active()).toHaveLength(4);
  });

  it('when a switch is pulled twice for the same scope, then one switch is recorded; when lifted, then the record keeps who and why', async () => {
    const { switches, clock } = setup();
    const first = await switches.engage({ agentId: 'support-bot' }, { reason: 'odd refunds', by: 'operator:erin' });
    const again = await switches.engage({ agentId: 'support-bot' }, { reason: 'again', by: 'operator:bob' });
    expect(first.created).toBe(true);
    expect(again).toEqual({ created: false, killSwitch: first.killSwitch });
    clock.advance(60_000);
    const lifted = await switches.lift({ agentId: 'support-bot' }, { by: 'operator:alice', reason: 'fixed' });
    expect(lifted).toHaveLength(1);
    expect(await switches.blocking('support-bot', 'payments.refund')).toBeUndefined();
    expect(await switches.history()).toEqual([
      {
        id: first.killSwitch.id,
        scope: { agentId: 'support-bot' },
        reason: 'odd refunds',
        engagedBy: 'operator:erin',
        engagedAt: '2026-03-02T10:00:00.000Z',
        liftedAt: '2026-03-02T10:01:00.000Z',
        liftedBy: 'operator:alice',
        liftReason: 'fixed',
      },
    ]);
    await expect(switches.lift({ agentId: 'support-bot' }, { by: 'operator:alice' })).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('when a switch covers a submit, then enforce refuses with 403 and the reason; lifting a wider scope leaves a narrower one on', async () => {
    const { switches } = setup();
    await switches.engage({}, { reason: 'incident 42', by: 'operator:erin' });
    await switches.engage({ action: 'payments.refund' }, { reason: 'refund bug', by: 'operator:erin' });
    await expect(switches.enforce('support-bot', 'customers.read')).rejects.toMatchObject({
      code: 'forbidden',
      status: 403,
      message: 'kill switch on (all agents and actions): incident 42',
    });
    await switches.lift({}, { by: 'operator:erin' });
    await expect(switches.enforce('support-bot', 'customers.read')).resolves.toBeUndefined();
    await expect(switches.enforce('support-bot', 'payments.refund')).rejects.toThrow(/refund bug/);
  });

  it('when another replica pulls a switch, then submits see it within the cache age and the execution guard at once', async () => {
    const { switches, clock } = setup(1_000);
    expect(await switches.blocking('support-bot', 'payments.refund')).toBeUndefined();
    const replica = createKillSwitches({ db: current().db, cacheMs: 1_000, clock: clock.now });
    await replica.engage({ agentId: 'support-bot' }, { reason: 'compromised', by: 'operator:erin' });
    expect(await switches.guard.blockedReason('support-bot', 'payments.refund')).toBe(
      'compromised (agent support-bot, by operator:erin)',
    );
    expect(await switches.blocking('support-bot', 'payments.refund')).toBeUndefined();
    clock.advance(1_000);
    expect((await switches.blocking('support-bot', 'payments.refund'))?.reason).toBe('compromised');
    expect(await switches.guard.blockedReason('other-bot', 'payments.refund')).toBeUndefined();
  });
});

it('when a kill scope comes from the CLI or API, then it must be --all alone or an agent and/or a valid action', () => {
  expect(parseKillScope({ all: true })).toEqual({});
  expect(parseKillScope({ agent: 'support-bot', action: 'payments.*' })).toEqual({
    agentId: 'support-bot',
    action: 'payments.*',
  });
  expect(() => parseKillScope({})).toThrow(/--all/);
  expect(() => parseKillScope({ all: true, agent: 'x' })).toThrow(/stands alone/);
  expect(() => parseKillScope({ agent: "x' OR '1'='1" })).toThrow(/invalid agent/);
  expect(() => parseKillScope({ action: 'Payments Refund' })).toThrow(/invalid action/);
  expect(describeScope({ agentId: 'a', action: 'b.c' })).toBe('agent a, action b.c');
  expect(scopeCovers({ action: 'payments.*' }, 'x', 'paymentsx.refund')).toBe(false);
});
