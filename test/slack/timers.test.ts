// Timers seen from Slack: reminders and escalations as thread replies, expiry as an edit of every copy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockText, hasDecisionButtons, SLACK, startSlackEnv, type SlackEnv } from './slack-env';

describe('Slack approvals: reminders, escalation and expiry', () => {
  let env: SlackEnv;
  beforeAll(async () => {
    env = await startSlackEnv({ config: { remindAfter: '1s', escalateAfter: '2s', expireAfter: '5s' } });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('when nobody decides, then reminders and the escalation land in each thread, the escalation group gets its own copy, and expiry edits every copy', async () => {
    const { requestId } = await env.submit({
      action: 'email.send_external',
      params: { to: 'customer@example.org', subject: 'Your order' },
      reason: 'Follow up on the delayed order.',
    });
    const originals = await env.waitForMessages(requestId, 2);
    const dana = originals.find((m) => m.channel === 'D0DANA001');
    if (!dana) throw new Error('no DM to dana');

    const reminder = await env.stub.waitFor(
      () => env.stub.replies(dana.channel, dana.ts).find((r) => r.text.includes('Reminder')),
      10_000,
      'reminder reply',
    );
    expect(reminder.text).toContain(`<@${SLACK.dana}>`);
    expect(reminder.text).toContain('0 of 1 communications');

    const escalation = await env.stub.waitFor(
      () => env.stub.replies(dana.channel, dana.ts).find((r) => r.text.includes('Escalated')),
      10_000,
      'escalation reply',
    );
    expect(escalation.text).toContain(`<@${SLACK.erin}>`);
    expect(escalation.text).toContain('security');
    const erinCopy = await env.stub.waitFor(
      () => env.messagesOf(requestId).find((m) => m.channel === 'D0ERIN001'),
      10_000,
      'copy for the escalation group',
    );
    expect(hasDecisionButtons(erinCopy)).toBe(true);

    const expired = await env.waitForState(requestId, (s) => s.status === 'expired', 15_000);
    expect(expired.timeline.map((t) => t.event)).toEqual(expect.arrayContaining(['reminder', 'escalated', 'expired']));
    for (const m of [...originals, erinCopy]) {
      const edited = await env.stub.waitFor(
        () => {
          const now = env.stub.message(m.channel, m.ts);
          return now && blockText(now).includes('*Expired*') ? now : undefined;
        },
        10_000,
        `expiry edit in ${m.channel}`,
      );
      expect(hasDecisionButtons(edited)).toBe(false);
      expect(edited.text).toContain('Expired');
    }
    expect(env.target.callsFor(requestId)).toHaveLength(0);
  });

  it('when a pending request expires before the first approver clicks, then the late click is refused and nothing runs', async () => {
    const { requestId } = await env.submit({
      action: 'payments.refund',
      params: { paymentId: 'pay_late0001', amount: 1500, currency: 'EUR' },
      reason: 'Goodwill refund.',
    });
    const [message] = await env.waitForMessages(requestId, 1);
    if (!message) throw new Error('no message');
    await env.waitForState(requestId, (s) => s.status === 'expired', 15_000);
    await env.click(SLACK.alice, 'approve_request', message);
    await env.stub.waitFor(
      () =>
        env.stub
          .callsOf('chat.postEphemeral')
          .find((c) => c.args.user === SLACK.alice && String(c.args.text).includes('no longer waiting')),
      10_000,
      'late click refusal',
    );
    expect((await env.state(requestId)).approvals).toHaveLength(0);
    expect(env.target.callsFor(requestId)).toHaveLength(0);
  });
});
