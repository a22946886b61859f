// The kill switch at scale: pulled over 500 parked requests it answers at once with the count in scope and an
// operation whose progress can be read; the operation drains in Temporal; every request ends cancelled, none executes.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../src/agents';
import { testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { call, eventually, operatorToken, startApi, type Api } from './http-support';

const PARKED = 500;

interface Engaged {
  inScope: number;
  operation: { id: string; href: string };
}
interface Operation {
  state: string;
  total: number;
  completed: number;
  failed: number;
}

describe('kill switch over many parked requests', () => {
  let target: TargetServer;
  let h: Harness;
  let api: Api;

  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_kill_scale_2b7f';
    target = await startTargetServer();
    h = await startHarness({ config: testConfig({ targetHost: target.host }), identity: {} });
    api = await startApi(h);
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
    await target?.close();
  });

  const count = async (clause: string) =>
    (await h.client.workflow.count(`TaskQueue = '${h.taskQueues.control}' AND ${clause}`)).count;

  it(`when one switch is pulled over ${PARKED} parked requests, then it answers with an operation and all end cancelled, none executed`, async () => {
    const agent = (await h.agents.get('support-bot')) as AgentRecord;
    // Sixteen at a time: quick, without flooding a shared two-core machine.
    for (let i = 0; i < PARKED; i += 16) {
      await Promise.all(
        Array.from({ length: Math.min(16, PARKED - i) }, (_, j) =>
          h.service.submit(
            agent,
            {
              action: 'payments.refund',
              params: { paymentId: `pay_scale${String(i + j).padStart(4, '0')}`, amount: 5000, currency: 'EUR' },
              reason: 'parked for the kill switch',
            },
            randomUUID(),
          ),
        ),
      );
    }
    await eventually(
      () => count(`CsStatus = 'pending_approval'`),
      (n) => n >= PARKED,
      120_000,
    );

    const engaged = await call<Engaged>(api, 'POST', '/v1/kill-switches', {
      token: operatorToken(h, 'erin'),
      body: { all: true, reason: 'incident: halt everything' },
    });
    expect(engaged.status, JSON.stringify(engaged.json)).toBe(202);
    expect(engaged.json.inScope).toBe(PARKED);
    // Answered before the drain: the cancellations run as an operation the caller follows (bench B9 times the answer).
    expect(engaged.json.operation.href).toMatch(/^\/v1\/kill-switches\/operations\/./);

    const progress = await call<Operation>(api, 'GET', engaged.json.operation.href, {
      token: operatorToken(h, 'erin'),
    });
    expect(progress.status).toBe(200);
    const drained = await eventually(
      async () =>
        (await call<Operation>(api, 'GET', engaged.json.operation.href, { token: operatorToken(h, 'erin') })).json,
      (op) => op.state === 'completed',
      180_000,
    );
    expect(drained).toMatchObject({ total: PARKED, completed: PARKED, failed: 0 });
    await eventually(
      () => count(`CsStatus = 'cancelled'`),
      (n) => n === PARKED,
      180_000,
    );
    expect(await count(`CsStatus = 'pending_approval'`)).toBe(0);
    expect(target.calls).toHaveLength(0);
  }, 600_000);
});
