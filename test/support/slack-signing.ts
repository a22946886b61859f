// Requests built the way Slack sends them (interactive payloads as form-encoded `payload`, events as JSON, slash
// commands as forms) and signed with the signing secret (v0 HMAC-SHA256 over "v0:<timestamp>:<body>").
import { createHmac, randomUUID } from 'node:crypto';

export const TEST_SIGNING_SECRET = 'test_signing_secret_8f14e45fceea167a5a36dedd4bea2543';
export const TEST_TEAM = 'T0TEST';

export interface SlackRequest {
  body: string;
  contentType: string;
}

/** The two signature headers for `body` at `timestamp` (seconds). */
export function signSlackRequest(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)) {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'x-slack-signature': signature, 'x-slack-request-timestamp': String(timestamp) };
}

/** Posts a request to `url`: signed with `secret` (now, unless `timestamp`), or with the given headers as they are. */
export async function postToSlackEndpoint(
  url: string,
  request: SlackRequest,
  options: { secret?: string; timestamp?: number; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string; headers: Record<string, string> }> {
  const headers =
    options.headers ?? signSlackRequest(options.secret ?? TEST_SIGNING_SECRET, request.body, options.timestamp);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': request.contentType, ...headers },
    body: request.body,
  });
  return { status: res.status, text: await res.text(), headers: Object.fromEntries(res.headers.entries()) };
}

/** Signs once and returns a function that posts exactly those bytes and headers (a replay, when called twice). */
export function signedOnce(url: string, request: SlackRequest, secret = TEST_SIGNING_SECRET) {
  const headers = signSlackRequest(secret, request.body);
  return () => postToSlackEndpoint(url, request, { headers });
}

function form(fields: Record<string, string>): SlackRequest {
  return { body: new URLSearchParams(fields).toString(), contentType: 'application/x-www-form-urlencoded' };
}

function interactive(payload: Record<string, unknown>): SlackRequest {
  return form({ payload: JSON.stringify(payload) });
}

const user = (id: string) => ({ id, username: id.toLowerCase(), name: id.toLowerCase(), team_id: TEST_TEAM });

/** A button click (block_actions) on a message, or on the App Home tab when `channel` is omitted. */
export function blockActionsRequest(options: {
  user: string;
  actionId: string;
  value: string;
  channel?: string;
  messageTs?: string;
  responseUrl?: string;
}): SlackRequest {
  const onMessage = options.channel !== undefined;
  const actionTs = `${Date.now() / 1000}`;
  return interactive({
    type: 'block_actions',
    user: user(options.user),
    api_app_id: 'A0COUNTERSIGN',
    token: 'legacy-verification-token',
    container: onMessage
      ? { type: 'message', message_ts: options.messageTs, channel_id: options.channel, is_ephemeral: false }
      : { type: 'view', view_id: 'V0HOME' },
    trigger_id: `${Date.now()}.${randomUUID().slice(0, 8)}`,
    team: { id: TEST_TEAM, domain: 'test' },
    enterprise: null,
    is_enterprise_install: false,
    ...(onMessage
      ? {
          channel: { id: options.channel, name: 'approvals' },
          message: {
            type: 'message',
            ts: options.messageTs,
            text: 'approval',
            user: 'U0BOT',
            bot_id: 'B0BOT',
            blocks: [],
          },
          response_url: options.responseUrl ?? 'https://hooks.slack.com/actions/T0TEST/1/x',
        }
      : {
          view: {
            id: 'V0HOME',
            type: 'home',
            blocks: [],
            private_metadata: '',
            callback_id: '',
            state: { values: {} },
          },
        }),
    state: { values: {} },
    actions: [
      {
        action_id: options.actionId,
        block_id: 'cs_decide',
        text: { type: 'plain_text', text: 'Approve', emoji: true },
        value: options.value,
        type: 'button',
        action_ts: actionTs,
      },
    ],
  });
}

/** A modal submission (view_submission) with one text input value. */
export function viewSubmissionRequest(options: {
  user: string;
  callbackId: string;
  privateMetadata: string;
  values: Record<string, Record<string, { type: string; value: string | null }>>;
}): SlackRequest {
  return interactive({
    type: 'view_submission',
    team: { id: TEST_TEAM, domain: 'test' },
    user: user(options.user),
    api_app_id: 'A0COUNTERSIGN',
    token: 'legacy-verification-token',
    trigger_id: `${Date.now()}.${randomUUID().slice(0, 8)}`,
    view: {
      id: 'V0MODAL',
      team_id: TEST_TEAM,
      type: 'modal',
      blocks: [],
      private_metadata: options.privateMetadata,
      callback_id: options.callbackId,
      state: { values: options.values },
      hash: '1.abc',
      title: { type: 'plain_text', text: 'Reject request' },
      clear_on_close: false,
      notify_on_close: false,
      close: null,
      submit: null,
      previous_view_id: null,
      root_view_id: 'V0MODAL',
      app_id: 'A0COUNTERSIGN',
      external_id: '',
      app_installed_team_id: TEST_TEAM,
      bot_id: 'B0BOT',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  });
}

/** The app_home_opened event (Events API, JSON). */
export function appHomeOpenedRequest(options: { user: string }): SlackRequest {
  return {
    contentType: 'application/json',
    body: JSON.stringify({
      token: 'legacy-verification-token',
      team_id: TEST_TEAM,
      api_app_id: 'A0COUNTERSIGN',
      event: {
        type: 'app_home_opened',
        user: options.user,
        channel: `D${options.user.slice(1)}`,
        tab: 'home',
        event_ts: `${Date.now() / 1000}`,
      },
      type: 'event_callback',
      event_id: `Ev${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [
        { enterprise_id: null, team_id: TEST_TEAM, user_id: 'U0BOT', is_bot: true, is_enterprise_install: false },
      ],
      is_ext_shared_channel: false,
    }),
  };
}

/** A slash command invocation. */
export function slashCommandRequest(options: {
  user: string;
  command: string;
  text: string;
  responseUrl: string;
}): SlackRequest {
  return form({
    token: 'legacy-verification-token',
    team_id: TEST_TEAM,
    team_domain: 'test',
    channel_id: 'C0GENERAL1',
    channel_name: 'general',
    user_id: options.user,
    user_name: options.user.toLowerCase(),
    command: options.command,
    text: options.text,
    api_app_id: 'A0COUNTERSIGN',
    is_enterprise_install: 'false',
    response_url: options.responseUrl,
    trigger_id: `${Date.now()}.${randomUUID().slice(0, 8)}`,
  });
}
