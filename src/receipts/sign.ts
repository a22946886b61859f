// Signs approval receipts inside the connector activity, one per downstream call attempt, valid for at most a minute:
// long enough for the call, too short to be replayed later as a standing credential.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ExecuteActionInput } from '../contracts/types';
import { MAX_RECEIPT_TTL_SECONDS, RECEIPT_HEADER, RECEIPT_TYPE, type ReceiptClaims } from './claims';
import { receiptJwks, type ReceiptKey } from './keys';

/** The downstream call a receipt is for. */
export interface ReceiptCall {
  method: string;
  url: string;
}

export interface ReceiptSignerOptions {
  key: ReceiptKey;
  /** `iss` of every receipt; downstream services may pin it. Default `countersign`. */
  issuer?: string;
  /** Lifetime in seconds; at most 60 (the default). */
  ttlSeconds?: number;
  now?: () => Date;
}

/** Creates the receipt signer; `callHeaders` plugs into `ConnectorDeps.callHeaders`. */
export function createReceiptSigner(options: ReceiptSignerOptions) {
  const issuer = options.issuer ?? 'countersign';
  const ttl = Math.min(Math.max(Math.floor(options.ttlSeconds ?? MAX_RECEIPT_TTL_SECONDS), 1), MAX_RECEIPT_TTL_SECONDS);
  const now = options.now ?? (() => new Date());

  /** The claims of a receipt for this execution and call. */
  function claims(input: ExecuteActionInput, call: ReceiptCall | undefined, iat: number): ReceiptClaims {
    return {
      iss: issuer,
      aud: call ? new URL(call.url).origin : `connector:${input.connector}`,
      sub: input.agentId ?? '',
      iat,
      exp: iat + ttl,
      jti: randomUUID(),
      request_id: input.requestId,
      action: input.action,
      params_hash: input.paramsHash,
      approvers: [...(input.approvers ?? [])],
      policy_version: input.policyVersion ?? '',
      target: {
        ...pick(input.target),
        connector: input.connector,
        ...(call ? { method: call.method, url: call.url } : {}),
      },
    };
  }

  /** A compact JWS (EdDSA) binding the request, its parameters, approvers, policy version and target. */
  async function sign(input: ExecuteActionInput, call?: ReceiptCall): Promise<string> {
    const iat = Math.floor(now().getTime() / 1000);
    const { iss, aud, sub, exp, jti, ...rest } = claims(input, call, iat);
    return new SignJWT({ ...rest })
      .setProtectedHeader({ alg: 'EdDSA', typ: RECEIPT_TYPE, kid: options.key.kid })
      .setIssuer(iss)
      .setAudience(aud)
      .setSubject(sub)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(jti)
      .sign(options.key.privateKey);
  }

  return {
    kid: options.key.kid,
    ttlSeconds: ttl,
    sign,
    /** Headers for `ConnectorDeps.callHeaders`: the receipt for this attempt. */
    async callHeaders(input: ExecuteActionInput, call?: ReceiptCall): Promise<Record<string, string>> {
      return { [RECEIPT_HEADER]: await sign(input, call) };
    },
    /** The public keys to publish for verifiers. */
    jwks: () => receiptJwks([options.key]),
  };
}

export type ReceiptSigner = ReturnType<typeof createReceiptSigner>;

function pick(target: ExecuteActionInput['target']): Partial<ReceiptClaims['target']> {
  const out: Partial<ReceiptClaims['target']> = {};
  if (target?.system) out.system = target.system;
  if (target?.environment) out.environment = target.environment;
  if (target?.resource) out.resource = target.resource;
  return out;
}
