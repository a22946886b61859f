// Federated agent tokens over HTTP, against a real OpenID provider on loopback: an agent authenticates with an access
// token from the company's identity provider (client credentials, JWT), mapped by its client id to a registered agent,
// and everything downstream is as with Countersign's own tokens. Wrong issuer, audience, expiry, unknown key, an
// unmapped client and a suspended agent are refused with problem+json; key rotation is followed; with the provider
// down, a cached key still verifies and a key never fetched fails closed.
import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { call, operatorToken, startApi, workflowExistsFor, type Api, type Problem } from './http-support';
import { databasesUnderTest, registerAgent, smallRefund, submitAs } from './identity-support';

const AUDIENCE = 'countersign-test';

describe.each(await databasesUnderTest())('federated agent tokens over HTTP [%s]', (dialect) => {
  let target: TargetServer;
  let idp: TestOidcProvider;
  let stranger: TestOidcProvider;
  let h: Harness;
  let api: Api;
  let erin: string;
  /** How far the identity services' clock runs ahead of the system's. */
  let clockAheadMs = 0;

  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_federation_secret_77c1';
    target = await startTargetServer();
    const agentClients = {
      'fed-client-1': { secret: 'fed-client-1-secret-value-0001', scope: 'payments.refund customers.read' },
      'fed-client-2': { secret: 'fed-client-2-secret-value-0002' },
      'stranger-client': { secret: 'stranger-client-secret-value-03' },
    };
    idp = await startOidcProvider({ agentClients, audience: AUDIENCE });
    stranger = await startOidcProvider({ agentClients, audience: AUDIENCE });
    const federation = `
federation:
  agentIssuers:
    - issuer: '${idp.issuer}'
      jwksUri: '${idp.jwksUri}'
      audience: ${AUDIENCE}
      algorithms: [ES256]
      clockSkew: 5s
      agentClaim: client_id
      jwksCooldown: 1ms
      agents:
        fed-client-1: fed-bot
        fed-client-2: fed-suspended
`;
    h = await startHarness({
      config: testConfig({ targetHost: target.host, extraYaml: federation }),
      identity: { dialect, clock: () => new Date(Date.now() + clockAheadMs) },
    });
    api = await startApi(h);
    erin = operatorToken(h, 'erin');
    await registerAgent(api, erin, { id: 'fed-bot', owner: 'carol', allowedActions: ['payments.refund'] });
    await registerAgent(api, erin, { id: 'fed-suspended', owner: 'carol', allowedActions: ['payments.refund'] });
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
    await idp?.close();
    await stranger?.close();
    await target?.close();
  });

  const expectRefused = async (token: string, status: number, detail: RegExp) => {
    const res = await submitAs(api, token, smallRefund(`fed${randomUUID().slice(0, 8)}`));
    expect(res.status, res.text).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((res.json as unknown as Problem).detail).toMatch(detail);
    return res;
  };

  it('when an agent presents an access token of the trusted provider, then its request executes as the mapped agent', async () => {
    const token = await idp.agentToken('fed-client-1');
    const res = await submitAs(api, token, smallRefund('fedflow01'), '?wait=20');
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({ status: 'succeeded', agent: 'fed-bot' });
    expect(target.callsFor(res.json.id)).toHaveLength(1);

    // The registry, not the provider's scopes, says what the agent may request.
    const outside = await submitAs(api, token, {
      action: 'customers.read',
      params: { customerId: 'cus_1' },
      reason: 'lookup',
    });
    expect(outside.status).toBe(403);
    expect(outside.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    // Only its own requests are visible to it; the operator sees the request attributed to the mapped agent.
    const mine = await call<{ items: { id: string; agent: string }[] }>(api, 'GET', '/v1/action-requests', { token });
    expect(mine.json.items.map((i) => i.agent)).toEqual(['fed-bot']);
  });

  it('when a token is from another issuer, for another audience, expired, under an unknown key or for an unmapped client, then 401 says why', async () => {
    await expectRefused(await stranger.agentToken('fed-client-1'), 401, /untrusted issuer/);
    await expectRefused(await idp.agentToken('fed-client-1', { resource: 'urn:elsewhere' }), 401, /another audience/);
    await expectRefused(await idp.agentToken('stranger-client'), 401, /does not map to a registered agent/);

    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ client_id: 'fed-client-1', scope: 'payments.refund' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k-never-published', typ: 'at+jwt' })
      .setIssuer(idp.issuer)
      .setAudience(AUDIENCE)
      .setSubject('fed-client-1')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    const unknownKey = await expectRefused(forged, 401, /unknown signing key/);
    expect(unknownKey.headers.get('www-authenticate')).toMatch(/invalid_token/);

    const token = await idp.agentToken('fed-client-1');
    clockAheadMs = 60 * 60_000;
    try {
      await expectRefused(token, 401, /expired/);
    } finally {
      clockAheadMs = 0;
    }
  });

  it('when the mapped agent is suspended, then its federated token is refused and nothing starts', async () => {
    const token = await idp.agentToken('fed-client-2');
    const before = await submitAs(api, token, smallRefund('fedsusp01'), '?wait=20');
    expect(before.status, before.text).toBe(201);
    const suspended = await call(api, 'POST', '/v1/agents/fed-suspended/suspend', {
      token: erin,
      body: { reason: 'investigation' },
    });
    expect(suspended.status, suspended.text).toBe(200);
    const key = randomUUID();
    const refused = await call<Problem>(api, 'POST', '/v1/action-requests', {
      token,
      body: smallRefund('fedsusp02'),
      headers: { 'idempotency-key': key },
    });
    expect(refused.status).toBe(401);
    expect(refused.json.detail).toMatch(/not active/);
    expect(await workflowExistsFor(h, 'fed-suspended', key)).toBe(false);
  });

  it('when the provider rotates its keys, then new tokens verify; with the provider down a cached key still verifies and an unseen key fails closed', async () => {
    const firstKid = idp.kids()[0];
    const cached = await idp.agentToken('fed-client-1');
    expect((await submitAs(api, cached, smallRefund('fedrot01'))).status).toBe(201);

    // Rotation: the old key is gone from the provider's JWKS; a token under the new one is followed.
    const rotatedKid = await idp.rotateKeys();
    expect(idp.kids()).toEqual([rotatedKid]);
    const rotated = await idp.agentToken('fed-client-1');
    expect((await submitAs(api, rotated, smallRefund('fedrot02'))).status).toBe(201);
    expect(rotatedKid).not.toBe(firstKid);

    // A second rotation the API has not seen yet, then the provider goes down.
    await idp.rotateKeys();
    const unseen = await idp.agentToken('fed-client-1');
    await idp.stop();
    try {
      expect((await submitAs(api, rotated, smallRefund('fedrot03'))).status).toBe(201);
      const key = randomUUID();
      const refused = await call<Problem>(api, 'POST', '/v1/action-requests', {
        token: unseen,
        body: smallRefund('fedrot05'),
        headers: { 'idempotency-key': key },
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(refused.json.detail).toMatch(/cannot be reached and no cached key matches/);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(await workflowExistsFor(h, 'fed-bot', key)).toBe(false);
    } finally {
      await idp.start();
    }
    // Back up: the key is fetched and the token verifies.
    expect((await submitAs(api, unseen, smallRefund('fedrot04'))).status).toBe(201);
  });
});
