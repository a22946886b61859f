// Approve button (on an approval message, the App Home tab or a slash-command answer).
import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { decideFromSlack } from '../../decisions';
import { tellClicker } from '../../feedback';
import { parseButtonValue } from '../../payloads';
import type { ListenerDeps } from '../deps';

/**
 * How long an approval's confirmation waits for the execution it started, when this process runs the connector: the
 * activity arrives moments after the approval is answered, and a refused re-check never starts it.
 */
export const CONFIRMATION_WAIT_MS = 250;

/** Handles `approve_request`: ack, decide through the workflow, let the execution start, answer the clicker. */
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
    // The approval started the execution: its activity, on its way to this process, goes before the confirmation.
    if (result.kind === 'recorded' && result.state.status === 'approved' && deps.executionStarts) {
      await deps.executionStarts.whenStarted(value.r, CONFIRMATION_WAIT_MS);
    }
    await tellClicker(
      client,
      deps.home,
      deps.logger,
      { slackUser: body.user.id, ...(channel ? { channel } : {}) },
      result.text,
    );
  };
}
