// `/countersign pending` lists what waits for the caller; `/countersign status <id>` shows one request. Answers are
// ephemeral and only for people the config knows.
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs, types } from '@slack/bolt';
import { statusText } from '../../blocks/approval-message';
import { buildRequestCard } from '../../blocks/request-card';
import { createInertRenderer } from '../../blocks/text';
import { parseRequestId } from '../../payloads';
import type { ListenerDeps } from '../deps';

/** At most this many cards in one answer (3 blocks each, within the 50-block message limit). */
const MAX_CARDS = 12;

const HELP =
  'Usage: `/countersign pending` lists requests waiting for you; `/countersign status <request id>` shows one.';

/** Handles `/countersign`: ack, then answer through the response URL. */
export function countersignCommand(deps: ListenerDeps) {
  return async ({ ack, command, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    await ack();
    const [sub = '', arg] = command.text.trim().split(/\s+/);
    const approver = deps.directory.approverIdOf(command.user_id);
    const answer = (text: string, blocks?: types.KnownBlock[]) =>
      respond({ response_type: 'ephemeral', text, ...(blocks ? { blocks } : {}) });

    if (sub !== 'pending' && sub !== 'status') return void (await answer(HELP));
    if (!approver)
      return void (await answer(
        'Countersign has no approver entry for you; an operator can add your Slack id to `people`.',
      ));

    try {
      if (sub === 'pending') {
        const pending = await deps.gateway.pendingFor(approver, MAX_CARDS + 1);
        if (pending.length === 0) return void (await answer('Nothing waits for your decision.'));
        const blocks: types.KnownBlock[] = [
          {
            type: 'section',
            text: {
              type: 'mrkdwn',
              text: `*Waiting for you* (${pending.length > MAX_CARDS ? `${MAX_CARDS}+` : pending.length})`,
            },
          },
        ];
        for (const state of pending.slice(0, MAX_CARDS)) {
          blocks.push(...buildRequestCard(state, deps.config.people, deps.temporalUrl(state.requestId)));
        }
        return void (await answer(`${pending.length} request(s) wait for your decision.`, blocks));
      }
      const id = parseRequestId(arg);
      if (!id) return void (await answer(HELP));
      const state = await deps.gateway.state(id);
      if (!state) return void (await answer('Countersign knows no such request.'));
      const summary = statusText(state, deps.config.people, createInertRenderer());
      return void (await answer(`${state.requestId}: ${state.status}`, [
        { type: 'section', text: { type: 'mrkdwn', verbatim: true, text: summary } },
        ...buildRequestCard(state, deps.config.people, deps.temporalUrl(state.requestId)),
      ]));
    } catch (err) {
      deps.logger.warn(
        { slackUser: command.user_id, err: err instanceof Error ? err.message : String(err) },
        'slash command failed',
      );
      await answer('Countersign cannot answer right now; try again shortly.');
    }
  };
}
