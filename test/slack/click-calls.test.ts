// What one Slack click costs Temporal: the decide update, preceded by a Describe (the start memo, no worker) only when
// this process has not seen the request; never a query of the request's state. The clicker is identified from the
// request's fixed facts and answered from the update's own verdict. The App Home refresh that follows is not counted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_IDS } from '../../slack/blocks/ids';
import type { StoredMessage } from '../support/slack-api-stub';
import { countedEnv, SEC_USERGROUP, FIN_USERGROUP, YAN, ZED, type TemporalCall } from './counted-env';
import { SLACK, type SlackEnv } from './slack-env';

/** Clicks and waits for the clicker's answer; returns the answer's text and the Temporal calls made until then. */
async function clickAndAnswer(
  env: SlackEnv,
  calls: TemporalCall[],
  user: string,
  message: StoredMessage,
): Promise<{ text: string; methods: string[] }> {
  const clickedAt = Date.now();
  calls.length = 0;
  expect((await env.click(user, ACTION_IDS.approve, message)).status).toBe(200);
  const answer = await env.stub.waitFor(
    () => env.stub.callsOf('chat.postEphemeral').find((c) => c.args.user === user && c.at >= clickedAt),
    15_000,
    `answer to ${user}`,
  );
  return { text: String(answer.args.text), methods: calls.filter((c) => c.at <= answer.at).map((c) => c.method) };
}

const refund = (env: SlackEnv, paymentId: string) =>
  env.submit({
    action: 'payments.refund',
    params: { paymentId, amount: 2500, currency: 'USD' },
    reason: 'Customer was charged twice.',
  });

describe('Temporal calls per Slack click, API and workers in one process', () => {
  let counted: Awaited<ReturnType<typeof countedEnv>>;
  beforeAll(async () => {
    counted = await countedEnv({ oneProcess: true });
  });
  afterAll(async () => {
    await counted?.close();
  });

  it('when this process posted the approval message, then the click costs one Temporal call: the decide update', async () => {
    const { env, calls } = counted;
    const state = await refund(env, 'pay_calls0001');
    const [message] = await env.waitForMessages(state.requestId, 1);
    if (!message) throw new Error('no message');

    const { text, methods } = await clickAndAnswer(env, calls, SLACK.alice, message);
    expect(methods).toEqual(['UpdateWorkflowExecution']);
    // The answer comes from the update's state: the progress after this very approval.
    expect(text).toContain('Your approval of payments.refund is recorded (1 of 2 finance');

    const after = await env.waitForState(state.requestId, (s) => s.approvals.length === 1);
    expect(after.approvals[0]).toMatchObject({ approver: 'alice', channel: 'slack' });
    await env.h.service.cancel({ kind: 'operator', id: 'tests' }, state.requestId, 'test cleanup');
  });

  it('when a click meets the quorum, then the clicker is answered once the execution it started has begun', async () => {
    const { env, calls } = counted;
    const state = await refund(env, 'pay_calls0003');
    const [message] = await env.waitForMessages(state.requestId, 1);
    if (!message) throw new Error('no message');
    await clickAndAnswer(env, calls, SLACK.alice, message);
    const ephemeralsBefore = env.stub.callsOf('chat.postEphemeral').length;

    const { text } = await clickAndAnswer(env, calls, SLACK.bob, message);
    expect(text).toContain('is recorded');
    // Alice's click left the request pending: only Bob's waited, and for the start it got.
    const events = env.executionStarts.filter((e) => e.requestId === state.requestId);
    expect(events.map((e) => ({ event: e.event, ...('started' in e ? { started: e.started } : {}) }))).toEqual([
      { event: 'started' },
      { event: 'waited', started: true },
    ]);
    const answer = env.stub.callsOf('chat.postEphemeral').slice(ephemeralsBefore)[0];
    expect(answer?.at).toBeGreaterThanOrEqual(events[0]?.at ?? Infinity);
    expect((await env.waitForState(state.requestId, (s) => s.status === 'succeeded')).status).toBe('succeeded');
  });
});

