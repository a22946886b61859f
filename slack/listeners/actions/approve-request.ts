// Approve button (on an approval message, the App Home tab or a slash-command answer).
import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { decideFromSlack } from '../../decisions';
import { tellClicker } from '../../feedback';
import { parseButtonValue } from '../../payloads';
import type { ListenerDeps } from '../deps';

/** Handles `approve_request`: ack, decide through the workflow, answer the clicker. */
export function approveRequest(deps: ListenerDeps) {
  return async ({
    ack,
    body,
    action,
    client,
  }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs) => {
    await ack();
    const value = parseButtonValue(action.value);
    if (!value) {
      deps.logger.warn({ slackUser: body.user.id }, 'approve click with an unknown value ignored');
      return;
    }
    const channel = body.container.type === 'view' ? undefined : body.channel?.id;
    const result = await decideFromSlack(deps.decisions, {
      requestId: value.r,
      paramsHash: value.h,
      decision: 'approve',
      slackUser: body.user.id,
      slackTeam: body.team?.id ?? body.user.team_id,
      ...(channel ? { channel } : {}),
      ...(body.message?.ts ? { messageTs: body.message.ts } : {}),
    });
    await tellClicker(
      client,
      deps.home,
      deps.logger,
      { slackUser: body.user.id, ...(channel ? { channel } : {}) },
      result.text,
    );
  };
}
