// The App Home tab: what waits for this approver (with the same buttons as the message) and their recent decisions.
import type { types } from '@slack/bolt';
import type { ActionRequestState, DecisionChoice } from '../../src/contracts/types';
import { slackDate } from './approval-message';
import type { PeopleDirectory } from './people';
import { buildRequestCard } from './request-card';
import { escapeAndTruncate } from './text';

type KnownBlock = types.KnownBlock;

/** Home tabs hold at most 100 blocks; these caps keep a full tab well inside it. */
export const HOME_LIMITS = { pending: 15, recent: 10 } as const;

export interface AppHomeInput {
  /** Requests waiting for this approver, newest first. */
  pending: { state: ActionRequestState; temporalUrl?: string }[];
  /** This approver's recent decisions, newest first. */
  recent: { state: ActionRequestState; decision: DecisionChoice; at: string }[];
  people: PeopleDirectory;
  /** A line shown at the top (the answer to a click made from the tab). */
  notice?: string;
  /** False when the Slack user maps to no approver at all. */
  known: boolean;
}

/** Builds the home view. */
export function buildAppHome(input: AppHomeInput): types.HomeView {
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: 'Countersign approvals' } }];
  if (input.notice)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: escapeAndTruncate(input.notice, 1000) } });
  if (!input.known) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: 'Countersign has no approver entry for you, so nothing is listed here. If you belong to an approving Slack user group, decide from the approval messages; an operator can add your Slack id to `people`.',
      },
    });
    return { type: 'home', blocks };
  }
  const pending = input.pending.slice(0, HOME_LIMITS.pending);
  blocks.push({
    type: 'section',
    text: {
      type: 'mrkdwn',
      text: pending.length
        ? `*Waiting for you* (${input.pending.length})`
        : '*Waiting for you*\nNothing waits for your decision.',
    },
  });
  for (const { state, temporalUrl } of pending) {
    blocks.push(...buildRequestCard(state, input.people, temporalUrl), { type: 'divider' });
  }
  if (input.pending.length > pending.length) {
    blocks.push({
      type: 'context',
      elements: [
        { type: 'mrkdwn', text: `${input.pending.length - pending.length} more; use \`/countersign pending\`.` },
      ],
    });
  }
  const recent = input.recent.slice(0, HOME_LIMITS.recent);
  blocks.push({
    type: 'section',
    text: { type: 'mrkdwn', text: recent.length ? '*Your recent decisions*' : '*Your recent decisions*\nNone yet.' },
  });
  for (const { state, decision, at } of recent) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `${decision === 'approve' ? ':white_check_mark: You approved' : ':x: You rejected'} *${escapeAndTruncate(
            state.action,
            100,
          )}* (\`${escapeAndTruncate(state.requestId, 100)}\`) · now ${state.status} · ${slackDate(at)}`,
        },
      ],
    });
  }
  return { type: 'home', blocks };
}
