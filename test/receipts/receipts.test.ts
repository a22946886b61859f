import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { paramsHash } from '../../src/canonical';
import type { ExecuteActionInput } from '../../src/contracts/types';
import {
  RECEIPT_HEADER,
  RECEIPT_TYPE,
  createReceiptSigner,
  createReceiptVerifier,
  exportReceiptKey,
  generateReceiptKey,
  loadReceiptKey,
  parseReceiptKey,
  receiptParamsHash,
  verifyReceipt,
  type ReceiptKey,
} from '../../src/receipts';

const params = { paymentId: 'pay_abcd', amount: 1500, currency: 'USD' };
const input: ExecuteActionInput = {
  requestId: 'req_0123456789abcdef',
  action: 'payments.refund',
  connector: 'billing',
  params,
  paramsHash: paramsHash(params),
  agentId: 'support-bot',
  approvers: ['alice', 'bob'],
  policyVersion: 'p-0123456789abcdef',
  target: { system: 'billing', environment: 'production' },
};
const call = { method: 'POST', url: 'http://127.0.0.1:8090/v1/payments/pay_abcd/refunds' };
const expected = { action: 'payments.refund', paramsHash: paramsHash(params), requestId: input.requestId };

describe('approval receipts', () => {
  let key: ReceiptKey;
  let otherKey: ReceiptKey;
  beforeAll(async () => {
    key = await generateReceiptKey();
    otherKey = await generateReceiptKey();
  });

  it('when a receipt is signed for an execution, then it verifies and binds request, action, params hash, approvers, policy and target', async () => {
    const signer = createReceiptSigner({ key, issuer: 'https://countersign.test' });
    const headers = await signer.callHeaders(input, call);
    const jws = headers[RECEIPT_HEADER]!;
    expect(decodeProtectedHeader(jws)).toEqual({ alg: 'EdDSA', typ: RECEIPT_TYPE, kid: key.kid });

    const result = await verifyReceipt(jws, {
      jwks: signer.jwks(),
      expected: { ...expected, audience: 'http://127.0.0.1:8090', issuer: 'https://countersign.test' },
    });
    expect(result.valid).toBe(true);
    if (!result.valid) return;
    expect(result.receipt).toMatchObject({
      iss: 'https://countersign.test',
      aud: 'http://127.0.0.1:8090',
      sub: 'support-bot',
      request_id: input.requestId,
      action: 'payments.refund',
      params_hash: paramsHash(params),
      approvers: ['alice', 'bob'],
      policy_version: 'p-0123456789abcdef',
      target: { system: 'billing', environment: 'production', connector: 'billing', method: 'POST', url: call.url },
    });
    expect(result.receipt.exp - result.receipt.iat).toBeLessThanOrEqual(60);
    // The parameters themselves never travel in the receipt (only their hash, and the URL the call goes to anyway).
    expect(decodeJwt(jws)).not.toHaveProperty('params');
    expect(JSON.stringify(decodeJwt(jws))).not.toMatch(/"amount"|"USD"/);
    // A downstream recomputes the hash from what it received.
    expect(receiptParamsHash({ currency: 'USD', amount: 1500, paymentId: 'pay_abcd' })).toBe(
      result.receipt.params_hash,
    );
  });

  it('when a receipt is older than its lifetime, then it is refused as expired', async () => {
    const issued = new Date('2030-01-01T00:00:00Z');
    const signer = createReceiptSigner({ key, ttlSeconds: 30, now: () => issued });
    const jws = await signer.sign(input, call);
    const at = (seconds: number) => () => new Date(issued.getTime() + seconds * 1000);

    await expect(verifyReceipt(jws, { key: key.publicJwk, expected, now: at(20) })).resolves.toMatchObject({
      valid: true,
    });
    await expect(
      verifyReceipt(jws, { key: key.publicJwk, expected, now: at(40), clockToleranceSeconds: 0 }),
    ).resolves.toMatchObject({
      valid: false,
      code: 'expired',
    });
    await expect(verifyReceipt(jws, { key: key.publicJwk, expected, now: at(-60) })).resolves.toMatchObject({
      valid: false,
      code: 'not_yet_valid',
    });
  });

  it('when a signer asks for more than a minute, then the receipt still lives at most 60 seconds', async () => {
    const signer = createReceiptSigner({ key, ttlSeconds: 3600 });
    const claims = decodeJwt(await signer.sign(input, call));
    expect(claims.exp! - claims.iat!).toBe(60);
  });

  it('when a validly signed token lives longer than a minute, then it is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const jws = await new SignJWT({
      request_id: input.requestId,
      action: input.action,
      params_hash: input.paramsHash,
      approvers: [],
      policy_version: 'p',
      target: { connector: 'billing' },
    })
      .setProtectedHeader({ alg: 'EdDSA', typ: RECEIPT_TYPE, kid: key.kid })
      .setIssuer('countersign')
      .setAudience('x')
      .setSubject('support-bot')
      .setJti('j')
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(key.privateKey);
    await expect(verifyReceipt(jws, { key: key.publicJwk })).resolves.toMatchObject({
      valid: false,
      code: 'too_long_lived',
    });
  });

  it('when the params hash, action or request id differ from the call, then the receipt is refused as a mismatch', async () => {
    const jws = await createReceiptSigner({ key }).sign(input, call);
    const tampered = paramsHash({ ...params, amount: 15000 });
    await expect(
      verifyReceipt(jws, { key: key.publicJwk, expected: { ...expected, paramsHash: tampered } }),
    ).resolves.toEqual({
      valid: false,
      code: 'mismatch',
      reason: 'the receipt is for a different params_hash',
    });
    await expect(
      verifyReceipt(jws, { key: key.publicJwk, expected: { ...expected, action: 'customers.delete' } }),
    ).resolves.toMatchObject({
      code: 'mismatch',
    });
    await expect(
      verifyReceipt(jws, { key: key.publicJwk, expected: { ...expected, requestId: 'req_other' } }),
    ).resolves.toMatchObject({
      code: 'mismatch',
    });
    await expect(
      verifyReceipt(jws, { key: key.publicJwk, expected: { ...expected, audience: 'https://payroll.internal' } }),
    ).resolves.toMatchObject({ code: 'mismatch' });
  });

  it('when the payload is edited to carry another params hash, then the signature no longer verifies', async () => {
    const jws = await createReceiptSigner({ key }).sign(input, call);
    const [header, payload, signature] = jws.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    claims.params_hash = paramsHash({ ...params, amount: 99999 });
    const forged = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
    await expect(
      verifyReceipt(forged, {
        key: key.publicJwk,
        expected: { ...expected, paramsHash: claims.params_hash as string },
      }),
    ).resolves.toMatchObject({ valid: false, code: 'bad_signature' });
  });

  it('when a receipt is signed with another key, then it is refused: bad signature against a key, unknown key against a JWKS', async () => {
    const forged = await createReceiptSigner({ key: otherKey }).sign(input, call);
    await expect(verifyReceipt(forged, { key: key.publicJwk, expected })).resolves.toMatchObject({
      valid: false,
      code: 'bad_signature',
    });
    const jwks = createReceiptSigner({ key }).jwks();
    await expect(verifyReceipt(forged, { jwks, expected })).resolves.toMatchObject({
      valid: false,
      code: 'unknown_key',
    });
  });

  it('when the header is missing or garbage, then the verifier answers instead of throwing', async () => {
    await expect(verifyReceipt(undefined, { key: key.publicJwk })).resolves.toMatchObject({
      valid: false,
      code: 'missing',
    });
    await expect(verifyReceipt('not-a-jws', { key: key.publicJwk })).resolves.toMatchObject({
      valid: false,
      code: 'malformed',
    });
    await expect(verifyReceipt('a.b.c', { key: key.publicJwk })).resolves.toMatchObject({
      valid: false,
      code: 'malformed',
    });
  });

  it('when a token of another type is signed with the receipt key, then it is not accepted as a receipt', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ scope: 'payments.refund' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: key.kid })
      .setIssuedAt(now)
      .setExpirationTime(now + 30)
      .sign(key.privateKey);
    await expect(verifyReceipt(token, { key: key.publicJwk })).resolves.toMatchObject({
      valid: false,
      code: 'wrong_type',
    });
  });

  it('when the JWKS is fetched from the API over HTTP, then a reusable verifier accepts receipts of the published key', async () => {
    const signer = createReceiptSigner({ key });
    let fetches = 0;
    const server: Server = createServer((_req, res) => {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(signer.jwks()));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const verify = createReceiptVerifier({ jwks: new URL(`http://127.0.0.1:${port}/.well-known/receipt-jwks.json`) });
      await expect(verify(await signer.sign(input, call), expected)).resolves.toMatchObject({ valid: true });
      await expect(verify(await signer.sign(input, call), expected)).resolves.toMatchObject({ valid: true });
      expect(fetches).toBe(1);
    } finally {
      server.close();
    }
  });
});

