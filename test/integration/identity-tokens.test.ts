// Agent identity over HTTP, end to end: an operator registers an agent, the agent exchanges its client credentials for
// an access token and gets an action executed (with a receipt the downstream can verify against the published keys);
// suspension and decommissioning stop it at submit and at execution time; agents never see each other's requests;
// decisions are the operator token owner's; rate limits answer 429 at the boundary.
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECEIPT_HEADER, createReceiptVerifier, receiptParamsHash } from '../../src/receipts';
import { OTHER_AGENT_KEY, TEST_AGENT_KEY, testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import {
  ADMIN_TOKEN,
  call,
  eventually,
  operatorToken,
  startApi,
  type ActionRequestResource,
  type Api,
  type Problem,
} from './http-support';
import {
  accessToken,
  databasesUnderTest,
  largeRefund,
  registerAgent,
  smallRefund,
  submitAs,
  tokenRequest,
} from './identity-support';

const BILLING_TOKEN = 'tok_identity_tokens_secret_4b1d';

describe.each(await databasesUnderTest())('agent identity over HTTP [%s]', (dialect) => {
  let target: TargetServer;
  let h: Harness;
  let api: Api;
  let erin: string;

  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = BILLING_TOKEN;
    target = await startTargetServer();
    h = await startHarness({ config: testConfig({ targetHost: target.host }), identity: { dialect } });
    api = await startApi(h);
    erin = operatorToken(h, 'erin');
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
    await target?.close();
  });

  const read = (token: string, id: string, wait = 0) =>
    call<ActionRequestResource>(api, 'GET', `/v1/action-requests/${id}${wait ? `?wait=${wait}` : ''}`, { token });
  const decide = (person: string, id: string, decision: 'approve' | 'reject', body: Record<string, unknown> = {}) =>
    call<ActionRequestResource>(api, 'POST', `/v1/action-requests/${id}/decisions`, {
      token: operatorToken(h, person),
      body: { decision, ...body },
    });

  it('when an agent registered over the API exchanges its client credentials, then its token gets a refund executed with a verifiable receipt', async () => {
    const client = await registerAgent(api, erin, {
      id: 'refund-bot',
      owner: 'carol',
      allowedActions: ['payments.refund', 'customers.read'],
    });
    expect(client.clientId).toBe('refund-bot');
    expect(client.clientSecret).toMatch(/^cs_secret_/);

    const issued = await tokenRequest(api, client);
    expect(issued.status).toBe(200);
    expect(issued.headers.get('cache-control')).toBe('no-store');
    expect(issued.json).toMatchObject({ token_type: 'Bearer', scope: 'payments.refund customers.read' });
    expect(issued.json.expires_in).toBeLessThanOrEqual(15 * 60);
    const token = issued.json.access_token as string;

    // The token verifies against the published keys and says who it is for.
    const jwks = await call<JSONWebKeySet>(api, 'GET', '/.well-known/jwks.json');
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks.json), {
      audience: 'countersign-test',
      issuer: 'countersign-test',
    });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    expect(jwks.json.keys.map((k) => k.kid)).toContain(protectedHeader.kid);
    expect(payload).toMatchObject({ sub: 'refund-bot', scope: 'payments.refund customers.read' });
    expect(typeof payload.jti).toBe('string');

    const res = await submitAs(api, token, smallRefund('tokenflow01'), '?wait=20');
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ status: 'succeeded', agent: 'refund-bot' });
    const calls = target.callsFor(res.json.id);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.headers.authorization).toBe(`Bearer ${BILLING_TOKEN}`);

    // The downstream checks the receipt with the keys the API publishes.
    const receiptKeys = await call<JSONWebKeySet>(api, 'GET', '/.well-known/receipt-jwks.json');
    const verify = createReceiptVerifier({ jwks: receiptKeys.json });
    const body = JSON.parse(calls[0]!.body) as Record<string, unknown>;
    const verdict = await verify(calls[0]!.headers[RECEIPT_HEADER.toLowerCase()] as string, {
      action: 'payments.refund',
      requestId: res.json.id,
      paramsHash: receiptParamsHash({ paymentId: 'pay_tokenflow01', ...body }),
      audience: target.url,
    });
    expect(verdict).toMatchObject({ valid: true, receipt: { sub: 'refund-bot', approvers: [] } });

    // The inventory shows the agent as active, with its last activity.
    const shown = await call<{ agent: { status: string; lastActiveAt?: string }; credentials: unknown[] }>(
      api,
      'GET',
      '/v1/agents/refund-bot',
      { token: erin },
    );
    expect(shown.json.agent.status).toBe('active');
    expect(shown.json.credentials).toHaveLength(1);
    expect(shown.text).not.toContain(client.clientSecret);
    const listed = await eventually(
      () => call<{ items: { id: string; lastActiveAt?: string }[] }>(api, 'GET', '/v1/agents', { token: erin }),
      (r) => r.json.items.some((a) => a.id === 'refund-bot' && a.lastActiveAt !== undefined),
    );
    expect(listed.json.items.map((a) => a.id)).toEqual(expect.arrayContaining(['refund-bot', 'support-bot']));
  });

  it('when the token endpoint gets a wrong secret, another grant or a JSON body, then it answers the OAuth2 errors', async () => {
    const client = await registerAgent(api, erin, {
      id: 'oauth-bot',
      owner: 'carol',
      allowedActions: ['customers.read'],
    });

    const wrong = await tokenRequest(api, { clientId: 'oauth-bot', clientSecret: `${client.clientSecret}x` });
    const unknown = await tokenRequest(api, { clientId: 'nobody', clientSecret: client.clientSecret }, { form: true });
    const grant = await tokenRequest(api, client, { grantType: 'password' });
    const scope = await tokenRequest(api, client, { scope: 'payments.refund' });
    const json = await call<Record<string, unknown>>(api, 'POST', '/oauth/token', {
      body: { grant_type: 'client_credentials', client_id: 'oauth-bot', client_secret: client.clientSecret },
    });
    const viaForm = await tokenRequest(api, client, { form: true });

    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({ error: 'invalid_client' });
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(unknown.json).toMatchObject({ error: 'invalid_client' });
    expect(grant).toMatchObject({ status: 400, json: { error: 'unsupported_grant_type' } });
    expect(scope).toMatchObject({ status: 400, json: { error: 'invalid_scope' } });
    expect(json).toMatchObject({ status: 400, json: { error: 'invalid_request' } });
    expect(viaForm.status).toBe(200);
    for (const answer of [wrong, unknown, grant, scope, json]) expect(answer.text).not.toContain(client.clientSecret);
  });

  it('when a token is narrowed to a scope, then an action outside it is refused with 403', async () => {
    const client = await registerAgent(api, erin, {
      id: 'scoped-bot',
      owner: 'carol',
      allowedActions: ['payments.refund', 'customers.read'],
    });
    const token = await accessToken(api, client, 'customers.read');

    const outside = await submitAs(api, token, smallRefund('scoped01'));
    const inside = await submitAs(
      api,
      token,
      { action: 'customers.read', params: { customerId: 'cus_scoped' }, reason: 'lookup' },
      '?wait=20',
    );

    expect(outside.status).toBe(403);
    expect((outside.json as unknown as Problem).errors.map((e) => e.path)).toEqual(['action']);
    expect(inside.json.status).toBe('succeeded');
  });

  it('when tokens are forged, tampered or for another audience, then each is refused with 401 naming Authorization', async () => {
    const client = await registerAgent(api, erin, {
      id: 'forge-bot',
      owner: 'carol',
      allowedActions: ['customers.read'],
    });
    const token = await accessToken(api, client);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = decodeJwt(token);
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'support-bot' })).toString('base64url')}.${signature}`;
    const unsigned = `${header}.${payload}.${Buffer.from('not a signature').toString('base64url')}`;

    for (const bad of [tampered, unsigned]) {
      const res = await submitAs(api, bad, { action: 'customers.read', params: { customerId: 'cus_1' }, reason: 'x' });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
      expect((res.json as unknown as Problem).errors[0]?.path).toBe('Authorization');
    }
  });

  it('when an agent is suspended, then its token is refused at submit and its approved request is blocked at execution', async () => {
    const client = await registerAgent(api, erin, {
      id: 'suspend-bot',
      owner: 'carol',
      allowedActions: ['payments.refund'],
    });
    const token = await accessToken(api, client);
    const parked = await submitAs(api, token, largeRefund('suspend01'));
    expect(parked.json.status).toBe('pending_approval');

    const suspended = await call<{ status: string }>(api, 'POST', '/v1/agents/suspend-bot/suspend', {
      token: erin,
      body: { reason: 'investigating a loop' },
    });
    expect(suspended.json.status).toBe('suspended');

    const refused = await submitAs(api, token, smallRefund('suspend02'));
    expect(refused.status).toBe(401);
    expect((refused.json as unknown as Problem).detail).toContain('not active');
    const noToken = await tokenRequest(api, client);
    expect(noToken.status).toBe(401);

    // The approvals still arrive; the re-check just before execution refuses.
    await decide('alice', parked.json.id, 'approve');
    await decide('bob', parked.json.id, 'approve');
    const final = await eventually(
      () => read(erin, parked.json.id, 10),
      (r) => r.json.status === 'failed',
    );
    expect(final.json.outcome?.summary).toContain('not active');
    expect(final.json.timeline.map((t) => t.event)).toContain('execution_blocked');
    expect(target.callsFor(parked.json.id)).toHaveLength(0);

    // Resumed, the agent acts again with a new token.
    await call(api, 'POST', '/v1/agents/suspend-bot/resume', { token: erin });
    const again = await submitAs(api, await accessToken(api, client), smallRefund('suspend03'), '?wait=20');
    expect(again.json.status).toBe('succeeded');

    const detail = await call<{ changes: { change: string; actor: string }[] }>(api, 'GET', '/v1/agents/suspend-bot', {
      token: erin,
    });
    expect(detail.json.changes.map((c) => `${c.change} by ${c.actor}`)).toEqual(
      expect.arrayContaining(['suspended by operator:erin', 'resumed by operator:erin']),
    );
  });

  it('when an agent is decommissioned, then its tokens and secrets stop working at once and it cannot come back', async () => {
    const client = await registerAgent(api, erin, {
      id: 'retired-bot',
      owner: 'carol',
      allowedActions: ['customers.read'],
    });
    const token = await accessToken(api, client);

    const gone = await call<{ status: string }>(api, 'POST', '/v1/agents/retired-bot/decommission', {
      token: erin,
      body: { reason: 'replaced' },
    });
    expect(gone.json.status).toBe('decommissioned');

    const submit = await submitAs(api, token, {
      action: 'customers.read',
      params: { customerId: 'cus_1' },
      reason: 'x',
    });
    expect(submit.status).toBe(401);
    expect((await tokenRequest(api, client)).status).toBe(401);
    const resume = await call<Problem>(api, 'POST', '/v1/agents/retired-bot/resume', { token: erin });
    expect(resume.status).toBe(409);
    const detail = await call<{ credentials: { active: boolean; revokedAt?: string }[] }>(
      api,
      'GET',
      '/v1/agents/retired-bot',
      { token: erin },
    );
    expect(detail.json.credentials.every((c) => !c.active && c.revokedAt)).toBe(true);
  });

  it('when credentials are rotated without overlap, then the old secret is refused and the new one works', async () => {
    const client = await registerAgent(api, erin, {
      id: 'rotate-bot',
      owner: 'carol',
      allowedActions: ['customers.read'],
    });
    const rotated = await call<{ clientSecret: string; previousValidUntil?: string }>(
      api,
      'POST',
      '/v1/agents/rotate-bot/credentials/rotate',
      { token: erin, body: { overlapSeconds: 0 } },
    );
    expect(rotated.status).toBe(201);
    expect(rotated.json.clientSecret).not.toBe(client.clientSecret);

    expect((await tokenRequest(api, client)).status).toBe(401);
    expect((await tokenRequest(api, { clientId: 'rotate-bot', clientSecret: rotated.json.clientSecret })).status).toBe(
      200,
    );
  });

  it("when an agent asks for another agent's request, then 404 as for one that does not exist", async () => {
    const mine = await submitAs(api, TEST_AGENT_KEY, largeRefund('mine0001'));
    const client = await registerAgent(api, erin, {
      id: 'nosy-bot',
      owner: 'dana',
      allowedActions: ['customers.read'],
    });
    const nosy = await accessToken(api, client);

    for (const token of [nosy, OTHER_AGENT_KEY]) {
      const peek = await read(token, mine.json.id);
      const cancel = await call<Problem>(api, 'POST', `/v1/action-requests/${mine.json.id}/cancel`, { token });
      expect(peek.status).toBe(404);
      expect(cancel.status).toBe(404);
      expect(peek.json).toMatchObject({ code: 'not_found', detail: 'no such request' });
    }
    expect((await read(TEST_AGENT_KEY, mine.json.id)).json.status).toBe('pending_approval');
    await call(api, 'POST', `/v1/action-requests/${mine.json.id}/cancel`, { token: TEST_AGENT_KEY });
  });

  it("when an operator decides, then it is recorded as the token's owner and naming someone else is refused", async () => {
    const parked = await submitAs(api, TEST_AGENT_KEY, largeRefund('attrib01'));

    const impersonation = await decide('alice', parked.json.id, 'approve', { approver: 'bob' });
    expect(impersonation.status).toBe(403);
    expect((impersonation.json as unknown as Problem).errors).toEqual([
      { path: 'approver', message: 'must be alice or omitted' },
    ]);
    const byAlice = await decide('alice', parked.json.id, 'approve', { reason: 'checked' });
    expect(byAlice.status).toBe(200);
    expect(byAlice.json.decision.approvals[0]?.approvedBy).toEqual(['alice']);
    // The owner's token carries the owner's name, and the workflow refuses the owner.
    const byOwner = await decide('carol', parked.json.id, 'approve');
    expect(byOwner.status).toBe(409);
    const byBob = await decide('bob', parked.json.id, 'approve', { approver: 'bob' });
    expect(byBob.json.decision.approvals[0]?.approvedBy).toEqual(['alice', 'bob']);
    expect((await read(TEST_AGENT_KEY, parked.json.id, 20)).json.status).toBe('succeeded');
  });

  it('when agents or the bootstrap token use operator routes once operators exist, then they are refused', async () => {
    const agentList = await call<Problem>(api, 'GET', '/v1/agents', { token: TEST_AGENT_KEY });
    const adminList = await call<Problem>(api, 'GET', '/v1/agents', { token: ADMIN_TOKEN });
    const bootstrap = await call<Problem>(api, 'POST', '/v1/operators', { token: ADMIN_TOKEN, body: { id: 'dana' } });
    const agentKill = await call<Problem>(api, 'POST', '/v1/kill-switches', {
      token: TEST_AGENT_KEY,
      body: { all: true, reason: 'agents may not' },
    });

    expect(agentList.status).toBe(403);
    expect(adminList.status).toBe(401);
    expect(bootstrap.status).toBe(403);
    expect(bootstrap.json.detail).toContain('bootstraps only the first');
    expect(agentKill.status).toBe(403);
  });

  it('when an agent goes over its rate, then the request past the limit gets 429 with Retry-After and starts nothing', async () => {
    const client = await registerAgent(api, erin, {
      id: 'busy-bot',
      owner: 'carol',
      allowedActions: ['customers.read'],
      rateLimit: '3/m',
    });
    const token = await accessToken(api, client);
    const read1 = { action: 'customers.read', params: { customerId: 'cus_busy' }, reason: 'lookup' };

    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await submitAs(api, token, read1)).status);
    const over = await submitAs(api, token, read1);

    expect(statuses).toEqual([201, 201, 201]);
    expect(over.status).toBe(429);
    expect(over.headers.get('content-type')).toContain('application/problem+json');
    const retryAfter = Number(over.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect((over.json as unknown as Problem).code).toBe('rate_limited');
    // Visibility lags a little behind the starts; the count settles at exactly the three accepted ones.
    const count = await eventually(
      () => h.client.workflow.count(`CsAgent = 'busy-bot' AND TaskQueue = '${h.taskQueues.control}'`),
      (c) => c.count >= 3,
    );
    expect(count.count).toBe(3);
  });
});
