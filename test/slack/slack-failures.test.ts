// When Slack misbehaves: 429s are waited out, a Slack that is down for the whole wait loses nothing (the request is
// decided through the API and runs once), a hanging Slack fails fast, and a burst to one channel is paced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackWorkerNotifier } from '../../slack/app';
import type { ActionRequestState } from '../../src/contracts/types';
import { createLogger } from '../../src/logger';
import { testConfig } from '../support/config';
import { startSlackApiStub, type SlackApiStub } from '../support/slack-api-stub';
import { ACTION_IDS, REJECT_REASON, VIEW_IDS } from '../../slack/blocks/ids';
import type { StoredMessage } from '../support/slack-api-stub';
import { viewSubmissionRequest } from '../support/slack-signing';
import { buttonValue, FAST_SLACK, hasDecisionButtons, SLACK, startSlackEnv, type SlackEnv } from './slack-env';

describe('Slack failures (end to end)', () => {
  let env: SlackEnv;
  beforeAll(async () => {
    env = await startSlackEnv();
  });
  afterAll(async () => {
    env?.stub.up();
    await env?.close();
  });

  it('when Slack answers 429 with Retry-After, then the client waits it out and each approver gets exactly one message', async () => {
    env.stub.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const started = Date.now();
    const { requestId } = await env.submit({
      action: 'payments.refund',
      params: { paymentId: 'pay_rate0001', amount: 2500, currency: 'USD' },
      reason: 'Duplicate charge.',
    });
    const messages = await env.waitForMessages(requestId, 2);
    expect(messages.map((m) => m.channel).sort()).toEqual(['D0ALICE01', 'D0BOB0001']);
    const posts = env.stub.callsOf('chat.postMessage').filter((c) => c.at >= started);
    expect(posts.filter((c) => c.status === 429)).toHaveLength(1);
    expect(posts.filter((c) => c.status === 200)).toHaveLength(2);
    const limited = posts.find((c) => c.status === 429);
    const retry = posts.find((c) => c.status === 200 && c.args.channel === limited?.args.channel);
    expect((retry?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it('when Slack is down for the whole wait, then the request stays decidable through the API and executes once', async () => {
    env.stub.down({ status: 500 });
    const { requestId } = await env.submit({
      action: 'email.send_external',
      params: { to: 'customer@example.org', subject: 'Refund issued' },
      reason: 'Confirm the refund to the customer.',
    });
    await env.stub.waitFor(
      () => env.stub.calls.filter((c) => c.status === 500).length >= 3,
      10_000,
      'failed Slack calls',
    );
    expect((await env.state(requestId)).status).toBe('pending_approval');

    const decided = await env.h.service.decide(requestId, { decision: 'approve', approver: 'dana' });
    expect(decided.approvals[0]).toMatchObject({ approver: 'dana', channel: 'api' });
    await env.waitForState(requestId, (s) => s.status === 'succeeded');
    expect(env.target.callsFor(requestId)).toHaveLength(1);

    env.stub.up();
    // Whatever notification attempt was still running when Slack came back must not post live buttons.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(env.messagesOf(requestId).filter(hasDecisionButtons)).toHaveLength(0);
  });

  it('when no worker is up, then a rejection is still delivered (durably) while an approval is reported unconfirmed', async () => {
    const { requestId } = await env.submit({
      action: 'payments.refund',
      params: { paymentId: 'pay_noworker1', amount: 2500, currency: 'USD' },
      reason: 'Duplicate charge.',
    });
    const [message] = await env.waitForMessages(requestId, 1);
    if (!message) throw new Error('no message');
    await env.h.stopWorkers();
    try {
      // The clicker is identified from the start memo (no worker needed) and the update is sent; with no worker to
      // answer it within its deadline, the approver is told it is unconfirmed and to read the request before retrying.
      await env.click(SLACK.alice, ACTION_IDS.approve, message);
      await env.stub.waitFor(
        () => ephemeralTo(SLACK.alice, 'could not confirm your decision'),
        30_000,
        'approval unconfirmed while no worker answers',
      );
      await env.post(
        viewSubmissionRequest({
          user: SLACK.bob,
          callbackId: VIEW_IDS.rejectModal,
          privateMetadata: JSON.stringify({ r: requestId, h: hashOf(message), c: message.channel, t: message.ts }),
          values: {
            [REJECT_REASON.blockId]: {
              [REJECT_REASON.actionId]: { type: 'plain_text_input', value: 'Not while billing is frozen.' },
            },
          },
        }),
      );
      // Room for the update's own deadline, the poller check and the queued signal on a loaded machine.
      await env.stub.waitFor(() => ephemeralTo(SLACK.bob, 'queued'), 30_000, 'rejection queued');
    } finally {
      await env.h.startWorkers();
    }
    const rejected = await env.waitForState(requestId, (s) => s.status === 'rejected');
    expect(rejected.rejections[0]).toMatchObject({ approver: 'bob', reason: 'Not while billing is frozen.' });
    // An update the server still held when the worker came back may land before the rejection (one approval of the
    // two needed) or after it (refused): either way it is alice's, and nothing ran.
    expect(rejected.approvals.every((a) => a.approver === 'alice')).toBe(true);
    expect(rejected.approvals.length).toBeLessThanOrEqual(1);
    expect(env.target.callsFor(requestId)).toHaveLength(0);
  });

  function ephemeralTo(user: string, fragment: string) {
    return env.stub
      .callsOf('chat.postEphemeral')
      .find((c) => c.args.user === user && String(c.args.text).includes(fragment));
  }
});

function hashOf(message: StoredMessage): string {
  const value = JSON.parse(buttonValue(message, ACTION_IDS.approve)) as { h: string };
  return value.h;
}

describe('Slack notifier under load and outage', () => {
  let stub: SlackApiStub;
  const config = testConfig({ targetHost: '127.0.0.1:9' });
  const finance = config.approvers.finance;
  if (finance) finance.slackChannel = 'C0BURST001';
  const logger = createLogger({ level: 'silent' });
  beforeAll(async () => {
    stub = await startSlackApiStub();
  });
  afterAll(async () => {
    stub?.up();
    await stub?.close();
  });

  const notifier = (tuning: typeof FAST_SLACK) =>
    createSlackWorkerNotifier({
      slack: { botToken: 'xoxb-test', apiUrl: stub.apiUrl },
      config,
      logger,
      namespace: 'default',
      tuning,
    });

  it('when 200 requests go to one channel at once, then every message lands and the pacing avoids a storm of 429s', async () => {
    // Slack's limit is about one a second; scaled down here to 30 a second, with the pacer at 20 a second.
    stub.rateLimitPerChannel({ max: 30, windowMs: 1_000, retryAfter: 1 });
    const slack = notifier({ ...FAST_SLACK, perChannelIntervalMs: 50 });
    const started = Date.now();
    const refs = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        slack.notifyApprovers({
          kind: 'requested',
          state: pendingState(`req_burst_${i}`),
          params: { amount: i },
          refs: [],
        }),
      ),
    );
    expect(refs.flat()).toHaveLength(200);
    const posts = stub.callsOf('chat.postMessage').filter((c) => c.at >= started);
    expect(posts.filter((c) => c.status === 200)).toHaveLength(200);
    expect(new Set(refs.flat().map((r) => r.ts)).size).toBe(200);
    expect(posts.filter((c) => c.status === 429).length).toBeLessThanOrEqual(2);
  }, 180_000);

  it('when the same burst is not paced, then the stand-in does answer 429 (the pacing test above is meaningful)', async () => {
    stub.rateLimitPerChannel({ max: 30, windowMs: 1_000, retryAfter: 0 });
    const slack = notifier({ ...FAST_SLACK, perChannelIntervalMs: 0 });
    const started = Date.now();
    await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        slack.notifyApprovers({ kind: 'requested', state: pendingState(`req_unpaced_${i}`), params: {}, refs: [] }),
      ),
    );
    expect(stub.callsOf('chat.postMessage').filter((c) => c.at >= started && c.status === 429).length).toBeGreaterThan(
      0,
    );
  });

  it('when Slack hangs, then the notification fails within the client timeout instead of blocking', async () => {
    stub.rateLimitPerChannel(undefined);
    stub.down('hang');
    const slack = notifier({
      ...FAST_SLACK,
      timeoutMs: 300,
      retryConfig: { retries: 1, minTimeout: 50, maxTimeout: 50 },
    });
    const started = Date.now();
    await expect(
      slack.notifyApprovers({ kind: 'requested', state: pendingState('req_hang_1'), params: {}, refs: [] }),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
    stub.up();
  });
});

function pendingState(requestId: string): ActionRequestState {
  const now = new Date().toISOString();
  return {
    requestId,
    status: 'pending_approval',
    agent: { id: 'support-bot', owner: 'carol' },
    action: 'payments.refund',
    risk: 'high',
    paramsHash: `sha256:${'a'.repeat(64)}`,
    reason: 'Burst test.',
    submittedAt: now,
    decision: {
      effect: 'require_approval',
      evaluatedEffect: 'require_approval',
      mode: 'enforce',
      rules: ['large-refunds'],
      policyVersion: 'p-test',
      approvals: [
        {
          ruleId: 'large-refunds',
          group: 'finance',
          quorum: 2,
          members: ['alice', 'bob', 'carol'],
          escalationMembers: [],
          expireAfterMs: 3_600_000,
        },
      ],
    },
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    eligibleApprovers: ['alice', 'bob'],
    requirements: [
      { ruleId: 'large-refunds', group: 'finance', quorum: 2, approvedBy: [], satisfied: false, escalated: false },
    ],
    approvals: [],
    rejections: [],
    refused: [],
    timeline: [{ at: now, event: 'submitted' }],
  };
}
