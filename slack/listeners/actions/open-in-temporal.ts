// The link button to the Temporal UI: Slack opens the URL and still sends the click, which only needs an ack.
import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';

/** Handles `open_in_temporal`: ack only. */
export function openInTemporal() {
  return async ({ ack }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs) => {
    await ack();
  };
}
