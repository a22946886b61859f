// The leak test of issue 4 §8: canary secrets are planted where a real deployment keeps them (a vault secret a
// connector uses, an agent's client secret, operator tokens, the bootstrap token, access tokens, the Slack bot token),
// then requests run every way they can end: allowed, approved, rejected, refused downstream, erroring downstream, and
// refused by the API. A downstream that echoes its Authorization header back tries to smuggle the vault secret into
// the outcome. Then every log line, every workflow history, every Slack call and every API answer is searched for the
// canaries: zero hits.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackWorkerNotifier } from '../../slack/app';
import { parseConfig } from '../../src/config/load';
import type { CountersignConfig } from '../../src/config/schema';
import { createLogger } from '../../src/logger';
import { FAST_SLACK } from '../slack/slack-env';
import { openPayloads, readable } from '../support/history';
import { startHarness, type Harness } from '../support/harness';
import { startSlackApiStub, type SlackApiStub } from '../support/slack-api-stub';
import {
  ADMIN_TOKEN,
  call,
  eventually,
  operatorToken,
  startApi,
  type ActionRequestResource,
  type Api,
  type CallOptions,
  type CallResult,
} from './http-support';
import { registerAgent, submitAs, tokenRequest } from './identity-support';

const canary = (name: string) => `canary_${name}_${randomBytes(12).toString('hex')}`;
const VAULT_SECRET = canary('vault');
const SLACK_BOT_TOKEN = `xoxb-${canary('slack')}`;
const AGENT_KEY = canary('apikey');

