// Signed requests only: forged, unsigned, stale, future and replayed requests are refused with 401, logged, and
// change nothing; a correctly signed click within the tolerance goes through.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_IDS } from '../../slack/blocks/ids';
import type { StoredMessage } from '../support/slack-api-stub';
import { appHomeOpenedRequest, signedOnce, signSlackRequest, TEST_SIGNING_SECRET } from '../support/slack-signing';
import { SLACK, startSlackEnv, type SlackEnv } from './slack-env';

describe('Slack request guard', () => {
  let env: SlackEnv;
  let requestId: string;
  let message: StoredMessage;
  beforeAll(async () => {
    env = await startSlackEnv();
    ({ requestId } = await env.submit({
      action: 'payments.refund',
      params: { paymentId: 'pay_guard0001', amount: 2500, currency: 'USD' },
      reason: 'Duplicate charge.',
    }));
    const [first] = await env.waitForMessages(requestId, 2);
    if (!first) throw new Error('no message');
    message = first;
  });
  afterAll(async () => {
    await env?.close();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const refusals = (reason: string) =>
    env.logLines.filter((l) => l.includes('slack request refused') && l.includes(`"reason":"${reason}"`));

  async function expectNothingChanged() {
    // Give a wrongly accepted request time to reach the workflow before looking.
    await new Promise((r) => setTimeout(r, 300));
    const state = await env.state(requestId);
    expect(state.approvals).toHaveLength(0);
    expect(state.refused).toHaveLength(0);
    expect(state.status).toBe('pending_approval');
    expect(env.stub.callsOf('chat.postEphemeral')).toHaveLength(0);
  }

  it('when a click is signed with the wrong secret, then it is refused with 401, logged, and nothing changes', async () => {
    const res = await env.post(env.clickRequest(SLACK.alice, ACTION_IDS.approve, message), {
      headers: signSlackRequest(
        'not-the-signing-secret',
        env.clickRequest(SLACK.alice, ACTION_IDS.approve, message).body,
      ),
    });
    expect(res.status).toBe(401);
    const tampered = env.clickRequest(SLACK.alice, ACTION_IDS.approve, message);
    const headers = signSlackRequest(TEST_SIGNING_SECRET, tampered.body);
    expect(
      (await env.post({ ...tampered, body: tampered.body.replace('U0ALICE01', 'U0BOB0001') }, { headers })).status,
    ).toBe(401);
    expect(refusals('mis-signed').length).toBeGreaterThanOrEqual(2);
    await expectNothingChanged();
  });

  it('when a click carries no signature, then it is refused with 401', async () => {
    expect((await env.post(env.clickRequest(SLACK.alice, ACTION_IDS.approve, message), { headers: {} })).status).toBe(
      401,
    );
    expect(refusals('unsigned')).toHaveLength(1);
    await expectNothingChanged();
  });

  it('when a correctly signed click is stamped more than five minutes in the past or in the future, then it is refused', async () => {
    const click = env.clickRequest(SLACK.alice, ACTION_IDS.approve, message);
    expect((await env.post(click, { timestamp: now() - 301 })).status).toBe(401);
    expect((await env.post(click, { timestamp: now() + 301 })).status).toBe(401);
    expect(refusals('stale')).toHaveLength(1);
    expect(refusals('future')).toHaveLength(1);
    await expectNothingChanged();
  });

  it('when a signed event is replayed, then the copy is refused', async () => {
    const open = signedOnce(env.eventsUrl, appHomeOpenedRequest({ user: SLACK.bob }));
    expect((await open()).status).toBe(200);
    expect((await open()).status).toBe(401);
    expect(refusals('replayed')).toHaveLength(1);
    await expectNothingChanged();
  });

  it('when a click is signed within the tolerance, then it is accepted and counts', async () => {
    const res = await env.post(env.clickRequest(SLACK.alice, ACTION_IDS.approve, message), { timestamp: now() - 200 });
    expect(res.status).toBe(200);
    const state = await env.waitForState(requestId, (s) => s.approvals.length === 1);
    expect(state.approvals[0]?.approver).toBe('alice');
  });
});
