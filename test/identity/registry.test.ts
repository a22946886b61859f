import { expect, it } from 'vitest';
import { createClientCredentials } from '../../src/identity/credentials';
import { createRegistryAgentDirectory } from '../../src/identity/directory';
import { createAgentRegistry, vocabularyFromConfig } from '../../src/identity/registry';
import { parseConfig } from '../../src/config/load';
import { testConfig } from '../support/config';
import { describeEachDatabase, manualClock } from './databases';

const config = testConfig({ targetHost: '127.0.0.1:9' });

await describeEachDatabase('agent registry', (current) => {
  const setup = () => {
    const clock = manualClock();
    const registry = createAgentRegistry({
      db: current().db,
      clock: clock.now,
      vocabulary: vocabularyFromConfig(config),
    });
    return { clock, registry };
  };

  it('when an agent is created, then it is in the inventory, active, and the change log names who created it', async () => {
    const { registry } = setup();
    const created = await registry.create(
      {
        id: 'ops-bot',
        name: 'Ops',
        owner: 'carol',
        riskTier: 'high',
        allowedActions: ['customers.read', 'customers.read'],
      },
      'operator:alice',
    );
    expect(created).toMatchObject({
      id: 'ops-bot',
      name: 'Ops',
      owner: 'carol',
      riskTier: 'high',
      allowedActions: ['customers.read'],
      status: 'active',
      source: 'operator',
      createdBy: 'operator:alice',
    });
    expect((await registry.list()).map((a) => a.id)).toEqual(['ops-bot']);
    const log = await registry.changes('ops-bot');
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ actor: 'operator:alice', change: 'created', at: '2026-03-02T10:00:00.000Z' });
    await expect(registry.create({ id: 'ops-bot', owner: 'carol', allowedActions: [] }, 'x')).rejects.toMatchObject({
      code: 'conflict',
    });
  });

  it('when an agent names an unknown owner or action, then it is refused with each problem', async () => {
    const { registry } = setup();
    await expect(
      registry.create({ id: 'Bad Id', owner: 'mallory', allowedActions: ['payments.steal'], rateLimit: 'lots' }, 'x'),
    ).rejects.toMatchObject({
      code: 'validation_failed',
      errors: [
        { path: 'id', message: expect.any(String) as unknown },
        { path: 'owner', message: 'unknown person "mallory"' },
        { path: 'allowedActions[0]', message: 'unknown action "payments.steal"' },
        { path: 'rateLimit', message: expect.any(String) as unknown },
      ],
    });
    expect(await registry.list()).toEqual([]);
  });

  it('when an agent is updated, then the log holds each changed field with old and new value, and a no-op logs nothing', async () => {
    const { registry, clock } = setup();
    await registry.create({ id: 'ops-bot', owner: 'carol', allowedActions: ['customers.read'] }, 'operator:alice');
    clock.advance(60_000);
    const updated = await registry.update(
      'ops-bot',
      { owner: 'dana', allowedActions: ['customers.read', 'payments.refund'], description: 'same', rateLimit: '5/s' },
      'operator:bob',
    );
    expect(updated).toMatchObject({
      owner: 'dana',
      allowedActions: ['customers.read', 'payments.refund'],
      rateLimit: '5/s',
    });
    expect(updated.updatedAt).toBe('2026-03-02T10:01:00.000Z');
    await registry.update('ops-bot', { owner: 'dana' }, 'operator:bob');
    const log = await registry.changes('ops-bot');
    expect(log.map((c) => c.change)).toEqual(['created', 'updated']);
    expect(log[1]).toMatchObject({
      actor: 'operator:bob',
      details: {
        owner: { from: 'carol', to: 'dana' },
        allowedActions: { from: ['customers.read'], to: ['customers.read', 'payments.refund'] },
        description: { from: '', to: 'same' },
        rateLimit: { from: null, to: '5/s' },
      },
    });
    await expect(registry.update('nobody', { owner: 'dana' }, 'x')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('when an agent is suspended, resumed and decommissioned, then each step is logged and decommissioning is final and revokes its secrets', async () => {
    const { registry, clock } = setup();
    const credentials = createClientCredentials({ db: current().db, registry, overlapMs: 60_000, clock: clock.now });
    await registry.create({ id: 'ops-bot', owner: 'carol', allowedActions: ['customers.read'] }, 'operator:alice');
    const { clientSecret } = await credentials.issue('ops-bot', 'operator:alice');
    expect((await registry.suspend('ops-bot', 'operator:erin', 'odd refunds')).status).toBe('suspended');
    expect(await credentials.verify('ops-bot', clientSecret)).toBeUndefined();
    expect((await registry.resume('ops-bot', 'operator:erin')).status).toBe('active');
    expect((await credentials.verify('ops-bot', clientSecret))?.id).toBe('ops-bot');

    const gone = await registry.decommission('ops-bot', 'operator:erin', 'replaced');
    expect(gone).toMatchObject({ status: 'decommissioned', statusReason: 'replaced' });
    expect(await credentials.verify('ops-bot', clientSecret)).toBeUndefined();
    expect((await credentials.list('ops-bot')).every((c) => !c.active && c.revokedAt)).toBe(true);
    await expect(registry.resume('ops-bot', 'operator:erin')).rejects.toMatchObject({ code: 'conflict' });
    await expect(registry.update('ops-bot', { owner: 'dana' }, 'x')).rejects.toMatchObject({ code: 'conflict' });
    await expect(credentials.rotate('ops-bot', 'x')).rejects.toMatchObject({ code: 'conflict' });

    const log = await registry.changes('ops-bot');
    expect(log.map((c) => [c.change, c.actor])).toEqual([
      ['created', 'operator:alice'],
      ['credentials_issued', 'operator:alice'],
      ['suspended', 'operator:erin'],
      ['resumed', 'operator:erin'],
      ['decommissioned', 'operator:erin'],
    ]);
    expect(log[2]?.details).toMatchObject({ from: 'active', to: 'suspended', reason: 'odd refunds' });
    expect(log[4]?.details).toMatchObject({ credentialsRevoked: 1, reason: 'replaced' });
  });

  it('when the config is seeded, then absent agents are inserted once and the registry keeps its own later changes', async () => {
    const { registry } = setup();
    const seeded = await registry.seedFromConfig(config);
    expect(seeded).toEqual(['support-bot', 'other-bot']);
    const bot = await registry.get('support-bot');
    expect(bot).toMatchObject({ owner: 'carol', source: 'config', status: 'active', riskTier: 'critical' });
    expect((await registry.get('other-bot'))?.riskTier).toBe('low');
    expect((await registry.changes('support-bot')).map((c) => [c.change, c.actor])).toEqual([['seeded', 'config']]);

    await registry.update('support-bot', { allowedActions: ['customers.read'] }, 'operator:erin');
    await registry.suspend('other-bot', 'operator:erin');
    expect(await registry.seedFromConfig(config)).toEqual([]);
    expect((await registry.get('support-bot'))?.allowedActions).toEqual(['customers.read']);
    expect((await registry.get('other-bot'))?.status).toBe('suspended');
  });

  it('when a config agent is disabled, then it is seeded suspended', async () => {
    const { registry } = setup();
    const disabled = parseConfig(`
people: { carol: {} }
agents: [{ id: off-bot, owner: carol, enabled: false }]
`);
    await registry.seedFromConfig(disabled);
    expect(await registry.get('off-bot')).toMatchObject({
      status: 'suspended',
      statusReason: 'disabled in the config file',
    });
  });

  it('when the inventory is filtered and activity recorded, then it lists by status and owner with the last activity', async () => {
    const { registry } = setup();
    await registry.seedFromConfig(config);
    await registry.suspend('other-bot', 'operator:erin');
    await registry.recordActivity('support-bot', new Date('2026-03-02T11:00:00.000Z'));
    expect((await registry.list({ status: 'active' })).map((a) => a.id)).toEqual(['support-bot']);
    expect((await registry.list({ owner: 'dana' })).map((a) => a.id)).toEqual(['other-bot']);
    expect((await registry.get('support-bot'))?.lastActiveAt).toBe('2026-03-02T11:00:00.000Z');
    expect((await registry.changes('support-bot')).map((c) => c.change)).toEqual(['seeded']);
  });

  it('when another replica suspends an agent, then the directory sees it within its cache age, and at once for local writes', async () => {
    const { registry, clock } = setup();
    await registry.seedFromConfig(config);
    const directory = createRegistryAgentDirectory({ registry, cacheMs: 2_000, clock: clock.now, apiKeysFrom: config });
    expect((await directory.get('support-bot'))?.enabled).toBe(true);

    const otherReplica = createAgentRegistry({ db: current().db, clock: clock.now });
    await otherReplica.suspend('support-bot', 'operator:erin');
    clock.advance(1_000);
    expect((await directory.get('support-bot'))?.enabled).toBe(true);
    clock.advance(1_000);
    expect((await directory.get('support-bot'))?.enabled).toBe(false);

    await registry.resume('support-bot', 'operator:erin');
    expect((await directory.get('support-bot'))?.enabled).toBe(true);
    expect(await directory.get('nobody')).toBeUndefined();
    expect((await directory.authenticateApiKey('cs_test_agent_key_0001'))?.id).toBe('support-bot');
    expect(await directory.authenticateApiKey('cs_wrong')).toBeUndefined();
  });
});
