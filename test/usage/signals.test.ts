import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import type { CountersignConfig } from '../../src/config/schema';
import { PolicyEngine } from '../../src/policy/engine';
import {
  computeSignals,
  createUsagePolicy,
  createRefusalStore,
  createUsageStore,
  outsideWorkingHours,
  type UsageStore,
} from '../../src/usage';
import { describeEachDatabase } from '../identity/databases';

// Monday 7 January 2030, 12:00 UTC (13:00 in Berlin).
const NOW = new Date('2030-01-07T12:00:00Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);

function signalsConfig(signals = ''): CountersignConfig {
  return parseConfig(`
people:
  carol: { email: carol@example.com }
  alice: { email: alice@example.com }
agents:
  - { id: support-bot, owner: carol, allowedActions: [payments.refund, customers.delete] }
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
    - id: first-refund-needs-a-look
      match: { actions: [payments.refund] }
      when: signals.firstUse || signals.volumeAboveBaseline || signals.outsideWorkingHours
      effect: require_approval
      approvers: finance
${signals}
`);
}

const VOLUME = `
signals:
  volume: { window: 1h, lookback: 7d, factor: 3, minimum: 5 }
  workingHours: { timezone: Europe/Berlin, days: [mon, tue, wed, thu, fri], start: '09:00', end: '18:00' }
`;

await describeEachDatabase('anomaly signals', (current) => {
  let store: UsageStore;
  let seq = 0;
  const config = signalsConfig(VOLUME);

  beforeEach(() => {
    store = createUsageStore(current().db);
  });

  async function executed(action: string, at: Date) {
    await store.recordStarted({ requestId: `req_${(seq += 1)}`, agentId: 'support-bot', action, params: {}, at });
  }
  const signalsAt = (action: string, at = NOW) =>
    computeSignals(store, config.signals, { agentId: 'support-bot', action, at });

  it('when an agent has never executed an action, then firstUse is raised for it and no longer once it has', async () => {
    expect(await signalsAt('payments.refund')).toMatchObject({ firstUse: true, raised: ['firstUse'] });
    await executed('payments.refund', minutesAgo(30));
    expect(await signalsAt('payments.refund')).toMatchObject({ firstUse: false, raised: [] });
    expect((await signalsAt('customers.delete')).firstUse).toBe(true);
  });

  it('when the last hour holds more than three times the agent’s hourly average, then volumeAboveBaseline is raised, not at three times', async () => {
    // A steady two an hour for the 24 hours before the last hour (the agent's whole life): a baseline of 2, so a
    // threshold of 6.
    for (let h = 2; h <= 25; h += 1) {
      await executed('payments.refund', minutesAgo(60 * h));
      await executed('payments.refund', minutesAgo(60 * h - 30));
    }
    for (let i = 0; i < 5; i += 1) await executed('payments.refund', minutesAgo(50 - i));
    const atThreshold = await signalsAt('payments.refund');
    expect(atThreshold).toMatchObject({ recentVolume: 6, baselineVolume: 2, volumeAboveBaseline: false });

    await executed('payments.refund', minutesAgo(1));
    const above = await signalsAt('payments.refund');
    expect(above).toMatchObject({
      recentVolume: 7,
      baselineVolume: 2,
      volumeAboveBaseline: true,
      raised: ['volumeAboveBaseline'],
    });
  });

  it('when a new agent has no history yet, then volume is raised only above the configured minimum', async () => {
    for (let i = 0; i < 4; i += 1) await executed('customers.delete', minutesAgo(10 + i));
    expect(await signalsAt('customers.delete')).toMatchObject({
      recentVolume: 5,
      baselineVolume: 0,
      volumeAboveBaseline: false,
    });
    await executed('customers.delete', minutesAgo(1));
    expect(await signalsAt('customers.delete')).toMatchObject({ recentVolume: 6, volumeAboveBaseline: true });
  });

  it('when signals are raised, then rules read them as signals.* and the decision records them', async () => {
    const usage = createUsagePolicy({ config, db: current().db, now: () => new Date('2030-01-05T12:00:00Z') });
    const engine = PolicyEngine.compile(config, { extend: (env) => usage.extend(env) });
    const extra = await usage.policyExtras({ id: 'support-bot' }, { action: 'payments.refund' });
    const { decision } = engine.evaluate({
      action: 'payments.refund',
      params: { amount: 10 },
      agent: { id: 'support-bot', owner: 'carol' },
      request: { reason: 'test', time: NOW },
      extra,
    });
    expect(decision.effect).toBe('require_approval');
    expect(decision.rules).toEqual(['refunds', 'first-refund-needs-a-look']);
    // A Saturday, and the agent's first refund.
    expect(decision.signals).toEqual({
      firstUse: true,
      volumeAboveBaseline: false,
      outsideWorkingHours: true,
      recentVolume: 1,
      baselineVolume: 0,
      repeatedRefusals: false,
      recentRefusals: 0,
      raised: ['firstUse', 'outsideWorkingHours'],
    });
    // JSON-safe: it travels in the workflow input.
    expect(JSON.parse(JSON.stringify(decision.signals))).toEqual(decision.signals);
  });

  it('when an agent is refused as often as the threshold within the window, then repeatedRefusals is raised; older refusals do not count', async () => {
    const refusals = createRefusalStore(current().db);
    const limits = signalsConfig(`
signals:
  refusals: { window: 10m, threshold: 3 }
`).signals;
    const at = (m: number) => ({
      agentId: 'support-bot',
      kind: 'action_not_allowed' as const,
      action: 'x.y',
      at: minutesAgo(m),
    });
    const signalsNow = () =>
      computeSignals(store, limits, { agentId: 'support-bot', action: 'payments.refund', at: NOW }, refusals);
    await refusals.record(at(11));
    await refusals.record(at(9));
    await refusals.record(at(1));
    await refusals.record({ ...at(1), agentId: 'other-bot' });
    expect(await signalsNow()).toMatchObject({ repeatedRefusals: false, recentRefusals: 2 });
    await refusals.record({ ...at(0), kind: 'scope_refused' });
    const raised = await signalsNow();
    expect(raised).toMatchObject({ repeatedRefusals: true, recentRefusals: 3 });
    expect(raised.raised).toContain('repeatedRefusals');
  });
});

describe('working hours', () => {
  const hours = signalsConfig(VOLUME).signals.workingHours;

  it('when a request arrives on a weekday between start and end in the configured zone, then it is inside; otherwise outside', () => {
    expect(outsideWorkingHours(new Date('2030-01-07T08:00:00Z'), hours)).toBe(false); // Mon 09:00 Berlin
    expect(outsideWorkingHours(new Date('2030-01-07T07:59:00Z'), hours)).toBe(true); // Mon 08:59 Berlin
    expect(outsideWorkingHours(new Date('2030-01-07T16:59:00Z'), hours)).toBe(false); // Mon 17:59 Berlin
    expect(outsideWorkingHours(new Date('2030-01-07T17:00:00Z'), hours)).toBe(true); // Mon 18:00 Berlin
    expect(outsideWorkingHours(new Date('2030-01-05T12:00:00Z'), hours)).toBe(true); // Saturday
    expect(outsideWorkingHours(new Date('2030-07-01T07:30:00Z'), hours)).toBe(false); // summer time: 09:30 Berlin
  });

  it('when the hours run past midnight, then the early morning after a working day is inside', () => {
    const night = signalsConfig(`
signals:
  workingHours: { timezone: UTC, days: [mon], start: '22:00', end: '06:00' }
`).signals.workingHours;
    expect(outsideWorkingHours(new Date('2030-01-07T23:00:00Z'), night)).toBe(false); // Mon 23:00
    expect(outsideWorkingHours(new Date('2030-01-08T05:59:00Z'), night)).toBe(false); // Tue 05:59
    expect(outsideWorkingHours(new Date('2030-01-08T06:00:00Z'), night)).toBe(true); // Tue 06:00
    expect(outsideWorkingHours(new Date('2030-01-07T03:00:00Z'), night)).toBe(true); // Mon 03:00, Sunday off
  });

  it('when no working hours are configured, then nothing is outside them; an unknown zone is a config error', () => {
    expect(signalsConfig().signals.workingHours).toBeUndefined();
    expect(outsideWorkingHours(new Date('2030-01-05T03:00:00Z'), undefined)).toBe(false);
    let error: unknown;
    try {
      signalsConfig(`
signals:
  workingHours: { timezone: Mars/Olympus }
`);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'config_invalid' });
    const issues = (error as { errors: { path: string; message: string }[] }).errors;
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('signals.workingHours.timezone');
    expect(issues[0]?.message).toMatch(/IANA time zone/);
  });
});
