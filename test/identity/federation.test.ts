// Federated agent tokens from an issuer with a static JWKS, mapped by SPIFFE ID (a JWT-SVID) or by `sub`: the mapping,
// the trust domain, the allowed algorithms and the clock skew, against the registry on both databases. (The HTTP suite
// test/integration/identity-federation.test.ts runs a real OpenID provider with a remote JWKS.)
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { expect, it } from 'vitest';
import { createIdentity } from '../../src/identity';
import { TokenError } from '../../src/identity/tokens';
import { createLogger } from '../../src/logger';
import { testConfig } from '../support/config';
import { describeEachDatabase, manualClock } from './databases';

const ISSUER = 'https://spire.example.com';

const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid: 'svid-1', alg: 'ES256', use: 'sig' };

const config = testConfig({
  targetHost: '127.0.0.1:9',
  extraYaml: `
federation:
  agentIssuers:
    - issuer: ${ISSUER}
      jwks: { keys: [${JSON.stringify(publicJwk)}] }
      audience: [countersign, countersign-alt]
      algorithms: [ES256]
      clockSkew: 30s
      agentClaim: spiffe
      trustDomain: prod.example.com
      agents:
        spiffe://prod.example.com/ns/support/sa/bot: support-bot
        spiffe://prod.example.com/ns/crm/sa/reader: other-bot
`,
});

async function svid(sub: string, options: { key?: CryptoKey; kid?: string; alg?: string; exp?: number } = {}) {
  return new SignJWT({})
    .setProtectedHeader({ alg: options.alg ?? 'ES256', kid: options.kid ?? 'svid-1', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience('countersign')
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? '5m')
    .sign(options.key ?? privateKey);
}

await describeEachDatabase('federated agent tokens (static JWKS, SPIFFE)', (current) => {
  const setup = async () => {
    const clock = manualClock(new Date());
    const identity = await createIdentity({
      db: current().db,
      config,
      logger: createLogger({ level: 'silent' }),
      clock: clock.now,
      tokenTtlMs: 300_000,
      audience: 'countersign',
      issuer: 'countersign',
      signingKeyRotationMs: 86_400_000,
      secretOverlapMs: 60_000,
      agentCacheMs: 0,
      killSwitchCacheMs: 0,
      defaultRateLimit: '60/m',
      allowApiKeys: false,
    });
    return { identity, clock };
  };
  const refusal = async (promise: Promise<unknown>) => {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TokenError);
    return (err as TokenError).refusal;
  };

  it('when a JWT-SVID of the trusted domain is presented, then it is the agent its SPIFFE ID maps to', async () => {
    const { identity } = await setup();
    const caller = await identity.authenticator.authenticate(
      `Bearer ${await svid('spiffe://prod.example.com/ns/support/sa/bot')}`,
    );
    expect(caller).toMatchObject({ kind: 'agent', agent: { id: 'support-bot', enabled: true } });
    if (caller?.kind !== 'agent') throw new Error('expected an agent');
    expect(caller.agent.allowedActions).toContain('payments.refund');
  });

  it('when the SPIFFE ID is of another domain, unmapped, or the token is expired, under another key or algorithm, then it is refused with the reason', async () => {
    const { identity, clock } = await setup();
    const auth = (token: string) => identity.authenticator.authenticate(`Bearer ${token}`);
    expect(await refusal(auth(await svid('spiffe://dev.example.com/ns/support/sa/bot')))).toBe('unmapped_subject');
    expect(await refusal(auth(await svid('spiffe://prod.example.com/ns/other/sa/x')))).toBe('unmapped_subject');
    expect(await refusal(auth(await svid('support-bot')))).toBe('unmapped_subject');
    expect(await refusal(auth(await svid('spiffe://prod.example.com/ns/support/sa/bot', { kid: 'svid-2' })))).toBe(
      'unknown_key',
    );
    const other = await generateKeyPair('ES256');
    expect(
      await refusal(auth(await svid('spiffe://prod.example.com/ns/support/sa/bot', { key: other.privateKey }))),
    ).toBe('bad_signature');
    const rsa = await generateKeyPair('RS256');
    expect(
      await refusal(
        auth(await svid('spiffe://prod.example.com/ns/support/sa/bot', { key: rsa.privateKey, alg: 'RS256' })),
      ),
    ).toBe('malformed');

    // Within the configured skew a just-expired token still passes; beyond it, it does not.
    const token = await svid('spiffe://prod.example.com/ns/support/sa/bot');
    clock.advance(5 * 60_000 + 20_000);
    expect(await auth(token)).toMatchObject({ kind: 'agent' });
    clock.advance(20_000);
    expect(await refusal(auth(token))).toBe('expired');
  });

  it('when the mapped agent is suspended, then its SVID is refused until it is resumed', async () => {
    const { identity } = await setup();
    const token = await svid('spiffe://prod.example.com/ns/crm/sa/reader');
    await identity.registry.suspend('other-bot', 'operator:erin', 'investigation');
    expect(await refusal(identity.authenticator.authenticate(`Bearer ${token}`))).toBe('agent_inactive');
    await identity.registry.resume('other-bot', 'operator:erin');
    expect(await identity.authenticator.authenticate(`Bearer ${token}`)).toMatchObject({ agent: { id: 'other-bot' } });
  });
});
