// Socket Mode, the self-hosting default: the same listeners answer an approval delivered over the WebSocket, and the
// Web API calls (apps.connections.open included) go to SLACK_API_URL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackApp, type SlackApp } from '../../slack/app';
import { ACTION_IDS } from '../../slack/blocks/ids';
import { blockActionsRequest } from '../support/slack-signing';
import { buttonValue, FAST_SLACK, SLACK, startSlackEnv, type SlackEnv } from './slack-env';
import { startSocketModeServer, type SocketModeServer } from './socket-mode-server';

describe('Slack over Socket Mode', () => {
  let env: SlackEnv;
  let socket: SocketModeServer;
  let app: SlackApp;
  beforeAll(async () => {
    env = await startSlackEnv();
    socket = await startSocketModeServer();
    env.stub.socketModeUrl = socket.url;
    app = createSlackApp({
      slack: { botToken: 'xoxb-test-bot-token', appToken: 'xapp-test-app-token', apiUrl: env.stub.apiUrl },
      config: env.h.config,
      logger: env.h.logger,
      temporal: env.h.client,
      namespace: 'default',
      taskQueue: env.h.taskQueues.control,
      tuning: FAST_SLACK,
    });
    await app.start();
    await socket.connected();
  });
  afterAll(async () => {
    await app?.stop();
    await socket?.close();
    await env?.close();
  });

  it('when an approver clicks and Slack delivers the click over the socket, then it is acknowledged and recorded', async () => {
    expect(app.mode).toBe('socket');
    expect(app.handler).toBeUndefined();
    expect(env.stub.callsOf('apps.connections.open').length).toBeGreaterThan(0);
    const { requestId } = await env.submit({
      action: 'payments.refund',
      params: { paymentId: 'pay_socket01', amount: 2500, currency: 'USD' },
      reason: 'Duplicate charge.',
    });
    const [message] = await env.waitForMessages(requestId, 1);
    if (!message) throw new Error('no message');
    const form = new URLSearchParams(
      blockActionsRequest({
        user: SLACK.alice,
        actionId: ACTION_IDS.approve,
        value: buttonValue(message, ACTION_IDS.approve),
        channel: message.channel,
        messageTs: message.ts,
      }).body,
    );
    const payload: unknown = JSON.parse(form.get('payload') ?? '{}');
    socket.send({ envelope_id: 'env-1', type: 'interactive', payload, accepts_response_payload: false });

    await env.stub.waitFor(() => socket.received.find((m) => m.envelope_id === 'env-1'), 10_000, 'socket ack');
    const state = await env.waitForState(requestId, (s) => s.approvals.length === 1);
    expect(state.approvals[0]).toMatchObject({
      approver: 'alice',
      channel: 'slack',
      context: { slackUser: SLACK.alice },
    });
  });
});
