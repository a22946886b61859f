// Every Slack listener, registered on one Bolt app.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { ACTION_IDS, VIEW_IDS } from '../blocks/ids';
import { approveRequest } from './actions/approve-request';
import { openInTemporal } from './actions/open-in-temporal';
import { rejectRequest } from './actions/reject-request';
import { countersignCommand } from './commands/countersign';
import type { ListenerDeps } from './deps';
import { appHomeOpened } from './events/app-home-opened';
import { rejectReasonSubmitted } from './views/reject-reason-submitted';

export type { ListenerDeps } from './deps';

/** Registers the listeners on `app`. */
export function registerListeners(app: App, deps: ListenerDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.approve, approveRequest(deps));
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.reject, rejectRequest(deps));
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.openInTemporal, openInTemporal());
  app.view({ type: 'view_submission', callback_id: VIEW_IDS.rejectModal }, rejectReasonSubmitted(deps));
  app.event('app_home_opened', appHomeOpened(deps));
  app.command('/countersign', countersignCommand(deps));
}
