// Opening the App Home tab publishes what waits for this approver. Bolt acknowledges events itself.
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { ListenerDeps } from '../deps';

/** Handles `app_home_opened` on the Home tab: publish the approver's view. */
export function appHomeOpened(deps: ListenerDeps) {
  return async ({ event, client }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs) => {
    if (event.tab !== 'home') return;
    await deps.home.publish(client, event.user);
  };
}