describe('Temporal calls per Slack click, API and workers apart', () => {
  let counted: Awaited<ReturnType<typeof countedEnv>>;
  beforeAll(async () => {
    // The e-mail rule escalates to security after 8 s (and expires after an hour).
    counted = await countedEnv({ config: { escalateAfter: '8s' } });
  });
  afterAll(async () => {
    await counted?.close();
  });

  it('when the click lands on a process that did not post the message, then the facts come from the start memo: a Describe and the update, no query', async () => {
    const { env, calls } = counted;
    const state = await refund(env, 'pay_calls0002');
    const [message] = await env.waitForMessages(state.requestId, 1);
    if (!message) throw new Error('no message');

    const first = await clickAndAnswer(env, calls, SLACK.alice, message);
    expect(first.methods).toEqual(['DescribeWorkflowExecution', 'UpdateWorkflowExecution']);
    expect(first.text).toContain('is recorded');
    // Once seen, the facts stay in this process: the next click is the update alone.
    const second = await clickAndAnswer(env, calls, SLACK.bob, message);
    expect(second.methods).toEqual(['UpdateWorkflowExecution']);
    const done = await env.waitForState(state.requestId, (s) => s.status === 'succeeded');
    expect(done.approvals.map((a) => a.approver)).toEqual(['alice', 'bob']);
  });

  it('when the agent’s owner clicks with the facts from the memo, then the workflow refuses it as self-approval and records the attempt', async () => {
    const { env, calls } = counted;
    const state = await refund(env, 'pay_calls0003');
    const [message] = await env.waitForMessages(state.requestId, 1);
    if (!message) throw new Error('no message');

    // carol owns support-bot and is a member of finance.
    const { text, methods } = await clickAndAnswer(env, calls, SLACK.carol, message);
    expect(methods).not.toContain('QueryWorkflow');
    expect(text).toBe('You cannot decide a request made by your own agent or on your behalf.');
    const after = await env.waitForState(state.requestId, (s) => s.refused.length === 1);
    expect(after.refused[0]).toMatchObject({ approver: 'carol', refusal: 'self_approval' });
    expect(after.approvals).toHaveLength(0);
    await env.h.service.cancel({ kind: 'operator', id: 'tests' }, state.requestId, 'test cleanup');
  });

  it('when the person a request acts for clicks through an e-mail alias, then Slack’s lookup maps them to the excluded reference and the workflow refuses them', async () => {
    const { env, calls } = counted;
    // Not a person of the config: only Slack knows whose address it is.
    env.stub.users.set('ext.requester@example.org', ZED);
    const state = await env.submit({
      action: 'payments.refund',
      params: { paymentId: 'pay_calls0004', amount: 2500, currency: 'USD' },
      reason: 'Customer was charged twice.',
      onBehalfOf: 'ext.requester@example.org',
    });
    const [message] = await env.waitForMessages(state.requestId, 1);
    if (!message) throw new Error('no message');

    // ZED is in the finance user group, so only the exclusion stands between the click and a counted approval.
    const { text, methods } = await clickAndAnswer(env, calls, ZED, message);
    expect(methods).not.toContain('QueryWorkflow');
    expect(text).toBe('You cannot decide a request made by your own agent or on your behalf.');
    const after = await env.waitForState(state.requestId, (s) => s.refused.length === 1);
    expect(after.refused[0]).toMatchObject({ approver: 'ext.requester@example.org', refusal: 'self_approval' });
    await env.h.service.cancel({ kind: 'operator', id: 'tests' }, state.requestId, 'test cleanup');
  });

  it('when Slack cannot say whose e-mail the request acts for, then the click is refused before any update and nothing is recorded', async () => {
    const { env, calls } = counted;
    env.stub.users.set('ext.other@example.org', ZED);
    const state = await env.submit({
      action: 'payments.refund',
      params: { paymentId: 'pay_calls0006', amount: 2500, currency: 'USD' },
      reason: 'Customer was charged twice.',
      onBehalfOf: 'ext.other@example.org',
    });
    const [message] = await env.waitForMessages(state.requestId, 1);
    if (!message) throw new Error('no message');

    // Every attempt of the lookup fails (the client retries twice).
    env.stub.failNext('users.lookupByEmail', { status: 500 }, 3);
    const { text, methods } = await clickAndAnswer(env, calls, ZED, message);
    expect(text).toBe('Countersign could not check who you are with Slack just now; nothing was recorded. Try again.');
    expect(methods).not.toContain('UpdateWorkflowExecution');
    const after = await env.state(state.requestId);
    expect(after.approvals).toHaveLength(0);
    expect(after.refused).toHaveLength(0);
    await env.h.service.cancel({ kind: 'operator', id: 'tests' }, state.requestId, 'test cleanup');
  });

  it('when a user-group member clicks with the facts from the memo, then the attested membership counts', async () => {
    const { env, calls } = counted;
    const state = await refund(env, 'pay_calls0005');
    const [message] = await env.waitForMessages(state.requestId, 1);
    if (!message) throw new Error('no message');

    const { text, methods } = await clickAndAnswer(env, calls, ZED, message);
    expect(methods).toEqual(['DescribeWorkflowExecution', 'UpdateWorkflowExecution']);
    expect(text).toContain('is recorded');
    const after = await env.waitForState(state.requestId, (s) => s.approvals.length === 1);
    expect(after.approvals[0]).toMatchObject({ approver: `slack:${ZED}`, usergroups: [FIN_USERGROUP] });
    expect(after.requirements[0]?.approvedBy).toEqual([`slack:${ZED}`]);
    await env.h.service.cancel({ kind: 'operator', id: 'tests' }, state.requestId, 'test cleanup');
  });

  it('when a member of the escalation user group clicks, then the workflow refuses the attestation before the escalation and counts it after', async () => {
    const { env, calls } = counted;
    const state = await env.submit({
      action: 'email.send_external',
      params: { to: 'customer@example.org', subject: 'Refund issued' },
      reason: 'Confirm the refund to the customer.',
    });
    const [message] = await env.waitForMessages(state.requestId, 1);
    if (!message) throw new Error('no message');

    // Membership in every user group the request lists is attested; the workflow decides which ones count now.
    const early = await clickAndAnswer(env, calls, YAN, message);
    expect(early.text).toBe('You are not in an approver group for this request.');
    const refused = await env.waitForState(state.requestId, (s) => s.refused.length === 1);
    expect(refused.refused[0]).toMatchObject({
      approver: `slack:${YAN}`,
      usergroups: [SEC_USERGROUP],
      refusal: 'not_an_approver',
    });
    expect(refused.approvals).toHaveLength(0);

    await env.waitForState(state.requestId, (s) => s.requirements[0]?.escalated === true, 30_000);
    const late = await clickAndAnswer(env, calls, YAN, message);
    expect(late.methods).toEqual(['UpdateWorkflowExecution']);
    expect(late.text).toContain('is recorded');
    const done = await env.waitForState(state.requestId, (s) => s.status === 'succeeded');
    expect(done.approvals[0]).toMatchObject({ approver: `slack:${YAN}`, usergroups: [SEC_USERGROUP] });
    expect(env.target.callsFor(state.requestId)).toHaveLength(1);
  });
});
