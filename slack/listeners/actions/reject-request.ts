// Reject button: opens the modal that asks for a reason. The decision itself happens when the modal is submitted.
import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { buildRejectModal } from '../../blocks/reject-modal';
import { parseButtonValue } from '../../payloads';
import type { RequestFacts } from '../../request-facts';
import type { ListenerDeps } from '../deps';

/** How long the modal waits for the request's name; the trigger id expires 3 s after the click. */
const STATE_WAIT_MS = 1_000;

/** Handles `reject_request`: ack, open the reason modal. */
export function rejectRequest(deps: ListenerDeps) {
  return async ({
    ack,
    body,
    action,
    client,
  }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs) => {
    await ack();
    const value = parseButtonValue(action.value);
    if (!value) {
      deps.logger.warn({ slackUser: body.user.id }, 'reject click with an unknown value ignored');
      return;
    }
    const channel = body.container.type === 'view' ? undefined : body.channel?.id;
    const facts = await factsWithin(deps, value.r, STATE_WAIT_MS);
    await client.views.open({
      trigger_id: body.trigger_id,
      view: buildRejectModal(
        {
          r: value.r,
          h: value.h,
          ...(channel ? { c: channel } : {}),
          ...(body.message?.ts ? { t: body.message.ts } : {}),
        },
        facts,
      ),
    });
  };
}

/** The request's action and agent (fixed facts: from this process's cache or the start memo, no worker needed). */
async function factsWithin(deps: ListenerDeps, requestId: string, ms: number): Promise<RequestFacts | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([deps.gateway.facts(requestId), timeout]);
  } catch (err) {
    // The modal still opens without the request's name; the decision is checked on submission.
    deps.logger.debug(
      { requestId, err: err instanceof Error ? err.message : String(err) },
      'request name unavailable for modal',
    );
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
