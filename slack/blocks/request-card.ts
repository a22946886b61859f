// A compact request summary with the same decision buttons, for App Home and the slash command.
import type { types } from '@slack/bolt';
import type { ActionRequestState } from '../../src/contracts/types';
import { actionButtons, contextBlock, progressText, slackDate, statusText } from './approval-message';
import type { PeopleDirectory } from './people';
import { createInertRenderer, escapeAndTruncate } from './text';

type KnownBlock = types.KnownBlock;

/** The blocks of one request card: summary, status, ids, and buttons while it is pending. */
export function buildRequestCard(
  state: ActionRequestState,
  people: PeopleDirectory,
  temporalUrl: string | undefined,
): KnownBlock[] {
  const inert = createInertRenderer();
  const target = state.target
    ? [state.target.system, state.target.environment, state.target.resource]
        .filter((p) => p !== undefined && p !== '')
        .join(' / ')
    : '';
  const lines = [
    `*${escapeAndTruncate(state.action, 100)}* by ${inert.inline(state.agent.id, 100)} · risk ${state.risk}${
      target ? ` · target ${inert.inline(target, 300)}` : ''
    }`,
    state.status === 'pending_approval'
      ? `Approvals: ${progressText(state, people)}${state.expiresAt ? ` · expires ${slackDate(state.expiresAt)}` : ''}`
      : statusText(state, people, inert),
  ];
  if (inert.flagged)
    lines.push(':warning: The agent’s text contains hidden characters; open the request message to review it.');
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', verbatim: true, text: lines.join('\n') } },
    contextBlock(state),
  ];
  const actions = actionButtons(state, temporalUrl);
  if (actions) blocks.push(actions);
  return blocks;
}
