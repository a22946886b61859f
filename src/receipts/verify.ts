// Verifying approval receipts: for downstream services that must refuse any call Countersign did not approve.
//
// Every call Countersign makes to a downstream service carries `Countersign-Receipt: <compact JWS>`, signed with
// EdDSA (Ed25519) under a key published as a JWKS by the Countersign API (`GET /.well-known/receipt-jwks.json`).
// A receipt lives at most 60 seconds and binds:
//
//   request_id      the Countersign request (also sent as `Idempotency-Key` and `Countersign-Request-Id`)
//   action          the catalog action, e.g. `payments.refund`
//   params_hash     `sha256:<hex>` over the RFC 8785 canonical JSON of the action's parameters (`receiptParamsHash`)
//   approvers       the people whose approvals let it execute (empty when policy allowed it outright)
//   policy_version  the policy that decided it
//   target          the request's target (system, environment, resource), the connector, the method and the URL
//   sub / aud       the agent / the downstream's origin (`https://billing.internal`)
//
// A downstream service checks, on every call:
//
//   const verifier = createReceiptVerifier({ jwks: new URL('https://countersign.internal/.well-known/receipt-jwks.json') });
//   const result = await verifier(req.get('Countersign-Receipt'), {
//     action: 'payments.refund',
//     requestId: req.get('Idempotency-Key'),
//     paramsHash: receiptParamsHash({ paymentId: req.params.paymentId, ...req.body }),
//     audience: 'https://billing.internal',
//   });
//   if (!result.valid) return res.status(401).json({ error: result.code, detail: result.reason });
//
// `verifyReceipt(jws, { jwks | key, expected })` does the same in one call (it builds the key set each time; reuse a
// verifier in a server). Either returns `{ valid: true, receipt }` or `{ valid: false, code, reason }`; it never throws
// for a bad receipt. See examples/receipt-check.ts for Express middleware.
import type { KeyObject } from 'node:crypto';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  importJWK,
  importSPKI,
  jwtVerify,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { paramsHash } from '../canonical';
import { MAX_RECEIPT_TTL_SECONDS, RECEIPT_TYPE, type ReceiptClaims } from './claims';

/** Where the verifier finds the public key: a JWKS (object, URL, or jose key set function), or one key. */
export type ReceiptKeySource =
  | { jwks: JSONWebKeySet | URL | JWTVerifyGetKey; key?: never }
  | { key: KeyObject | CryptoKey | JWK | string; jwks?: never };

/** What the receipt must say for this call; every given field must match exactly. */
export interface ExpectedReceipt {
  action?: string;
  paramsHash?: string;
  requestId?: string;
  /** The downstream's own origin, matched against `aud`. */
  audience?: string;
  issuer?: string;
}

export interface ReceiptVerifierOptions {
  /** Allowed clock skew in seconds (default 5). */
  clockToleranceSeconds?: number;
  /** Verify as of this time (tests). */
  now?: () => Date;
}

export type VerifyReceiptOptions = ReceiptKeySource & ReceiptVerifierOptions & { expected?: ExpectedReceipt };

export type ReceiptFailureCode =
  | 'missing'
  | 'malformed'
  | 'wrong_type'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'too_long_lived'
  | 'invalid_claims'
  | 'mismatch';

export type ReceiptVerification =
  { valid: true; receipt: ReceiptClaims } | { valid: false; code: ReceiptFailureCode; reason: string };

/** The params hash a receipt binds: what a downstream computes from the parameters it received. */
export function receiptParamsHash(params: Record<string, unknown>): string {
  return paramsHash(params);
}

/** Verifies one receipt against a key or JWKS and the expected request facts. Never throws for a bad receipt. */
export async function verifyReceipt(
  jws: string | null | undefined,
  options: VerifyReceiptOptions,
): Promise<ReceiptVerification> {
  const verifier = createReceiptVerifier(options, options);
  return verifier(jws, options.expected);
}

