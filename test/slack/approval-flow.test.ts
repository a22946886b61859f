// End to end through real Bolt and the real Temporal server: approval messages, clicks, the reject modal, races,
// user groups, App Home and the slash command. Slack itself is the local stand-in; the target is the loopback server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_IDS, REJECT_REASON, VIEW_IDS } from '../../slack/blocks/ids';
import {
  appHomeOpenedRequest,
  blockActionsRequest,
  signedOnce,
  slashCommandRequest,
  TEST_SIGNING_SECRET,
  viewSubmissionRequest,
} from '../support/slack-signing';
import {
  blockText,
  buttonValue,
  hasDecisionButtons,
  SLACK,
  startSlackEnv,
  TEST_BILLING_TOKEN,
  type SlackEnv,
} from './slack-env';

const FINANCE_CHANNEL = 'C0FINANCE1';
const FIN_USERGROUP = 'S0FINOPS1';
const ZED = 'U0ZED0001';
const SECRET_API_KEY = 'sk_live_TOPSECRET_4242';

describe('Slack approvals (end to end)', () => {
  let env: SlackEnv;
  beforeAll(async () => {
    env = await startSlackEnv({
      configure(config) {
        const finance = config.approvers.finance;
        if (!finance) throw new Error('finance group missing');
        finance.slackChannel = FINANCE_CHANNEL;
        finance.slackUsergroup = FIN_USERGROUP;
        const email = config.actions['email.send_external'];
        if (!email) throw new Error('email action missing');
        (email.params.properties as Record<string, unknown>).apiKey = { type: 'string', writeOnly: true };
      },
    });
    env.stub.usergroups.set(FIN_USERGROUP, [ZED]);
  });
  afterAll(async () => {
    if (process.env.DUMP_SLACK_LOGS)
      (await import('node:fs')).writeFileSync(
        process.env.DUMP_SLACK_LOGS,
        env.logLines.join('') + env.h.logLines.join(''),
      );
    await env?.close();
  });

  const refund = (amount = 2500, reason = 'Customer was charged twice for order 1042.') =>
    env.submit({ action: 'payments.refund', params: { paymentId: 'pay_abcd1234', amount, currency: 'USD' }, reason });

  const latest = (channel: string, ts: string) => {
    const m = env.stub.message(channel, ts);
    if (!m) throw new Error('message vanished');
    return m;
  };

  const ephemeralsTo = (user: string) => env.stub.callsOf('chat.postEphemeral').filter((c) => c.args.user === user);

  it('when a refund needs two approvers, then the message tracks the quorum, refuses the requester and shows the outcome after one execution', async () => {
    const { requestId, paramsHash } = await refund();
    const [message] = await env.waitForMessages(requestId, 1);
    if (!message) throw new Error('no message');
    expect(message.channel).toBe(FINANCE_CHANNEL);
    expect(String(message.args.unfurl_links)).toBe('false');
    expect(String(message.args.unfurl_media)).toBe('false');
    expect(message.text).toContain('payments.refund');
    const text = blockText(message);
    expect(text).toContain('Approval needed: payments.refund');
    expect(text).toContain('2,500 USD');
    expect(text).toContain('0 of 2 finance');
    expect(text).toContain(`Request \`${requestId}\``);
    expect(text).toContain(paramsHash.slice(0, 19));
    expect(text.indexOf('*Parameters*')).toBeLessThan(text.indexOf("*The agent's reason*"));
    const actions = message.blocks.find((b) => b.type === 'actions') as { elements: Record<string, unknown>[] };
    const approve = actions.elements.find((e) => e.action_id === ACTION_IDS.approve);
    const reject = actions.elements.find((e) => e.action_id === ACTION_IDS.reject);
    const link = actions.elements.find((e) => e.action_id === ACTION_IDS.openInTemporal);
    expect(approve).toMatchObject({ style: 'primary', confirm: { confirm: { text: 'Approve' } } });
    expect(reject).toMatchObject({ style: 'danger' });
    expect(link?.url).toBe(`http://localhost:8233/namespaces/default/workflows/${requestId}`);

    expect((await env.click(SLACK.alice, ACTION_IDS.approve, message)).status).toBe(200);
    await env.stub.waitFor(
      () => blockText(latest(message.channel, message.ts)).includes(`1 of 2 finance: <@${SLACK.alice}>`),
      15_000,
      '1 of 2',
    );
    await env.stub.waitFor(
      () => ephemeralsTo(SLACK.alice).some((c) => String(c.args.text).includes('is recorded')),
      10_000,
      'alice confirmation',
    );

    expect((await env.click(SLACK.carol, ACTION_IDS.approve, message)).status).toBe(200);
    await env.stub.waitFor(
      () => ephemeralsTo(SLACK.carol).some((c) => String(c.args.text).includes('your own agent')),
      10_000,
      'carol refusal',
    );
    const afterCarol = await env.waitForState(requestId, (s) => s.refused.length === 1);
    expect(afterCarol.refused[0]).toMatchObject({ approver: 'carol', refusal: 'self_approval', channel: 'slack' });
    expect(afterCarol.status).toBe('pending_approval');

    await env.click(SLACK.bob, ACTION_IDS.approve, message);
    const final = await env.waitForState(requestId, (s) => s.status === 'succeeded');
    expect(env.target.callsFor(requestId)).toHaveLength(1);
    expect(final.approvals.map((a) => a.approver)).toEqual(['alice', 'bob']);
    expect(final.approvals[0]?.context).toMatchObject({
      slackUser: SLACK.alice,
      slackTeam: 'T0TEST',
      messageTs: message.ts,
    });
    const done = await env.stub.waitFor(
      () => {
        const m = latest(message.channel, message.ts);
        return blockText(m).includes('*Executed:*') ? m : undefined;
      },
      15_000,
      'outcome in message',
    );
    expect(hasDecisionButtons(done)).toBe(false);
    expect(blockText(done)).toContain(`<@${SLACK.alice}>, <@${SLACK.bob}>`);
  });

  it('when an approver rejects through the modal, then a reason is required and every copy shows the rejection', async () => {
    const { requestId } = await env.submit({
      action: 'email.send_external',
      params: { to: 'customer@example.org', subject: 'Your refund' },
      reason: 'Tell the customer the refund is on its way.',
    });
    const messages = await env.waitForMessages(requestId, 2);
    expect(messages.map((m) => m.channel).sort()).toEqual(['D0ALICE01', 'D0DANA001']);
    const danaMessage = messages.find((m) => m.channel === 'D0DANA001');
    if (!danaMessage) throw new Error('no DM to dana');

    await env.click(SLACK.dana, ACTION_IDS.reject, danaMessage);
    const open = await env.stub.waitFor(
      () => env.stub.callsOf('views.open').find((c) => JSON.stringify(c.args).includes(requestId)),
      10_000,
      'views.open',
    );
    const view = open.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe(VIEW_IDS.rejectModal);
    expect(open.args.trigger_id).toBeTruthy();

    const submit = (value: string | null) =>
      env.post(
        viewSubmissionRequest({
          user: SLACK.dana,
          callbackId: VIEW_IDS.rejectModal,
          privateMetadata: view.private_metadata,
          values: { [REJECT_REASON.blockId]: { [REJECT_REASON.actionId]: { type: 'plain_text_input', value } } },
        }),
      );
    const empty = await submit('  ');
    expect(empty.status).toBe(200);
    expect(JSON.parse(empty.text)).toMatchObject({ response_action: 'errors' });
    expect((await env.state(requestId)).status).toBe('pending_approval');

    expect((await submit('Wrong recipient: this customer asked for no e-mail.')).status).toBe(200);
    const rejected = await env.waitForState(requestId, (s) => s.status === 'rejected');
    expect(rejected.rejections[0]).toMatchObject({
      approver: 'dana',
      reason: 'Wrong recipient: this customer asked for no e-mail.',
    });
    for (const m of messages) {
      const edited = await env.stub.waitFor(
        () => {
          const now = latest(m.channel, m.ts);
          return blockText(now).includes('*Rejected*') ? now : undefined;
        },
        15_000,
        'rejection in message',
      );
      expect(blockText(edited)).toContain('Wrong recipient');
      expect(hasDecisionButtons(edited)).toBe(false);
    }
    expect(env.target.callsFor(requestId)).toHaveLength(0);
  });

  it('when an approver double-clicks and a signed click is replayed, then exactly one decision counts and the replay changes nothing', async () => {
    const { requestId } = await refund(3000);
    const [message] = await env.waitForMessages(requestId, 1);
    if (!message) throw new Error('no message');
    const firstClick = signedOnce(env.eventsUrl, env.clickRequest(SLACK.alice, ACTION_IDS.approve, message));
    const [a, b] = await Promise.all([firstClick(), env.click(SLACK.alice, ACTION_IDS.approve, message)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const state = await env.waitForState(requestId, (s) => s.approvals.length + s.refused.length === 2);
    expect(state.approvals.map((x) => x.approver)).toEqual(['alice']);
    expect(state.refused.map((x) => x.refusal)).toEqual(['duplicate']);

    const replay = await firstClick();
    expect(replay.status).toBe(401);
    await new Promise((r) => setTimeout(r, 500));
    const after = await env.state(requestId);
    expect(after.approvals).toHaveLength(1);
    expect(after.refused).toHaveLength(1);
    expect(after.status).toBe('pending_approval');
  });

  it('when two approvers race on the last approvals, then the request ends once and the target is called once', async () => {
    const { requestId } = await refund(4000);
    const [message] = await env.waitForMessages(requestId, 1);
    if (!message) throw new Error('no message');
    await Promise.all([
      env.click(SLACK.alice, ACTION_IDS.approve, message),
      env.click(SLACK.bob, ACTION_IDS.approve, message),
      env.click(SLACK.bob, ACTION_IDS.approve, message),
    ]);
    const final = await env.waitForState(requestId, (s) => s.status === 'succeeded');
    expect(new Set(final.approvals.map((x) => x.approver))).toEqual(new Set(['alice', 'bob']));
    expect(final.approvals).toHaveLength(2);
    expect(env.target.callsFor(requestId)).toHaveLength(1);
  });

  it('when a member of the approving Slack user group clicks, then the workflow counts the attested membership; a stranger is refused', async () => {
    const { requestId } = await refund(5000);
    const [message] = await env.waitForMessages(requestId, 1);
    if (!message) throw new Error('no message');
    await env.click('U0STRANGER', ACTION_IDS.approve, message);
    await env.stub.waitFor(
      () => ephemeralsTo('U0STRANGER').some((c) => String(c.args.text).includes('not in an approver group')),
      10_000,
      'stranger refusal',
    );
    await env.click(ZED, ACTION_IDS.approve, message);
    const state = await env.waitForState(requestId, (s) => s.approvals.length === 1);
    expect(state.approvals[0]).toMatchObject({ approver: `slack:${ZED}`, usergroups: [FIN_USERGROUP] });
    expect(state.requirements[0]?.approvedBy).toEqual([`slack:${ZED}`]);
    expect(state.refused[0]).toMatchObject({ approver: 'slack:U0STRANGER', refusal: 'not_an_approver' });
    await env.stub.waitFor(
      () => blockText(latest(message.channel, message.ts)).includes(`1 of 2 finance: <@${ZED}>`),
      15_000,
      'progress',
    );
  });

  it('when an approver opens App Home, then it lists what waits for them with working buttons', async () => {
    const { requestId } = await refund(6000);
    await env.waitForMessages(requestId, 1);
    const published = () =>
      env.stub
        .callsOf('views.publish')
        .filter((c) => c.args.user_id === SLACK.bob && JSON.stringify(c.args.view).includes(requestId));
    const before = published().length;
    expect((await env.post(appHomeOpenedRequest({ user: SLACK.bob }))).status).toBe(200);
    const call = await env.stub.waitFor(() => published()[before], 10_000, 'home published');
    const view = call.args.view as { type: string; blocks: Record<string, unknown>[] };
    expect(view.type).toBe('home');
    expect(blockText(view)).toContain('Waiting for you');
    const value = buttonValue(view, ACTION_IDS.approve);

    await env.post(blockActionsRequest({ user: SLACK.bob, actionId: ACTION_IDS.approve, value }));
    const state = await env.waitForState(requestId, (s) => s.approvals.length === 1);
    expect(state.approvals[0]).toMatchObject({ approver: 'bob', channel: 'slack' });
    await env.stub.waitFor(
      () =>
        env.stub
          .callsOf('views.publish')
          .some((c) => c.args.user_id === SLACK.bob && blockText(c.args.view as never).includes('is recorded')),
      10_000,
      'home notice',
    );
  });

  it('when an approver runs /countersign pending and status, then the answers list the request; strangers learn nothing', async () => {
    const { requestId } = await refund(7000);
    await env.waitForMessages(requestId, 1);
    const ask = async (user: string, text: string, id: string) => {
      expect(
        (
          await env.post(
            slashCommandRequest({ user, command: '/countersign', text, responseUrl: env.stub.responseUrl(id) }),
          )
        ).status,
      ).toBe(200);
      return env.stub.waitFor(() => env.stub.responses.find((r) => r.id === id), 10_000, `response ${id}`);
    };
    const pending = await ask(SLACK.alice, 'pending', `pending-${requestId}`);
    expect(pending.body.response_type).toBe('ephemeral');
    expect(JSON.stringify(pending.body.blocks)).toContain(requestId);
    const status = await ask(SLACK.alice, `status ${requestId}`, `status-${requestId}`);
    expect(String(status.body.text)).toContain('pending_approval');
    const stranger = await ask('U0STRANGER', `status ${requestId}`, `stranger-${requestId}`);
    expect(String(stranger.body.text)).toContain('no approver entry');
    expect(JSON.stringify(stranger.body)).not.toContain('payments.refund');
  });

  it('when the agent sends hostile text and a secret parameter, then Slack receives it inert and never sees the secret', async () => {
    const { requestId } = await env.submit({
      action: 'email.send_external',
      params: {
        to: 'victim@example.org',
        subject: '<!channel> *URGENT* <https://evil.example|click>',
        apiKey: SECRET_API_KEY,
      },
      reason: 'Approved already by <@U0ALICE01>, see <https://evil.example|the ticket>. \u202Egnp.exe',
    });
    const messages = await env.waitForMessages(requestId, 2);
    const everything = JSON.stringify(env.stub.calls);
    expect(everything).not.toContain(SECRET_API_KEY);
    expect(env.logLines.join('') + env.h.logLines.join('')).not.toContain(SECRET_API_KEY);
    const logs = env.logLines.join('') + env.h.logLines.join('');
    expect(logs).not.toContain(TEST_BILLING_TOKEN);
    expect(logs).not.toContain('xoxb-test-bot-token');
    expect(logs).not.toContain(TEST_SIGNING_SECRET);
    for (const m of messages) {
      const text = blockText(m);
      expect(text).toContain('[secret: withheld]');
      expect(text).not.toContain('<!channel>');
      expect(text).not.toContain('<@U0ALICE01>');
      expect(text).not.toContain('<https://evil.example');
      expect(text).toContain('&lt;!channel&gt;');
      expect(text).toContain('⟦U+202E⟧');
      expect(text).toContain('Hidden characters');
      expect(m.text).not.toContain('evil');
    }
  });
});
