// What one Slack click costs Temporal: the request's state (one query) and the decision (one update), nothing more;
// the clicker is answered from the workflow's own verdict. The App Home refresh that follows the answer is not counted.
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { Client, type Connection } from '@temporalio/client';
import { createDataConverter } from '../../src/temporal/codec';
import { connectTemporal } from '../../src/temporal/adapter';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ACTION_IDS } from '../../slack/blocks/ids';
import { SLACK, startSlackEnv, type SlackEnv } from './slack-env';

interface TemporalCall {
  method: string;
  at: number;
}

describe('Temporal calls per Slack click', () => {
  let env: SlackEnv;
  let connection: Connection;
  const calls: TemporalCall[] = [];

  beforeAll(async () => {
    const counting: Interceptor = (options, nextCall) => {
      calls.push({ method: options.method_definition.path.split('/').at(-1) ?? '', at: Date.now() });
      return new InterceptingCall(nextCall(options));
    };
    connection = await connectTemporal({ address: inject('temporalAddress'), interceptors: [counting] });
    env = await startSlackEnv({
      slackTemporal: (h) => new Client({ connection, namespace: 'default', dataConverter: createDataConverter(h.codec) }),
    });
  });
  afterAll(async () => {
    await env?.close();
    await connection?.close();
  });

  it('when an approver clicks Approve, then the click costs at most 2 Temporal calls: a query and the decide update', async () => {
    const state = await env.submit({
      action: 'payments.refund',
      params: { paymentId: 'pay_calls0001', amount: 2500, currency: 'USD' },
      reason: 'Customer was charged twice.',
    });
    const [message] = await env.waitForMessages(state.requestId, 1);
    if (!message) throw new Error('no message');

    const clickedAt = Date.now();
    calls.length = 0;
    expect((await env.click(SLACK.alice, ACTION_IDS.approve, message)).status).toBe(200);
    const answer = await env.stub.waitFor(
      () =>
        env.stub
          .callsOf('chat.postEphemeral')
          .find((c) => c.args.user === SLACK.alice && String(c.args.text).includes('is recorded') && c.at >= clickedAt),
      15_000,
      'alice confirmation',
    );
    const forTheClick = calls.filter((c) => c.at <= answer.at);
    expect(forTheClick.map((c) => c.method)).toEqual(['QueryWorkflow', 'UpdateWorkflowExecution']);

    const after = await env.waitForState(state.requestId, (s) => s.approvals.length === 1);
    expect(after.approvals[0]).toMatchObject({ approver: 'alice', channel: 'slack' });
    await env.h.service.cancel({ kind: 'operator', id: 'tests' }, state.requestId, 'test cleanup');
  });
});
