// App Home and `/countersign pending` build their rows from what visibility returns (search attributes and the start
// memo, with the requirements' progress when the workflow keeps it there): no query per row. A row is read from the
// workflow only when visibility cannot stand in for it; rows visibility still lists but that no longer wait are dropped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROGRESS_MEMO_KEY } from '../../src/contracts/names';
import { ACTION_IDS } from '../../slack/blocks/ids';
import { appHomeOpenedRequest, slashCommandRequest } from '../support/slack-signing';
import { countedEnv, type TemporalCall } from './counted-env';
import { blockText, SLACK, type SlackEnv } from './slack-env';

describe('App Home and /countersign pending from visibility', () => {
  let counted: Awaited<ReturnType<typeof countedEnv>>;
  let env: SlackEnv;
  let calls: TemporalCall[];
  beforeAll(async () => {
    counted = await countedEnv({ oneProcess: true });
    ({ env, calls } = counted);
  });
  afterAll(async () => {
    await counted?.close();
  });

  /** dana's App Home as published after opening it, with the Temporal calls made for it. */
  async function danaHome(): Promise<{ text: string; methods: string[] }> {
    const before = env.stub.callsOf('views.publish').length;
    const openedAt = Date.now();
    calls.length = 0;
    expect((await env.post(appHomeOpenedRequest({ user: SLACK.dana }))).status).toBe(200);
    const call = await env.stub.waitFor(
      () => env.stub.callsOf('views.publish').find((c, i) => i >= before && c.args.user_id === SLACK.dana),
      10_000,
      'dana home published',
    );
    const methods = calls.filter((c) => c.at >= openedAt && c.at <= call.at).map((c) => c.method);
    return { text: blockText(call.args.view as never), methods };
  }

  const email = (subject: string) =>
    env.submit({
      action: 'email.send_external',
      params: { to: 'customer@example.org', subject },
      reason: 'Confirm the refund to the customer.',
    });

  it('when an approver opens App Home, then waiting requests are listed from visibility without a query; one that no longer runs is left out', async () => {
    // communications (dana, alice) decide e-mails, one approval each.
    const waiting = await email('Refund issued');
    const terminated = await email('Refund reversed');
    await env.waitForMessages(waiting.requestId, 1);
    await env.waitForMessages(terminated.requestId, 1);
    // Terminated from Temporal: its search attributes still say pending_approval.
    await env.h.client.workflow.getHandle(terminated.requestId).terminate('test: closed behind visibility');

    const { text, methods } = await danaHome();
    expect(text).toContain(waiting.requestId);
    expect(text).toContain('0 of 1 communications');
    expect(text).not.toContain(terminated.requestId);
    expect(methods).toContain('ListWorkflowExecutions');
    expect(methods).not.toContain('QueryWorkflow');
    expect(methods).not.toContain('DescribeWorkflowExecution');

    const answered = Date.now();
    const slash = await env.post(
      slashCommandRequest({
        user: SLACK.dana,
        command: '/countersign',
        text: 'pending',
        responseUrl: env.stub.responseUrl(`pending-${waiting.requestId}`),
      }),
    );
    expect(slash.status).toBe(200);
    const response = await env.stub.waitFor(
      () => env.stub.responses.find((r) => r.id === `pending-${waiting.requestId}`),
      10_000,
      'slash command answer',
    );
    expect(JSON.stringify(response.body.blocks)).toContain(waiting.requestId);
    expect(JSON.stringify(response.body.blocks)).toContain(ACTION_IDS.approve);
    expect(JSON.stringify(response.body.blocks)).not.toContain(terminated.requestId);
    expect(calls.filter((c) => c.at >= answered).map((c) => c.method)).not.toContain('QueryWorkflow');
    await env.h.service.cancel({ kind: 'operator', id: 'tests' }, waiting.requestId, 'test cleanup');
  });

  it('when a waiting request needs more approvals than one, then its row shows the approvals so far from the memo’s progress, without a query', async () => {
    // finance needs two approvals for a large refund; alice gives one.
    const refund = await env.submit({
      action: 'payments.refund',
      params: { paymentId: 'pay_home0001', amount: 2500, currency: 'USD' },
      reason: 'Customer was charged twice.',
    });
    await env.h.service.decide(refund.requestId, { decision: 'approve', approver: 'alice' });
    // The workflow keeps the progress in its memo; wait until visibility holds it (it lags the workflow a little).
    await expect
      .poll(
        async () => {
          for await (const wf of env.h.client.workflow.list({ query: `WorkflowId = '${refund.requestId}'` })) {
            return wf.memo?.[PROGRESS_MEMO_KEY] !== undefined;
          }
          return false;
        },
        { timeout: 20_000 },
      )
      .toBe(true);

    const before = env.stub.callsOf('views.publish').length;
    const openedAt = Date.now();
    calls.length = 0;
    expect((await env.post(appHomeOpenedRequest({ user: SLACK.bob }))).status).toBe(200);
    const call = await env.stub.waitFor(
      () => env.stub.callsOf('views.publish').find((c, i) => i >= before && c.args.user_id === SLACK.bob),
      10_000,
      'bob home published',
    );
    const text = blockText(call.args.view as never);
    expect(text).toContain(refund.requestId);
    expect(text).toContain('1 of 2 finance');
    expect(calls.filter((c) => c.at >= openedAt && c.at <= call.at).map((c) => c.method)).not.toContain(
      'QueryWorkflow',
    );
    await env.h.service.cancel({ kind: 'operator', id: 'tests' }, refund.requestId, 'test cleanup');
  });

  it('when an approver has decided, then App Home lists the decision among their recent ones', async () => {
    const sent = await email('Refund confirmed');
    await env.h.service.decide(sent.requestId, { decision: 'approve', approver: 'dana' });
    await env.waitForState(sent.requestId, (s) => s.status === 'succeeded');
    // Visibility may take a moment to show the request closed: open the tab again until it does.
    const deadline = Date.now() + 10_000;
    let { text } = await danaHome();
    while (!text.includes(`(\`${sent.requestId}\`) · now succeeded`) && Date.now() < deadline)
      ({ text } = await danaHome());
    expect(text).toContain('Your recent decisions');
    expect(text).toMatch(
      new RegExp(`You approved \\*email\\.send_external\\* \\(\`${sent.requestId}\`\\) · now succeeded`),
    );
  });

  it('when an approver decides from a message, then their App Home is republished only if this process showed it lately', async () => {
    const publishesTo = (user: string, since: number) =>
      env.stub.callsOf('views.publish').filter((c) => c.args.user_id === user && c.at >= since);
    const decideFromMessage = async (user: string, requestId: string) => {
      const messages = await env.waitForMessages(requestId, 2);
      const mine = messages.find((m) => m.channel === `D${user.slice(1)}`);
      if (!mine) throw new Error(`no message to ${user}`);
      const clickedAt = Date.now();
      expect((await env.click(user, ACTION_IDS.approve, mine)).status).toBe(200);
      await env.stub.waitFor(
        () =>
          env.stub
            .callsOf('chat.postEphemeral')
            .find((c) => c.args.user === user && c.at >= clickedAt && String(c.args.text).includes('is recorded')),
        15_000,
        `${user} confirmation`,
      );
      return clickedAt;
    };

    // dana has the tab open: her decision refreshes it, and the request no longer waits there.
    await danaHome();
    const forDana = await email('Refund noted');
    const danaClicked = await decideFromMessage(SLACK.dana, forDana.requestId);
    const refreshed = await env.stub.waitFor(() => publishesTo(SLACK.dana, danaClicked)[0], 10_000, 'dana refresh');
    expect(blockText(refreshed.args.view as never)).toContain('Your recent decisions');

    // alice never opened it here: nothing is published until she does.
    const forAlice = await email('Refund closed');
    const aliceClicked = await decideFromMessage(SLACK.alice, forAlice.requestId);
    expect((await env.post(appHomeOpenedRequest({ user: SLACK.alice }))).status).toBe(200);
    await env.stub.waitFor(() => publishesTo(SLACK.alice, aliceClicked)[0], 10_000, 'alice home opened');
    expect(publishesTo(SLACK.alice, aliceClicked)).toHaveLength(1);
  });
});