/** A reusable verifier (the key set is built once; a remote JWKS is cached and refetched for unknown key ids). */
export function createReceiptVerifier(source: ReceiptKeySource, options: ReceiptVerifierOptions = {}) {
  const tolerance = options.clockToleranceSeconds ?? 5;
  let keyPromise: Promise<JWTVerifyGetKey | KeyObject | CryptoKey | Uint8Array> | undefined;
  const resolveKey = () => (keyPromise ??= keyFrom(source));

  return async function verify(
    jws: string | null | undefined,
    expected: ExpectedReceipt = {},
  ): Promise<ReceiptVerification> {
    if (!jws) return fail('missing', 'no Countersign-Receipt header');
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(jws.trim())) {
      return fail('malformed', 'not a compact JWS');
    }
    const now = options.now?.() ?? new Date();
    let payload: JWTPayload;
    try {
      const key = await resolveKey();
      const result = await jwtVerify(jws.trim(), key as JWTVerifyGetKey, {
        algorithms: ['EdDSA'],
        typ: RECEIPT_TYPE,
        requiredClaims: ['iat', 'exp', 'jti', 'sub', 'aud', 'iss'],
        clockTolerance: tolerance,
        currentDate: now,
        ...(expected.issuer ? { issuer: expected.issuer } : {}),
        ...(expected.audience ? { audience: expected.audience } : {}),
      });
      payload = result.payload;
    } catch (err) {
      return failFromJose(err);
    }

    const claims = asClaims(payload);
    if (!claims) return fail('invalid_claims', 'the receipt lacks required claims');
    if (claims.exp - claims.iat > MAX_RECEIPT_TTL_SECONDS) {
      return fail('too_long_lived', `receipts live at most ${MAX_RECEIPT_TTL_SECONDS}s`);
    }
    if (claims.iat > Math.floor(now.getTime() / 1000) + tolerance) return fail('not_yet_valid', 'issued in the future');
    const mismatches: string[] = [];
    if (expected.action !== undefined && claims.action !== expected.action) mismatches.push('action');
    if (expected.paramsHash !== undefined && claims.params_hash !== expected.paramsHash) mismatches.push('params_hash');
    if (expected.requestId !== undefined && claims.request_id !== expected.requestId) mismatches.push('request_id');
    if (mismatches.length > 0) return fail('mismatch', `the receipt is for a different ${mismatches.join(', ')}`);
    return { valid: true, receipt: claims };
  };
}

async function keyFrom(source: ReceiptKeySource): Promise<JWTVerifyGetKey | KeyObject | CryptoKey | Uint8Array> {
  if (source.jwks !== undefined) {
    if (typeof source.jwks === 'function') return source.jwks;
    if (source.jwks instanceof URL)
      return createRemoteJWKSet(source.jwks, { cooldownDuration: 10_000, cacheMaxAge: 10 * 60_000 });
    return createLocalJWKSet(source.jwks);
  }
  const key = source.key;
  if (typeof key === 'string') return importSPKI(key, 'EdDSA');
  if (isJwk(key)) return importJWK(key, 'EdDSA');
  return key;
}

function isJwk(key: KeyObject | CryptoKey | JWK): key is JWK {
  return typeof (key as JWK).kty === 'string';
}

function asClaims(p: JWTPayload): ReceiptClaims | undefined {
  const str = (v: unknown): v is string => typeof v === 'string';
  const target = p.target as Record<string, unknown> | undefined;
  if (
    !str(p.iss) ||
    !str(p.aud) ||
    !str(p.sub) ||
    !str(p.jti) ||
    typeof p.iat !== 'number' ||
    typeof p.exp !== 'number' ||
    !str(p.request_id) ||
    !str(p.action) ||
    !str(p.params_hash) ||
    !str(p.policy_version) ||
    !Array.isArray(p.approvers) ||
    !p.approvers.every(str) ||
    typeof target !== 'object' ||
    target === null ||
    !str(target.connector)
  ) {
    return undefined;
  }
  return p as unknown as ReceiptClaims;
}

function failFromJose(err: unknown): ReceiptVerification {
  if (err instanceof errors.JWTExpired) return fail('expired', 'the receipt has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf' || err.claim === 'iat') return fail('not_yet_valid', 'the receipt is not valid yet');
    if (err.claim === 'typ') return fail('wrong_type', `not a ${RECEIPT_TYPE}`);
    if (err.claim === 'aud' || err.claim === 'iss')
      return fail('mismatch', `the receipt is for a different ${err.claim}`);
    return fail('invalid_claims', `claim ${err.claim} is invalid`);
  }
  if (err instanceof errors.JWKSNoMatchingKey) return fail('unknown_key', 'no published key matches the receipt');
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return fail('bad_signature', 'the signature does not verify');
  if (err instanceof errors.JOSEAlgNotAllowed) return fail('wrong_type', 'receipts are signed with EdDSA only');
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return fail('malformed', 'not a valid JWS');
  if (err instanceof errors.JOSEError) return fail('malformed', err.code);
  // Anything else (the JWKS endpoint unreachable, say) is not the caller's fault, but it is no receipt either.
  return fail(
    'unknown_key',
    `the signing keys could not be loaded: ${err instanceof Error ? err.message : String(err)}`,
  );
}

function fail(code: ReceiptFailureCode, reason: string): ReceiptVerification {
  return { valid: false, code, reason };
}
