// The codec server (Temporal's remote codec protocol): POST /codec/decode and /codec/encode take
// `{ payloads: [{ metadata: { key: base64 }, data: base64 }] }` and answer the same shape. The Temporal UI and the
// `temporal` CLI (`--codec-endpoint`, `--codec-auth`) call it so authorized operators read the sealed histories.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { AppError } from '../errors';
import type { Authenticator } from './auth';
import { parseOrThrow } from './schemas';

/** Largest codec request: a history page's payloads. */
const CODEC_BODY_LIMIT = 4 * 1024 * 1024;

export interface CodecHttp {
  codec: PayloadCodec;
  /** The Temporal UI's origin, allowed by CORS (the browser calls the endpoint directly). */
  corsOrigin?: string;
  /**
   * Dev mode only: the embedded dev server's UI cannot send an operator token, so calls from `corsOrigin` that reach a
   * loopback API are accepted without one. Never set where the API listens beyond loopback.
   */
  trustLoopbackUi?: boolean;
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');
const codecBodySchema = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), base64).default({}), data: base64.default('') }))
    .max(10_000),
});

/** The codec routes, with their CORS preflight; mounted before the /v1 router. */
export function createCodecRouter(codec: CodecHttp, authenticator: Authenticator): express.Router {
  const router = express.Router();
  router.use('/codec', cors(codec));
  router.options('/codec/{*rest}', (_req, res) => {
    res.status(204).end();
  });
  const json = express.json({ limit: CODEC_BODY_LIMIT });
  const handle = (direction: 'encode' | 'decode') => [
    requireOperator(codec, authenticator),
    json,
    async (req: Request, res: Response) => {
      const body = parseOrThrow(codecBodySchema, req.body ?? {});
      const payloads = body.payloads.map(fromJson);
      let out: Payload[];
      try {
        out = direction === 'decode' ? await codec.codec.decode(payloads) : await codec.codec.encode(payloads);
      } catch (err) {
        // The message names a key id at most, never key material.
        throw new AppError('bad_request', `payloads cannot be ${direction}d`, {
          errors: [{ path: 'payloads', message: err instanceof Error ? err.message : String(err) }],
        });
      }
      res.json({ payloads: out.map(toJson) });
    },
  ];
  router.post('/codec/decode', ...handle('decode'));
  router.post('/codec/encode', ...handle('encode'));
  return router;
}

function cors(codec: CodecHttp) {
  return (req: Request, res: Response, next: NextFunction) => {
    const origin = req.get('origin');
    if (origin && codec.corsOrigin && origin === codec.corsOrigin) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, X-Namespace',
        'Access-Control-Max-Age': '600',
        Vary: 'Origin',
      });
    }
    next();
  };
}

function requireOperator(codec: CodecHttp, authenticator: Authenticator) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.get('authorization');
    if (
      !header &&
      codec.trustLoopbackUi &&
      codec.corsOrigin &&
      req.get('origin') === codec.corsOrigin &&
      isLoopback(req)
    ) {
      next();
      return;
    }
    const caller = await authenticator.authenticate(header);
    if (!caller) {
      throw new AppError('unauthorized', 'the codec endpoint needs an operator token', {
        errors: [{ path: 'Authorization', message: 'Bearer <operator token> required' }],
        headers: { 'WWW-Authenticate': 'Bearer realm="countersign"' },
      });
    }
    if (caller.kind !== 'operator') {
      throw new AppError('forbidden', 'only operators may decode payloads', {
        errors: [{ path: 'Authorization', message: 'an operator token is required' }],
      });
    }
    next();
  };
}

function isLoopback(req: Request): boolean {
  const address = req.socket.remoteAddress ?? '';
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

function fromJson(p: { metadata: Record<string, string>; data: string }): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data, 'base64'),
  };
}

function toJson(p: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}
