// Express middleware for a downstream service (the example billing service, say) that refuses every call Countersign
// did not approve: no valid `Countersign-Receipt`, no action. An agent holding the service's bearer token but calling
// it directly, or replaying an approved call with other parameters, is refused with 403.
//
// Plugging it in (after `express.json()` and the bearer-token check, before the handlers):
//
//   const receipts = createReceiptCheck({
//     keys: { jwks: new URL('http://127.0.0.1:8080/.well-known/receipt-jwks.json') },
//     audience: 'http://127.0.0.1:8090',            // this service's own origin
//   });
//   app.post('/v1/payments/:paymentId/refunds', receipts.require('payments.refund'), handler);
//   app.delete('/v1/customers/:customerId', receipts.require('customers.delete'), handler);
//
// For each call it checks the receipt's signature and lifetime (at most 60 s), that it is for this action, this
// request (`Idempotency-Key`), these parameters (the route parameters plus the JSON body, hashed as Countersign hashes
// them), this method and path, this service (`aud`), and that it was not used before. The verified claims land in
// `res.locals.receipt` (who approved, under which policy version), for the service's own audit log.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  RECEIPT_HEADER,
  createReceiptVerifier,
  receiptParamsHash,
  type ReceiptClaims,
  type ReceiptFailureCode,
  type ReceiptKeySource,
} from '../src/receipts';

export interface ReceiptCheckOptions {
  /** Countersign's receipt keys: `{ jwks: URL }` in production, a key set or one key in tests. */
  keys: ReceiptKeySource;
  /** This service's origin (`https://billing.internal`); receipts for another service are refused. */
  audience?: string;
  /** Countersign's `iss`, when pinned. */
  issuer?: string;
  clockToleranceSeconds?: number;
  /** Told about every refusal (for the service's logs and metrics). */
  onRefused?: (req: Request, code: ReceiptRefusal) => void;
}

export type ReceiptRefusal = ReceiptFailureCode | 'wrong_call' | 'replayed';

/** Builds the middleware factory; one per service, so the key set and the replay memory are shared. */
export function createReceiptCheck(options: ReceiptCheckOptions) {
  const verify = createReceiptVerifier(options.keys, {
    ...(options.clockToleranceSeconds !== undefined ? { clockToleranceSeconds: options.clockToleranceSeconds } : {}),
  });
  const seen = new Map<string, number>();

  /** Forgets receipt ids whose receipts have expired anyway. */
  const sweep = (nowSeconds: number) => {
    for (const [jti, exp] of seen) if (exp < nowSeconds - 60) seen.delete(jti);
  };

  return {
    /**
     * Middleware for one route: refuses the call unless it carries a valid receipt for `action` and exactly these
     * parameters. `params` rebuilds the action's parameters from the call (default: route params plus JSON body).
     */
    require(action: string, params: (req: Request) => Record<string, unknown> = defaultParams): RequestHandler {
      return (req: Request, res: Response, next: NextFunction) => {
        const refuse = (code: ReceiptRefusal, detail: string) => {
          options.onRefused?.(req, code);
          res
            .status(403)
            .type('application/problem+json')
            .json({
              type: 'about:blank',
              title: 'A valid Countersign approval receipt is required',
              status: 403,
              code,
              detail,
            });
        };
        const requestId = req.get('idempotency-key');
        verify(req.get(RECEIPT_HEADER), {
          action,
          paramsHash: receiptParamsHash(params(req)),
          ...(requestId ? { requestId } : {}),
          ...(options.audience ? { audience: options.audience } : {}),
          ...(options.issuer ? { issuer: options.issuer } : {}),
        })
          .then((result) => {
            if (!result.valid) return refuse(result.code, result.reason);
            const receipt = result.receipt;
            if (!requestId) return refuse('mismatch', 'the call carries no Idempotency-Key');
            const wrongCall = callMismatch(receipt, req);
            if (wrongCall) return refuse('wrong_call', wrongCall);
            const now = Math.floor(Date.now() / 1000);
            sweep(now);
            if (seen.has(receipt.jti)) return refuse('replayed', 'this receipt was already used');
            seen.set(receipt.jti, receipt.exp);
            res.locals.receipt = receipt;
            next();
          })
          .catch(next);
      };
    },
  };
}

/** The action's parameters as Countersign sent them: URL placeholders travel in the path, the rest in the body. */
function defaultParams(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  const fromBody = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  return { ...req.params, ...fromBody };
}

function callMismatch(receipt: ReceiptClaims, req: Request): string | undefined {
  if (receipt.target.method && receipt.target.method !== req.method) return 'the receipt is for another method';
  const requestIdHeader = req.get('countersign-request-id');
  if (requestIdHeader && requestIdHeader !== receipt.request_id) return 'the receipt is for another request';
  if (receipt.target.url) {
    const path = new URL(receipt.target.url).pathname;
    if (path !== req.originalUrl.split('?')[0]) return 'the receipt is for another path';
  }
  return undefined;
}
