import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { createLogger } from '../../src/logger';
import { createIdentity } from '../../src/identity';
import { OPERATOR_TOKEN_PREFIX } from '../../src/identity/operators';
import { TokenError } from '../../src/identity/tokens';
import { testConfig, TEST_AGENT_KEY } from '../support/config';
import { describeEachDatabase, manualClock } from './databases';

const config = testConfig({ targetHost: '127.0.0.1:9' });
const ADMIN_TOKEN = 'bootstrap-admin-token-for-tests';

await describeEachDatabase('operators and the authenticator', (current) => {
  const setup = async (allowApiKeys = false) => {
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
      agentCacheMs: 2_000,
      killSwitchCacheMs: 1_000,
      defaultRateLimit: '60/m',
      allowApiKeys,
    });
    return { identity, clock };
  };

  it('when the first operator is bootstrapped with the admin token, then a second bootstrap is refused and the admin token is no caller', async () => {
    const { identity } = await setup();
    await expect(identity.operators.bootstrap({ id: 'erin' }, 'wrong', ADMIN_TOKEN)).rejects.toMatchObject({
      code: 'unauthorized',
    });
    await expect(identity.operators.bootstrap({ id: 'erin' }, ADMIN_TOKEN, undefined)).rejects.toMatchObject({
      code: 'forbidden',
    });
    const first = await identity.operators.bootstrap({ id: 'erin', name: 'Erin' }, ADMIN_TOKEN, ADMIN_TOKEN);
    expect(first.token.startsWith(`${OPERATOR_TOKEN_PREFIX}_`)).toBe(true);
    await expect(identity.operators.bootstrap({ id: 'alice' }, ADMIN_TOKEN, ADMIN_TOKEN)).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect(await identity.authenticator.authenticate(`Bearer ${ADMIN_TOKEN}`)).toBeUndefined();
    expect(await identity.authenticator.authenticate(`Bearer ${first.token}`)).toEqual({
      kind: 'operator',
      id: 'erin',
    });
  });

  it('when an operator is created, then the token is shown once, stored only hashed, and authenticates as that person until revoked', async () => {
    const { identity } = await setup();
    const alice = await identity.operators.create({ id: 'alice' }, 'operator:erin');
    const stored = await sql<{ token_hash: string }>`SELECT token_hash FROM operator_tokens`.execute(current().db);
    expect(stored.rows).toHaveLength(1);
    expect(JSON.stringify(stored.rows)).not.toContain(alice.token);
    expect(JSON.stringify(await identity.operators.tokens('alice'))).not.toContain(alice.token);

    const second = await identity.operators.issueToken('alice', 'operator:alice', 'laptop');
    expect(await identity.authenticator.authenticate(`Bearer ${second.token}`)).toEqual({
      kind: 'operator',
      id: 'alice',
    });
    await identity.operators.revokeToken(alice.tokenId);
    expect(await identity.authenticator.authenticate(`Bearer ${alice.token}`)).toBeUndefined();
    expect(await identity.authenticator.authenticate(`Bearer ${second.token}`)).toEqual({
      kind: 'operator',
      id: 'alice',
    });
    await identity.operators.disable('alice');
    expect(await identity.authenticator.authenticate(`Bearer ${second.token}`)).toBeUndefined();

    await expect(identity.operators.create({ id: 'mallory' }, 'operator:erin')).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await expect(identity.operators.create({ id: 'alice' }, 'operator:erin')).rejects.toMatchObject({
      code: 'conflict',
    });
  });

  it('when an agent presents an access token, then it is an agent caller limited to the token scope, and its activity is noted', async () => {
    const { identity } = await setup();
    const { clientSecret } = await identity.credentials.rotate('support-bot', 'operator:erin');
    const res = await identity.tokens.tokenEndpoint({
      form: {
        grant_type: 'client_credentials',
        client_id: 'support-bot',
        client_secret: clientSecret,
        scope: 'customers.read',
      },
    });
    const caller = await identity.authenticator.authenticate(`Bearer ${String(res.body.access_token)}`);
    expect(caller).toEqual({
      kind: 'agent',
      agent: expect.objectContaining({
        id: 'support-bot',
        enabled: true,
        allowedActions: ['customers.read'],
      }) as unknown,
    });
    await expect.poll(async () => (await identity.registry.get('support-bot'))?.lastActiveAt).toBeDefined();
    await identity.registry.suspend('support-bot', 'operator:erin');
    await expect(identity.authenticator.authenticate(`Bearer ${String(res.body.access_token)}`)).rejects.toBeInstanceOf(
      TokenError,
    );
  });

  it('when static API keys are off (the default outside dev mode), then they prove nobody; when allowed, they do', async () => {
    const off = await setup(false);
    expect(await off.identity.authenticator.authenticate(`Bearer ${TEST_AGENT_KEY}`)).toBeUndefined();
    const on = await setup(true);
    expect(await on.identity.authenticator.authenticate(`Bearer ${TEST_AGENT_KEY}`)).toMatchObject({
      kind: 'agent',
      agent: { id: 'support-bot' },
    });
    expect(await on.identity.authenticator.authenticate(undefined)).toBeUndefined();
    expect(await on.identity.authenticator.authenticate('Basic abc')).toBeUndefined();
    expect(await on.identity.authenticator.authenticate('Bearer cs_op_unknown')).toBeUndefined();
  });

  it('when an agent is created through the identity service, then it gets one client secret that obtains a token', async () => {
    const { identity } = await setup();
    const { agent, secret } = await identity.createAgent(
      { id: 'ops-bot', owner: 'dana', allowedActions: ['customers.read'] },
      'operator:erin',
    );
    expect(agent.status).toBe('active');
    expect(secret.clientId).toBe('ops-bot');
    const res = await identity.tokens.tokenEndpoint({
      form: { grant_type: 'client_credentials', client_id: 'ops-bot', client_secret: secret.clientSecret },
    });
    expect(res).toMatchObject({ status: 200, body: { scope: 'customers.read' } });
    expect((await identity.registry.list()).map((a) => a.id)).toEqual(['ops-bot', 'other-bot', 'support-bot']);
  });
});
