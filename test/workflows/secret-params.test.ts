// Secret parameters (schema `writeOnly` / `x-secret`) never enter Temporal: sealed in the database at submit, only a
// reference in the history, opened in memory by the re-check and the connector activity, erased when the request ends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CountersignConfig } from '../../src/config/schema';
import { AppError } from '../../src/errors';
import { presentRequest } from '../../src/http/present';
import type { LedgerTables } from '../../src/ledger/ledger';
import type { SealedParamTables } from '../../src/vault';
import { testConfig } from '../support/config';
import { openedHistoryText, rawHistoryText } from '../support/history';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { finalState, OPERATOR, submit, waitForState } from './helpers';

const PIN = 'pin_canary_7c41e90d';

/** The test config with a secret card PIN on refunds. */
function secretConfig(targetHost: string): CountersignConfig {
  const config = testConfig({ targetHost });
  const refundAction = config.actions['payments.refund'];
  if (!refundAction) throw new Error('refund action missing');
  (refundAction.params.properties as Record<string, unknown>).cardPin = { type: 'string', 'x-secret': true };
  const read = config.actions['customers.read'];
  if (!read) throw new Error('customers.read missing');
  // A secret in the URL, which the test target echoes back in its answer.
  (read.params.properties as Record<string, unknown>).customerId = { type: 'string', writeOnly: true };
  return config;
}

const refundWithPin = (amount: number, pin = PIN) => ({
  action: 'payments.refund',
  params: { paymentId: 'pay_abcd1234', amount, currency: 'USD', cardPin: pin },
  reason: `refund ${amount}`,
});

let target: TargetServer;
let h: Harness;

beforeAll(async () => {
  process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_secret_params_test';
  target = await startTargetServer();
  h = await startHarness({ config: secretConfig(target.host), identity: {} });
});
afterAll(async () => {
  await h?.close();
  await target?.close();
});

function sealedRows(requestId: string) {
  const db = h.identity?.database.db.withTables<SealedParamTables>();
  if (!db) throw new Error('no identity database');
  return db.selectFrom('sealed_params').selectAll().where('request_id', '=', requestId).execute();
}

