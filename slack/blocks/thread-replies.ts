// Replies in an approval message's thread: reminders for the group still owing approvals, and escalations, which
// mention the escalation group. Our own words only; nothing the agent wrote.
import type { NotifiedState } from '../../src/contracts/types';
import { progressText } from './approval-message';
import type { PeopleDirectory } from './people';
import { escapeAndTruncate, truncate } from './text';

/** A reminder reply; `mentions` are the mrkdwn mentions of the people who have not approved yet. */
export function buildReminderReply(state: NotifiedState, group: string, mentions: string[], people: PeopleDirectory) {
  const who = mentions.length ? ` ${mentions.slice(0, 30).join(' ')}` : '';
  const text = truncate(
    `:bell: Reminder:${who} this request still waits for approval (${progressText(state, people)}). Group *${escapeAndTruncate(group, 64)}*.`,
    3000,
  );
  return { text, blocks: [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text } }] };
}

/** An escalation reply; `mentions` name the escalation group (its user group and its members). */
export function buildEscalationReply(state: NotifiedState, group: string, mentions: string[], people: PeopleDirectory) {
  const who = mentions.length ? ` ${mentions.slice(0, 30).join(' ')}` : '';
  const text = truncate(
    `:rotating_light: Escalated to *${escapeAndTruncate(group, 64)}*:${who} you may now approve or reject this request (${progressText(
      state,
      people,
    )}).`,
    3000,
  );
  return { text, blocks: [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text } }] };
}
