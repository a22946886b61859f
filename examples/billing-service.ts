// A stand-in for an internal billing service, for the example config: refunds, customer records, external email.
// It plays a well-behaved internal API: it requires its bearer token, refuses any call without a valid Countersign
// approval receipt for exactly that call (examples/receipt-check.ts), and answers a repeated Idempotency-Key with the
// first response, so a retried call never refunds twice. An agent that got hold of the bearer token and calls it
// directly is refused. `countersign dev` runs it on 127.0.0.1:$COUNTERSIGN_BILLING_PORT (8090) with the receipt key it
// signs with; examples/run-billing-service.ts runs it on its own.
import { randomUUID, timingSafeEqual, createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { createLogger, type Logger } from '../src/logger';
import { BILLING_DEFAULT_PORT } from '../src/app/dev-config';
import { createReceiptCheck, type ReceiptCheckOptions } from './receipt-check';

/** The port the example config's billing URLs name (127.0.0.1:8090); COUNTERSIGN_BILLING_PORT moves it in dev. */
export { BILLING_DEFAULT_PORT };

/** The environment variable the example config names as the billing connector's credential. */
export const BILLING_TOKEN_VARIABLE = 'BILLING_API_TOKEN';

/** Run on its own, where the stand-in fetches Countersign's receipt keys (…/.well-known/receipt-jwks.json). */
export const BILLING_RECEIPT_JWKS_VARIABLE = 'COUNTERSIGN_RECEIPT_JWKS_URL';

export interface BillingServiceOptions {
  host?: string;
  port?: number;
  /** The bearer token callers must present. */
  token: string;
  /** Countersign's receipt keys and this service's origin: every call needs a valid receipt for itself. */
  receipts: ReceiptCheckOptions;
  logger?: Logger;
}

/** What the stand-in has done, by kind; replays are calls answered from the idempotency store. */
export interface BillingStats {
  refunds: number;
  emails: number;
  deletes: number;
  reads: number;
  replays: number;
  unauthorized: number;
  /** Calls refused for want of a valid approval receipt. */
  unapproved: number;
}

export interface BillingService {
  url: string;
  stats: BillingStats;
  close(): Promise<void>;
}

interface StoredResponse {
  status: number;
  body: unknown;
}

/** Builds the stand-in's Express app (it never listens). */
export function createBillingApp(options: {
  token: string;
  receipts: ReceiptCheckOptions;
  logger: Logger;
  stats: BillingStats;
}) {
  const { logger, stats } = options;
  const receipts = createReceiptCheck({
    ...options.receipts,
    onRefused: (req, code) => {
      stats.unapproved += 1;
      logger.warn(
        { method: req.method, path: req.path, code },
        'billing: call without a valid approval receipt refused',
      );
      options.receipts.onRefused?.(req, code);
    },
  });
  const expected = digest(`Bearer ${options.token}`);
  const responses = new Map<string, StoredResponse>();
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '64kb' }));

  app.use((req: Request, res: Response, next: NextFunction) => {
    // Compare digests so the check takes the same time whatever the caller sent.
    if (!timingSafeEqual(digest(req.get('authorization') ?? ''), expected)) {
      stats.unauthorized += 1;
      res.status(401).json({ error: 'missing or wrong bearer token' });
      return;
    }
    next();
  });

  /** Runs a mutating handler at most once per Idempotency-Key; repeats get the stored response. */
  const once =
    (kind: 'refunds' | 'emails' | 'deletes', handler: (req: Request) => StoredResponse) =>
    (req: Request, res: Response) => {
      const key = req.get('idempotency-key');
      if (!key) {
        res.status(400).json({ error: 'Idempotency-Key header required' });
        return;
      }
      const scoped = `${req.method} ${req.path} ${key}`;
      const stored = responses.get(scoped);
      if (stored) {
        stats.replays += 1;
        res.status(stored.status).set('Idempotent-Replayed', 'true').json(stored.body);
        return;
      }
      const response = handler(req);
      responses.set(scoped, response);
      stats[kind] += 1;
      logger.info({ kind, requestId: key, status: response.status }, `billing: ${kind.replace(/s$/, '')} done`);
      res.status(response.status).json(response.body);
    };

  app.post(
    '/v1/payments/:paymentId/refunds',
    receipts.require('payments.refund'),
    once('refunds', (req) => {
      const body = (req.body ?? {}) as { amount?: unknown; currency?: unknown };
      if (typeof body.amount !== 'number' || body.amount <= 0 || typeof body.currency !== 'string') {
        return { status: 422, body: { error: 'amount (positive number) and currency are required' } };
      }
      return {
        status: 201,
        body: {
          refund: {
            id: `re_${randomUUID().slice(0, 12)}`,
            paymentId: req.params.paymentId,
            amount: body.amount,
            currency: body.currency,
          },
        },
      };
    }),
  );

  app.post(
    '/v1/emails',
    receipts.require('email.send_external'),
    once('emails', (req) => {
      const body = (req.body ?? {}) as { to?: unknown };
      if (typeof body.to !== 'string') return { status: 422, body: { error: 'to is required' } };
      // The message body stays out of the response: the outcome summary lands in workflow history.
      return { status: 202, body: { email: { id: `em_${randomUUID().slice(0, 12)}`, to: body.to, queued: true } } };
    }),
  );

  app.delete(
    '/v1/customers/:customerId',
    receipts.require('customers.delete'),
    once('deletes', (req) => ({ status: 200, body: { deleted: true, customerId: req.params.customerId } })),
  );

  app.get('/v1/customers/:customerId', receipts.require('customers.read'), (req, res) => {
    stats.reads += 1;
    const id = String(req.params.customerId);
    res.json({ customer: { id, name: 'Example Customer', plan: 'pro', createdAt: '2024-01-15T09:30:00Z' } });
  });

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'no such endpoint' });
  });
  return app;
}

/** Starts the stand-in on loopback (127.0.0.1:8090 unless told otherwise). */
export async function startBillingService(options: BillingServiceOptions): Promise<BillingService> {
  const logger = options.logger ?? createLogger({ name: 'billing-example' });
  const stats: BillingStats = {
    refunds: 0,
    emails: 0,
    deletes: 0,
    reads: 0,
    replays: 0,
    unauthorized: 0,
    unapproved: 0,
  };
  const app = createBillingApp({ token: options.token, receipts: options.receipts, logger, stats });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port ?? BILLING_DEFAULT_PORT, options.host ?? '127.0.0.1', (err?: Error) =>
      err ? reject(err) : resolve(s),
    );
    s.once('error', reject);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
