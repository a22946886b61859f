import { generateKeyPair, SignJWT } from 'jose';
import { expect, it } from 'vitest';
import { createClientCredentials } from '../../src/identity/credentials';
import { createRegistryAgentDirectory } from '../../src/identity/directory';
import { createAgentRegistry, vocabularyFromConfig } from '../../src/identity/registry';
import { createSigningKeys } from '../../src/identity/signing-keys';
import { createTokenService, TokenError, type TokenRefusal } from '../../src/identity/tokens';
import { testConfig } from '../support/config';
import { describeEachDatabase, manualClock } from './databases';

const config = testConfig({ targetHost: '127.0.0.1:9' });
const TTL_MS = 10 * 60_000;
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

await describeEachDatabase('access tokens', (current) => {
  const setup = async (options: { cacheMs?: number; audience?: string } = {}) => {
    const clock = manualClock(new Date());
    const db = current().db;
    const registry = createAgentRegistry({ db, clock: clock.now, vocabulary: vocabularyFromConfig(config) });
    await registry.seedFromConfig(config);
    const directory = createRegistryAgentDirectory({ registry, cacheMs: options.cacheMs ?? 2_000, clock: clock.now });
    const credentials = createClientCredentials({ db, registry, overlapMs: 3_600_000, clock: clock.now });
    const keys = createSigningKeys({ db, rotateAfterMs: 30 * 86_400_000, maxTokenTtlMs: TTL_MS, clock: clock.now });
    const make = (audience = options.audience ?? 'countersign') =>
      createTokenService({
        keys,
        credentials,
        directory,
        audience,
        issuer: 'https://cs.test',
        ttlMs: TTL_MS,
        clock: clock.now,
      });
    const tokens = make();
    const { clientSecret } = await credentials.rotate('support-bot', 'operator:erin');
    const obtain = async (scope?: string) => {
      const res = await tokens.tokenEndpoint({
        authorization: basic('support-bot', clientSecret),
        form: { grant_type: 'client_credentials', ...(scope ? { scope } : {}) },
      });
      expect(res.status).toBe(200);
      return String(res.body.access_token);
    };
    return { clock, registry, directory, credentials, keys, tokens, make, clientSecret, obtain };
  };

  const refusal = async (promise: Promise<unknown>): Promise<TokenRefusal | undefined> => {
    try {
      await promise;
      return undefined;
    } catch (err) {
      if (err instanceof TokenError) {
        expect(err.status).toBe(401);
        expect(err.headers['WWW-Authenticate']).toMatch(/^Bearer error="invalid_token"/);
        return err.refusal;
      }
      throw err;
    }
  };

  it('when an agent presents its client secret by HTTP Basic, then it gets a short-lived EdDSA token for its actions', async () => {
    const { tokens, keys, clientSecret } = await setup();
    const res = await tokens.tokenEndpoint({
      authorization: basic('support-bot', clientSecret),
      form: { grant_type: 'client_credentials' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['Cache-Control']).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 600 });
    expect(String(res.body.scope).split(' ').sort()).toEqual(
      ['customers.delete', 'customers.read', 'email.send_external', 'payments.refund'].sort(),
    );
    const verified = await tokens.verify(String(res.body.access_token));
    expect(verified.claims).toMatchObject({ sub: 'support-bot', aud: 'countersign', iss: 'https://cs.test' });
    expect((verified.claims.exp ?? 0) - (verified.claims.iat ?? 0)).toBe(600);
    expect(verified.claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    // The signing key and the next one, published ahead of the rotation.
    const published = (await keys.jwks()).keys.map((k) => k.kid);
    expect(published).toHaveLength(2);
    expect(published).toContain(verified.kid);
    expect((await keys.jwks()).keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(JSON.stringify(await keys.jwks())).not.toMatch(/"d":/);
    expect(verified.record).toMatchObject({ id: 'support-bot', enabled: true });
  });

  it('when client authentication is wrong, missing, doubled or the grant is not client_credentials, then OAuth2 errors come back', async () => {
    const { tokens, clientSecret } = await setup();
    const call = (authorization: string | undefined, form: Record<string, unknown>) =>
      tokens.tokenEndpoint({ ...(authorization ? { authorization } : {}), form });
    const grant = { grant_type: 'client_credentials' };
    expect(await call(undefined, { ...grant, client_id: 'support-bot', client_secret: clientSecret })).toMatchObject({
      status: 200,
    });
    expect(await call(basic('support-bot', 'cs_secret_wrong'), grant)).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
      headers: { 'WWW-Authenticate': 'Basic realm="countersign"' },
    });
    expect(await call(basic('other-bot', clientSecret), grant)).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
    expect(await call(undefined, grant)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await call(basic('support-bot', clientSecret), { ...grant, client_secret: clientSecret })).toMatchObject({
      status: 400,
      body: { error: 'invalid_request' },
    });
    expect(await call(basic('support-bot', clientSecret), { grant_type: 'password' })).toMatchObject({
      status: 400,
      body: { error: 'unsupported_grant_type' },
    });
    expect(await call(basic('support-bot', clientSecret), {})).toMatchObject({
      status: 400,
      body: { error: 'invalid_request' },
    });
    expect(
      await call(basic('support-bot', clientSecret), { ...grant, scope: 'customers.read admin.everything' }),
    ).toMatchObject({
      status: 400,
      body: { error: 'invalid_scope' },
    });
    const failed = JSON.stringify(await call(basic('support-bot', 'cs_secret_wrong'), grant));
    expect(failed).not.toContain(clientSecret);
  });

  it('when a token has expired, then it is refused; within its lifetime it is accepted', async () => {
    const { tokens, clock, obtain } = await setup();
    const token = await obtain();
    clock.advance(TTL_MS - 1_000);
    expect((await tokens.verify(token)).agent.id).toBe('support-bot');
    clock.advance(1_000 + 5_000 + 1_000);
    expect(await refusal(tokens.verify(token))).toBe('expired');
  });

  it('when a token is not yet valid, then it is refused', async () => {
    const { tokens, clock, obtain } = await setup();
    clock.advance(60_000);
    const early = await obtain();
    clock.advance(-60_000);
    expect(await refusal(tokens.verify(early))).toBe('not_yet_valid');
  });

  it('when a token is for another audience, then it is refused', async () => {
    const { make, obtain } = await setup();
    const token = await obtain();
    expect(await refusal(make('billing-service').verify(token))).toBe('wrong_audience');
  });

  it('when a token’s signature or claims are altered, then it is refused as a bad signature', async () => {
    const { tokens, obtain } = await setup();
    const token = await obtain('customers.read');
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const mid = Math.floor(signature.length / 2);
    const flipped = signature.slice(0, mid) + (signature[mid] === 'A' ? 'B' : 'A') + signature.slice(mid + 1);
    expect(await refusal(tokens.verify(`${header}.${payload}.${flipped}`))).toBe('bad_signature');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'payments.refund customers.delete' })).toString(
      'base64url',
    );
    expect(await refusal(tokens.verify(`${header}.${widened}.${signature}`))).toBe('bad_signature');
  });

  it('when a token is signed by a key Countersign does not know, or not by EdDSA, then it is refused', async () => {
    const { tokens, clock } = await setup();
    const { privateKey } = await generateKeyPair('EdDSA');
    const nowS = Math.floor(clock.now().getTime() / 1000);
    const forged = await new SignJWT({ scope: 'payments.refund' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'forged-kid', typ: 'at+jwt' })
      .setIssuer('https://cs.test')
      .setSubject('support-bot')
      .setAudience('countersign')
      .setIssuedAt(nowS)
      .setNotBefore(nowS)
      .setExpirationTime(nowS + 60)
      .setJti('x')
      .sign(privateKey);
    expect(await refusal(tokens.verify(forged))).toBe('unknown_key');
    const hmac = await new SignJWT({ scope: 'payments.refund' })
      .setProtectedHeader({ alg: 'HS256', kid: 'whatever', typ: 'at+jwt' })
      .setSubject('support-bot')
      .sign(new Uint8Array(32));
    expect(await refusal(tokens.verify(hmac))).toBe('malformed');
    expect(await refusal(tokens.verify('not.a.jwt'))).toBe('malformed');
  });

  it('when a token’s scope lacks an action, then the agent it proves may not request that action', async () => {
    const { tokens, obtain } = await setup();
    const verified = await tokens.verify(await obtain('customers.read'));
    expect(verified.scopes).toEqual(['customers.read']);
    expect(verified.record.allowedActions).toEqual(['customers.read']);
    expect(verified.record.allowedActions).not.toContain('payments.refund');
  });

  it('when an agent is suspended or decommissioned, then its live tokens are refused on the next request', async () => {
    const { tokens, registry, obtain, credentials, clientSecret } = await setup();
    const token = await obtain();
    await registry.suspend('support-bot', 'operator:erin', 'investigation');
    expect(await refusal(tokens.verify(token))).toBe('agent_inactive');
    expect(
      await tokens.tokenEndpoint({
        authorization: basic('support-bot', clientSecret),
        form: { grant_type: 'client_credentials' },
      }),
    ).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    await registry.resume('support-bot', 'operator:erin');
    expect((await tokens.verify(token)).agent.status).toBe('active');
    await registry.decommission('support-bot', 'operator:erin');
    expect(await refusal(tokens.verify(token))).toBe('agent_inactive');
    expect(await credentials.verify('support-bot', clientSecret)).toBeUndefined();
  });

  it('when another replica suspends the agent, then its tokens are refused once the status cache (2 s) has aged', async () => {
    const { tokens, clock, obtain } = await setup({ cacheMs: 2_000 });
    const token = await obtain();
    await tokens.verify(token);
    await createAgentRegistry({ db: current().db, clock: clock.now }).suspend('support-bot', 'operator:erin');
    clock.advance(2_000);
    expect(await refusal(tokens.verify(token))).toBe('agent_inactive');
  });

  it('when a client secret is rotated, then the old one works during the overlap and not after; the new one works', async () => {
    const { credentials, clock, clientSecret: old } = await setup();
    const next = await credentials.rotate('support-bot', 'operator:erin');
    expect(next.previousValidUntil).toBe(new Date(clock.now().getTime() + 3_600_000).toISOString());
    expect(next.clientSecret).not.toBe(old);
    clock.advance(3_600_000 - 1);
    expect((await credentials.verify('support-bot', old))?.id).toBe('support-bot');
    clock.advance(1);
    expect(await credentials.verify('support-bot', old)).toBeUndefined();
    expect((await credentials.verify('support-bot', next.clientSecret))?.id).toBe('support-bot');

    const short = await credentials.rotate('support-bot', 'operator:erin', 0);
    expect(await credentials.verify('support-bot', next.clientSecret)).toBeUndefined();
    expect((await credentials.verify('support-bot', short.clientSecret))?.id).toBe('support-bot');
    const listed = await credentials.list('support-bot');
    expect(listed.filter((c) => c.active)).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(short.clientSecret);
  });

  it('when the signing key rotates, then tokens signed by the previous key verify until it expires and the JWKS lists both', async () => {
    const { tokens, keys, clock, obtain } = await setup();
    const oldToken = await obtain();
    const before = await tokens.verify(oldToken);
    const newKid = await keys.rotate();
    const after = await tokens.verify(await obtain());
    expect(after.kid).toBe(newKid);
    expect(after.kid).not.toBe(before.kid);
    const published = (await keys.jwks()).keys.map((k) => k.kid);
    expect(published).toHaveLength(3);
    expect(published).toEqual(expect.arrayContaining([before.kid, newKid]));
    clock.advance(TTL_MS - 1_000);
    expect((await tokens.verify(oldToken)).kid).toBe(before.kid);
    clock.advance(60_000 + 1_000 + 1);
    const remaining = (await keys.jwks()).keys.map((k) => k.kid);
    expect(remaining).toHaveLength(2);
    expect(remaining).toContain(newKid);
    expect(remaining).not.toContain(before.kid);
    expect(await refusal(tokens.verify(oldToken))).toMatch(/^(unknown_key|expired)$/);
  });

  it('when another replica rotates the key, then this one verifies the new kid and signs with it after its cache', async () => {
    const { tokens, keys, clock, obtain, credentials, directory } = await setup();
    const first = await tokens.verify(await obtain());
    const replicaKeys = createSigningKeys({
      db: current().db,
      rotateAfterMs: 86_400_000,
      maxTokenTtlMs: TTL_MS,
      clock: clock.now,
    });
    const replica = createTokenService({
      keys: replicaKeys,
      credentials,
      directory,
      audience: 'countersign',
      issuer: 'https://cs.test',
      ttlMs: TTL_MS,
      clock: clock.now,
    });
    const rotatedKid = await replicaKeys.rotate();
    const agent = (await directory.lookup('support-bot'))!;
    const fromReplica = await replica.issueFor(agent);
    clock.advance(1_000);
    expect((await tokens.verify(fromReplica.accessToken)).kid).toBe(rotatedKid);
    clock.advance(30_000);
    expect((await tokens.verify(await obtain())).kid).toBe(rotatedKid);
    expect(rotatedKid).not.toBe(first.kid);
    expect((await keys.current()).kid).toBe(rotatedKid);
  });

  it('when the current key is older than the rotation age, then the next token is signed by a new key', async () => {
    const { clock, obtain, tokens, keys } = await setup();
    const first = await tokens.verify(await obtain());
    clock.advance(30 * 86_400_000);
    const second = await tokens.verify(await obtain());
    expect(second.kid).not.toBe(first.kid);
    // The replaced key (until its tokens expire), the current one and the next.
    expect((await keys.jwks()).keys).toHaveLength(3);
  });

  it('when a token lifetime over 15 minutes is configured, then the service refuses to start', async () => {
    const { keys, credentials, directory } = await setup();
    expect(() =>
      createTokenService({ keys, credentials, directory, audience: 'a', issuer: 'i', ttlMs: 16 * 60_000 }),
    ).toThrow(/15 minutes/);
  });
});
