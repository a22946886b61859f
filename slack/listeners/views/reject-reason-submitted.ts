// The reject modal's submission: a reason is required; then the rejection goes to the workflow like a click.
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { REJECT_REASON } from '../../blocks/ids';
import { decideFromSlack } from '../../decisions';
import { tellClicker } from '../../feedback';
import { parseModalMetadata } from '../../payloads';
import type { ListenerDeps } from '../deps';

/** Handles the `reject_request_modal` submission: ack (with field errors when the reason is missing), then decide. */
export function rejectReasonSubmitted(deps: ListenerDeps) {
  return async ({ ack, body, view, client }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs) => {
    const reason = (view.state.values[REJECT_REASON.blockId]?.[REJECT_REASON.actionId]?.value ?? '').trim();
    if (reason.length < 3) {
      await ack({
        response_action: 'errors',
        errors: { [REJECT_REASON.blockId]: 'Say why you reject it (at least 3 characters).' },
      });
      return;
    }
    await ack();
    const meta = parseModalMetadata(view.private_metadata);
    if (!meta) {
      deps.logger.warn({ slackUser: body.user.id }, 'reject modal with unknown metadata ignored');
      return;
    }
    const result = await decideFromSlack(deps.decisions, {
      requestId: meta.r,
      paramsHash: meta.h,
      decision: 'reject',
      reason,
      slackUser: body.user.id,
      slackTeam: body.team?.id ?? body.user.team_id,
      ...(meta.c ? { channel: meta.c } : {}),
      ...(meta.t ? { messageTs: meta.t } : {}),
    });
    await tellClicker(
      client,
      deps.home,
      deps.logger,
      { slackUser: body.user.id, ...(meta.c ? { channel: meta.c } : {}) },
      result.text,
    );
  };
}