/** A downstream that answers with the credential it was sent, as a careless internal API might. */
async function startEchoDownstream(): Promise<{ host: string; calls: string[]; close(): Promise<void> }> {
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const seen = req.headers.authorization ?? '';
      calls.push(`${req.method} ${req.url} ${seen}`);
      const status = req.url?.startsWith('/reject') ? 422 : req.url?.startsWith('/down') ? 503 : 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status, seen, note: `echoing ${seen}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function leakConfig(host: string): CountersignConfig {
  const keyHash = createHash('sha256').update(AGENT_KEY).digest('hex');
  return parseConfig(`
people:
  carol: { email: carol@example.com, slack: U0CAROL01 }
  alice: { email: alice@example.com, slack: U0ALICE01 }
  bob: { email: bob@example.com, slack: U0BOB0001 }
  erin: { email: erin@example.com, slack: U0ERIN001 }
agents:
  - { id: support-bot, owner: carol, allowedActions: [payments.refund, payments.void, payments.retry], apiKeySha256: ${keyHash} }
approvers:
  finance: { members: [alice, bob, carol], slackChannel: C0FINANCE1 }
connectors:
  billing:
    type: http
    allowedHosts: ['${host}']
    timeout: 2s
    maxAttempts: 2
    credential: { secret: billing-token }
actions:
  payments.refund:
    description: Refund a payment.
    risk: high
    connector: billing
    http: { method: POST, url: 'http://${host}/ok/{paymentId}' }
    params:
      type: object
      required: [paymentId, amount]
      properties: { paymentId: { type: string }, amount: { type: number } }
  payments.void:
    description: Void a payment (the downstream refuses).
    risk: medium
    connector: billing
    http: { method: POST, url: 'http://${host}/reject/{paymentId}' }
    params: { type: object, required: [paymentId], properties: { paymentId: { type: string } } }
  payments.retry:
    description: Retry a payment (the downstream is down).
    risk: medium
    connector: billing
    http: { method: POST, url: 'http://${host}/down/{paymentId}' }
    params: { type: object, required: [paymentId], properties: { paymentId: { type: string } } }
policies:
  rules:
    - { id: small, match: { actions: [payments.refund] }, when: params.amount <= 1000, effect: allow }
    - id: large
      match: { actions: [payments.refund] }
      when: params.amount > 1000
      effect: require_approval
      approvers: finance
      quorum: 2
    - { id: void-and-retry, match: { actions: [payments.void, payments.retry] }, effect: allow }
`);
}

describe('leak test: canary secrets never reach logs, histories, Slack or API answers', () => {
  let downstream: Awaited<ReturnType<typeof startEchoDownstream>>;
  let stub: SlackApiStub;
  let h: Harness;
  let api: Api;
  const slackLogLines: string[] = [];
  /** Every API answer, except the one that hands out the client secret by design. */
  const answers: string[] = [];
  const requestIds = new Set<string>();
  const canaries: Record<string, string> = {};

  const recorded = async <T>(result: Promise<CallResult<T>>): Promise<CallResult<T>> => {
    const r = await result;
    answers.push(r.text, JSON.stringify([...r.headers.entries()]));
    const id = (r.json as { id?: unknown } | undefined)?.id;
    if (typeof id === 'string' && id.startsWith('req_')) requestIds.add(id);
    return r;
  };
  const api$ = <T>(method: string, path: string, options: CallOptions = {}) =>
    recorded(call<T>(api, method, path, options));

  beforeAll(async () => {
    downstream = await startEchoDownstream();
    stub = await startSlackApiStub();
    const config = leakConfig(downstream.host);
    const slackLogger = createLogger(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          slackLogLines.push(chunk.toString());
          done();
        },
      }),
    );
    const notifier = createSlackWorkerNotifier({
      slack: { botToken: SLACK_BOT_TOKEN, apiUrl: stub.apiUrl },
      config,
      logger: slackLogger,
      namespace: 'default',
      tuning: FAST_SLACK,
    });
    h = await startHarness({ config, notifier, identity: { secrets: { 'billing-token': VAULT_SECRET } } });
    api = await startApi(h);
    Object.assign(canaries, {
      vault: VAULT_SECRET,
      slack: SLACK_BOT_TOKEN,
      apiKey: AGENT_KEY,
      admin: ADMIN_TOKEN,
      ...Object.fromEntries(Object.entries(h.identity?.operatorTokens ?? {}).map(([p, t]) => [`operator:${p}`, t])),
    });
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
    await stub?.close();
    await downstream?.close();
  });

  it('when requests end every way they can, then no canary is in any log line, history, Slack call or API answer', async () => {
    const alice = operatorToken(h, 'alice');
    const bob = operatorToken(h, 'bob');
    const erin = operatorToken(h, 'erin');

    // An agent with a client secret, and its access tokens.
    const client = await registerAgent(api, erin, {
      id: 'leak-bot',
      owner: 'carol',
      allowedActions: ['payments.refund', 'payments.void', 'payments.retry'],
    });
    canaries.clientSecret = client.clientSecret;
    // The token endpoint's answers hold the tokens they issue by design, so they are not recorded; the tokens are.
    const token = (await tokenRequest(api, client)).json.access_token as string;
    canaries.accessToken = token;
    canaries.formAccessToken = (await tokenRequest(api, client, { form: true })).json.access_token as string;

    // Allowed, with a JWT: the downstream echoes the vault credential back.
    const allowed = await recorded(submitAs(api, token, refund('leakallow', 50), '?wait=20'));
    expect(allowed.json.status).toBe('succeeded');
    // Approved by two operators with their personal tokens.
    const approved = await recorded(submitAs(api, token, refund('leakapprove', 5000)));
    expect(approved.json.status).toBe('pending_approval');
    await api$('POST', `/v1/action-requests/${approved.json.id}/decisions`, {
      token: alice,
      body: { decision: 'approve', reason: 'fine' },
    });
    await api$('POST', `/v1/action-requests/${approved.json.id}/decisions`, {
      token: bob,
      body: { decision: 'approve' },
    });
    // Rejected.
    const rejected = await recorded(submitAs(api, AGENT_KEY, refund('leakreject', 7000)));
    await api$('POST', `/v1/action-requests/${rejected.json.id}/decisions`, {
      token: bob,
      body: { decision: 'reject', reason: 'no' },
    });
    // Refused by the downstream (failed), and erroring until the connector gives up (failed after retries).
    const voided = await recorded(
      submitAs(api, token, { action: 'payments.void', params: { paymentId: 'pay_void' }, reason: 'void' }),
    );
    const retried = await recorded(
      submitAs(api, token, { action: 'payments.retry', params: { paymentId: 'pay_retry' }, reason: 'retry' }),
    );
    // Refused by the API: bad credentials of every kind, bad input, impersonation, a kill switch.
    await api$('POST', '/v1/action-requests', { token: `${client.clientSecret}`, body: refund('leakbad', 1) });
    await api$('POST', '/v1/action-requests', { token: `${token}x`, body: refund('leakbad', 1) });
    await api$('POST', '/v1/action-requests', { token, body: { action: 'payments.refund', params: {}, reason: 'x' } });
    await api$('POST', `/v1/action-requests/${rejected.json.id}/decisions`, {
      token: alice,
      body: { decision: 'approve', approver: 'bob' },
    });
    await api$('GET', '/v1/agents', { token: ADMIN_TOKEN });
    await recorded(tokenRequest(api, { clientId: 'leak-bot', clientSecret: `${client.clientSecret}-wrong` }));
    await api$('POST', '/v1/kill-switches', { token: erin, body: { agent: 'leak-bot', reason: 'leak drill' } });
    await recorded(submitAs(api, token, refund('leakkilled', 5)));
    await api$('DELETE', '/v1/kill-switches', { token: erin, body: { agent: 'leak-bot' } });
    await api$('GET', '/v1/agents/leak-bot', { token: erin });
    await api$('GET', '/v1/agents', { token: erin });
    // The rotation's answer holds the new secret by design (not recorded); the secret is a canary for all else.
    const rotated = await call<{ clientSecret: string }>(api, 'POST', '/v1/agents/leak-bot/credentials/rotate', {
      token: erin,
      body: { overlapSeconds: 3600 },
    });
    canaries.rotatedSecret = rotated.json.clientSecret;
    await recorded(
      tokenRequest(api, { clientId: 'leak-bot', clientSecret: rotated.json.clientSecret }, { scope: 'x' }),
    );
    await api$('GET', '/v1/kill-switches?history=true', { token: erin });
    await api$('GET', '/openapi.json');
    await api$('GET', '/metrics');

    const finals: Record<string, string> = {};
    for (const id of [allowed.json.id, approved.json.id, rejected.json.id, voided.json.id, retried.json.id]) {
      const final = await eventually(
        () => api$<ActionRequestResource>('GET', `/v1/action-requests/${id}?wait=10`, { token: erin }),
        (r) => ['succeeded', 'failed', 'rejected'].includes(r.json.status),
        30_000,
      );
      finals[id] = final.json.status;
    }
    expect(Object.values(finals)).toEqual(['succeeded', 'succeeded', 'rejected', 'failed', 'failed']);
    await api$('GET', '/v1/action-requests?limit=100', { token: erin });

    // The search can see what is there: the downstream got the vault credential and echoed it, the outcome kept a
    // redacted echo, histories hold parameters, logs hold request ids, Slack got the approval messages.
    expect(downstream.calls.some((c) => c.includes(`Bearer ${VAULT_SECRET}`))).toBe(true);
    const histories: string[] = [];
    // Read as an operator would through the codec: a secret must be absent from the decoded payloads, not just sealed.
    for (const id of requestIds) {
      histories.push(readable(await openPayloads(h, await h.client.workflow.getHandle(id).fetchHistory())));
    }
    const historyText = histories.join('\n');
    expect(historyText).toContain('pay_leakapprove');
    expect(historyText).toContain('[redacted]');
    const logText = [...h.logLines, ...slackLogLines].join('\n');
    expect(logText).toContain(approved.json.id);
    expect(stub.calls.length).toBeGreaterThan(0);
    const slackText = JSON.stringify(stub.calls);
    expect(slackText).toContain(approved.json.id);
    const answerText = answers.join('\n');
    expect(answerText).toContain('[redacted]');

    const hits: string[] = [];
    for (const [name, secret] of Object.entries(canaries)) {
      const forms = [secret, Buffer.from(secret).toString('base64')];
      for (const [where, text] of Object.entries({
        logs: logText,
        histories: historyText,
        slack: slackText,
        api: answerText,
      })) {
        if (forms.some((f) => text.includes(f))) hits.push(`${name} in ${where}`);
      }
    }
    expect(Object.keys(canaries)).toEqual(
      expect.arrayContaining(['vault', 'clientSecret', 'accessToken', 'operator:alice', 'admin', 'rotatedSecret']),
    );
    expect(hits).toEqual([]);
  });
});

function refund(tag: string, amount: number): Record<string, unknown> {
  return { action: 'payments.refund', params: { paymentId: `pay_${tag}`, amount }, reason: `refund ${tag}` };
}