describe('secret parameters', () => {
  it('when a request carries a secret parameter, then only the downstream receives it: not Temporal (raw or decoded), the API or the logs, and its sealed value is erased at the end', async () => {
    const { state } = await submit(h, refundWithPin(50));
    expect(await sealedRows(state.requestId)).toHaveLength(1);
    const done = await finalState(h, state.requestId);
    expect(done.status).toBe('succeeded');

    const [call] = target.callsFor(state.requestId);
    expect(JSON.parse(call?.body ?? '{}')).toMatchObject({ amount: 50, cardPin: PIN });

    const raw = await rawHistoryText(h, state.requestId);
    const opened = await openedHistoryText(h, state.requestId);
    expect(opened).toContain('pay_abcd1234');
    // The decoded history holds the reference where the value was.
    expect(opened).toContain('$sealed');
    for (const history of [raw, opened]) {
      expect(history).not.toContain(PIN);
      expect(history).not.toContain(Buffer.from(PIN).toString('base64'));
    }
    const shown = JSON.stringify(presentRequest(await h.service.get(OPERATOR, state.requestId)));
    expect(shown).not.toContain(PIN);
    expect(shown).not.toContain('$sealed');
    expect(h.logLines.join('')).toContain(state.requestId);
    expect(h.logLines.join('')).not.toContain(PIN);
    expect(await sealedRows(state.requestId)).toHaveLength(0);
  });

  it('when a sealed value is changed while the request waits for approval, then the re-check refuses it and nothing is called', async () => {
    const { state } = await submit(h, refundWithPin(5000));
    await waitForState(h, state.requestId, (s) => s.timeline.length > 0);
    const [row] = await sealedRows(state.requestId);
    if (!row || !h.sealedParams) throw new Error('no sealed row');
    // Someone with database access swaps in another value, sealed properly under the same reference.
    await h.sealedParams.discard(state.requestId, row.seal_id);
    await h.sealedParams.put(
      state.requestId,
      row.seal_id,
      [{ path: ['cardPin'], value: 'pin_swapped_0000' }],
      new Date(Date.now() + 3600_000),
    );
    await h.service.decide(state.requestId, { decision: 'approve', approver: 'alice' });
    await h.service.decide(state.requestId, { decision: 'approve', approver: 'bob' });
    const done = await finalState(h, state.requestId);
    expect(done.status).toBe('failed');
    expect(done.timeline.map((t) => t.detail).join(' ')).toContain('parameters differ from the submitted ones');
    expect(target.callsFor(state.requestId)).toHaveLength(0);
    expect(await sealedRows(state.requestId)).toHaveLength(0);
  });

  it('when a sealed value is gone before execution, then the request fails closed without a call', async () => {
    const { state } = await submit(h, refundWithPin(5001));
    await waitForState(h, state.requestId, (s) => s.timeline.length > 0);
    const [row] = await sealedRows(state.requestId);
    if (!row || !h.sealedParams) throw new Error('no sealed row');
    await h.sealedParams.discard(state.requestId, row.seal_id);
    await h.service.decide(state.requestId, { decision: 'approve', approver: 'alice' });
    await h.service.decide(state.requestId, { decision: 'approve', approver: 'bob' });
    const done = await finalState(h, state.requestId);
    expect(done.status).toBe('failed');
    expect(done.outcome?.summary).toContain('no longer held');
    expect(target.callsFor(state.requestId)).toHaveLength(0);
  });

  it('when the same idempotency key is submitted twice, then one sealed value is kept and the request runs once', async () => {
    const key = `idem-${Date.now()}`;
    const first = await submit(h, refundWithPin(60), key);
    const second = await submit(h, refundWithPin(60), key);
    expect(second.created).toBe(false);
    expect(second.state.requestId).toBe(first.state.requestId);
    const done = await finalState(h, first.state.requestId);
    expect(done.status).toBe('succeeded');
    expect(target.callsFor(first.state.requestId)).toHaveLength(1);
    expect(await sealedRows(first.state.requestId)).toHaveLength(0);
  });

  it('when the downstream echoes a secret back, then the outcome, the history and the ledger hold it withheld', async () => {
    const secretId = 'cus_secret_canary_93ab';
    const { state } = await submit(h, { action: 'customers.read', params: { customerId: secretId }, reason: 'look' });
    const done = await finalState(h, state.requestId);
    expect(done.status).toBe('succeeded');
    expect(target.callsFor(state.requestId)[0]?.path).toBe(`/v1/customers/${secretId}`);
    expect(done.outcome?.summary).toContain('[redacted]');
    expect(await openedHistoryText(h, state.requestId)).not.toContain(secretId);
    const ledger = await h.identity?.database.db
      .withTables<LedgerTables>()
      .selectFrom('execution_attempts')
      .select('summary')
      .where('request_id', '=', state.requestId)
      .execute();
    expect(ledger?.length).toBeGreaterThan(0);
    expect(JSON.stringify(ledger)).not.toContain(secretId);
    expect(h.logLines.join('')).not.toContain(secretId);
  });

  it('when an agent submits an object shaped like a reference, then the submit is refused naming the field', async () => {
    const err = await submit(h, {
      action: 'email.send_external',
      params: { to: 'a@example.org', subject: 'hi', extra: { $sealed: 'sp_forged' } },
      reason: 'probe',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'invalid_params', errors: [{ path: 'params.extra' }] });
  });
});

describe('secret parameters without a sealed store', () => {
  it('when there is no usable store, then a submit carrying a secret fails closed with 503 naming the field and starts nothing', async () => {
    const bare = await startHarness({ config: secretConfig(target.host), sealedParams: false, noWorkers: true });
    try {
      const err = await submit(bare, refundWithPin(70), 'no-store-1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ code: 'not_ready', status: 503, errors: [{ path: 'params.cardPin' }] });
      expect((err as AppError).message).not.toContain(PIN);
      const agent = await bare.agents.get('support-bot');
      if (!agent) throw new Error('no agent');
      const requestId = (await import('../../src/requests')).requestIdFor(agent.id, 'no-store-1');
      expect(await bare.service.temporal.describe(requestId)).toBeUndefined();
      // Without a secret the same deployment accepts requests.
      const plain = await submit(bare, {
        ...refundWithPin(70),
        params: { paymentId: 'pay_abcd1234', amount: 70, currency: 'USD' },
      });
      expect(plain.created).toBe(true);
    } finally {
      await bare.close();
    }
  });
});
