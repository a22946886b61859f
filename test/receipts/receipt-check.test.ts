import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReceiptCheck, type ReceiptRefusal } from '../../examples/receipt-check';
import { paramsHash } from '../../src/canonical';
import type { ExecuteActionInput } from '../../src/contracts/types';
import { createReceiptSigner, generateReceiptKey, type ReceiptClaims } from '../../src/receipts';

const signer = createReceiptSigner({ key: await generateReceiptKey() });
const forger = createReceiptSigner({ key: await generateReceiptKey() });

describe('receipt-check middleware (example downstream service)', () => {
  let server: Server;
  let origin: string;
  const refusals: ReceiptRefusal[] = [];
  const accepted: ReceiptClaims[] = [];
  let seq = 0;

  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const receipts = createReceiptCheck({
      keys: { jwks: signer.jwks() },
      audience: origin,
      onRefused: (_req, code) => refusals.push(code),
    });
    const app = express();
    app.use(express.json());
    app.post('/v1/payments/:paymentId/refunds', receipts.require('payments.refund'), (_req, res) => {
      accepted.push(res.locals.receipt as ReceiptClaims);
      res.status(201).json({ refunded: true });
    });
    app.delete('/v1/customers/:customerId', receipts.require('customers.delete'), (_req, res) => {
      res.json({ deleted: true });
    });
    server.on('request', app);
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  /** What Countersign's connector sends for a refund, with the receipt the given signer makes. */
  async function refundCall(options: { amount?: number; sentAmount?: number; by?: typeof signer; url?: string } = {}) {
    const params = { paymentId: 'pay_abcd', amount: options.amount ?? 1500, currency: 'USD' };
    const requestId = `req_${(seq += 1)}`;
    const url = options.url ?? `${origin}/v1/payments/pay_abcd/refunds`;
    const input: ExecuteActionInput = {
      requestId,
      action: 'payments.refund',
      connector: 'billing',
      params,
      paramsHash: paramsHash(params),
      agentId: 'support-bot',
      approvers: ['alice', 'bob'],
      policyVersion: 'p-1',
    };
    const headers = await (options.by ?? signer).callHeaders(input, { method: 'POST', url });
    return {
      requestId,
      headers: {
        ...headers,
        'Idempotency-Key': requestId,
        'Countersign-Request-Id': requestId,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ amount: options.sentAmount ?? params.amount, currency: 'USD' }),
    };
  }

  const post = (path: string, call: { headers: Record<string, string>; body: string }) =>
    fetch(`${origin}${path}`, { method: 'POST', headers: call.headers, body: call.body });

  it('when Countersign calls with a valid receipt, then the call goes through and the handler sees who approved it', async () => {
    const call = await refundCall();
    const res = await post('/v1/payments/pay_abcd/refunds', call);
    expect(res.status).toBe(201);
    expect(accepted.at(-1)).toMatchObject({
      request_id: call.requestId,
      approvers: ['alice', 'bob'],
      policy_version: 'p-1',
    });
  });

  it('when an agent calls the service directly, without a receipt, then it is refused', async () => {
    const res = await fetch(`${origin}/v1/payments/pay_abcd/refunds`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'mine' },
      body: JSON.stringify({ amount: 1500, currency: 'USD' }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 403, code: 'missing' });
  });

  it('when a receipt is reused, sent with other parameters, another path, another service or a forged key, then each is refused', async () => {
    const reused = await refundCall();
    expect((await post('/v1/payments/pay_abcd/refunds', reused)).status).toBe(201);
    refusals.length = 0;
    expect((await post('/v1/payments/pay_abcd/refunds', reused)).status).toBe(403);

    const otherAmount = await refundCall({ amount: 1500, sentAmount: 15000 });
    expect((await post('/v1/payments/pay_abcd/refunds', otherAmount)).status).toBe(403);

    const otherPath = await refundCall();
    expect((await post('/v1/payments/pay_zzzz/refunds', otherPath)).status).toBe(403);

    const otherService = await refundCall({ url: 'https://payroll.internal/v1/payments/pay_abcd/refunds' });
    expect((await post('/v1/payments/pay_abcd/refunds', otherService)).status).toBe(403);

    const forged = await refundCall({ by: forger });
    expect((await post('/v1/payments/pay_abcd/refunds', forged)).status).toBe(403);

    const refundReceiptOnDelete = await refundCall();
    const res = await fetch(`${origin}/v1/customers/cus_1234`, {
      method: 'DELETE',
      headers: refundReceiptOnDelete.headers,
    });
    expect(res.status).toBe(403);

    expect(refusals).toEqual(['replayed', 'mismatch', 'mismatch', 'mismatch', 'unknown_key', 'mismatch']);
  });
});
