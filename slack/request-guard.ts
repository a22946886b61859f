// The first thing a Slack HTTP request meets, before Bolt: requests stamped more than five minutes from now in either
// direction are refused (Bolt alone accepts future ones), then the signature is checked with the signing secret by
// Bolt's own verifier, then a request seen before (same signature) is refused as a replay. Refusals answer 401,
// change nothing, and are logged without the body or the signature. The signatures seen are kept in a ReplayMemory:
// the database in every process (src/replica-state), so a request replayed to another API replica is refused too.
import { isValidSlackRequest } from '@slack/bolt';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from '../src/logger';

export interface SlackRequestGuardOptions {
  signingSecret: string;
  logger: Logger;
  /** Accepted clock difference in seconds, both directions (default 300). */
  toleranceSeconds?: number;
  /** Largest body accepted (default 1 MB; Slack payloads are far smaller). */
  bodyLimit?: string;
  now?: () => number;
  /** Where seen signatures are remembered (default: this process's memory). */
  replays?: ReplayMemory;
}

/** Remembers request signatures for as long as they could be accepted. */
export interface ReplayMemory {
  /** Remembers `signature` until `untilMs`; false when it is remembered already (a replay). Atomic per signature. */
  remember(signature: string, nowMs: number, untilMs: number): Promise<boolean>;
}

/** Signatures in this process's memory: one replica's view only. */
export function createMemoryReplayMemory(): ReplayMemory {
  const seen = new Map<string, number>();
  return {
    remember(signature, nowMs, untilMs) {
      if (seen.size > 10_000) for (const [s, until] of seen) if (until < nowMs) seen.delete(s);
      const until = seen.get(signature);
      if (until !== undefined && until >= nowMs) return Promise.resolve(false);
      seen.set(signature, untilMs);
      return Promise.resolve(true);
    },
  };
}

export type RefusalReason = 'unsigned' | 'bad_timestamp' | 'stale' | 'future' | 'mis-signed' | 'replayed';

/** Express middleware (raw body reader + checks) to mount before Bolt's receiver. */
export function createSlackRequestGuard(options: SlackRequestGuardOptions): RequestHandler[] {
  const now = options.now ?? Date.now;
  const tolerance = options.toleranceSeconds ?? 300;
  const log = options.logger.child({ component: 'slack-guard' });
  // A signature stays acceptable for `tolerance` seconds on either side, so that is how long it must be remembered.
  const replays = options.replays ?? createMemoryReplayMemory();

  const check = async (req: Request, res: Response, next: NextFunction) => {
    const refuse = (reason: RefusalReason) => {
      log.warn(
        { reason, path: req.originalUrl, ip: req.ip, retry: req.headers['x-slack-retry-num'] },
        'slack request refused',
      );
      res.status(401).end();
    };
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const signature = header(req, 'x-slack-signature');
    const stamp = header(req, 'x-slack-request-timestamp');
    if (!signature || !stamp) return refuse('unsigned');
    if (!/^\d{1,12}$/.test(stamp)) return refuse('bad_timestamp');
    const nowMs = now();
    const skew = Number(stamp) - Math.floor(nowMs / 1000);
    if (skew < -tolerance) return refuse('stale');
    if (skew > tolerance) return refuse('future');
    const valid = isValidSlackRequest({
      signingSecret: options.signingSecret,
      body: body.toString('utf8'),
      headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': Number(stamp) },
      nowMilliseconds: nowMs,
    });
    if (!valid) return refuse('mis-signed');
    // Fail closed: when the memory cannot be asked, the request is not accepted (the error handler answers 500).
    if (!(await replays.remember(signature, nowMs, nowMs + 2 * tolerance * 1000))) return refuse('replayed');
    // Bolt's receiver reads `rawBody` when present and verifies the signature again over the same bytes.
    (req as Request & { rawBody?: Buffer }).rawBody = body;
    next();
  };

  return [express.raw({ type: () => true, limit: options.bodyLimit ?? '1mb' }), check];
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