describe('receipt signing key', () => {
  it('when a PEM or JWK key is configured, then both load to the same key id', async () => {
    const key = await generateReceiptKey();
    const pem = exportReceiptKey(key);
    const jwk = JSON.stringify(key.privateKey.export({ format: 'jwk' }));
    const fromPem = await loadReceiptKey({ COUNTERSIGN_RECEIPT_KEY: pem, COUNTERSIGN_DATA_DIR: '/nonexistent' });
    const fromJwk = await parseReceiptKey(jwk, 'COUNTERSIGN_RECEIPT_KEY');
    expect(fromPem.kid).toBe(key.kid);
    expect(fromJwk.kid).toBe(key.kid);
    expect(fromPem.publicJwk).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: key.publicJwk.x,
      kid: key.kid,
      alg: 'EdDSA',
      use: 'sig',
    });
    expect(fromPem.publicJwk).not.toHaveProperty('d');
  });

  it('when the configured key is not Ed25519 or not a key, then loading fails without echoing it', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    await expect(parseReceiptKey(rsa, 'COUNTERSIGN_RECEIPT_KEY')).rejects.toThrow(
      'COUNTERSIGN_RECEIPT_KEY must be an Ed25519 key, it is rsa',
    );
    const err = await parseReceiptKey('s3cr3t-garbage', 'COUNTERSIGN_RECEIPT_KEY').catch((e: Error) => e);
    expect((err as Error).message).toBe('COUNTERSIGN_RECEIPT_KEY is not a PKCS#8 PEM or private JWK');
  });

  it('when no key is configured, then one is generated once in the data directory, private to its owner, and reused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-rk-'));
    const first = await loadReceiptKey({ COUNTERSIGN_DATA_DIR: dir });
    const second = await loadReceiptKey({ COUNTERSIGN_DATA_DIR: dir });
    expect(second.kid).toBe(first.kid);
    expect(statSync(join(dir, 'receipt-signing-key.pem')).mode & 0o777).toBe(0o600);
  });
});
