// How people are named in messages: a Slack mention when their Slack id is known, their name otherwise.
import { escapeAndTruncate } from './text';

/** The people of the config, as far as messages need them. */
export type PeopleDirectory = Readonly<Record<string, { name?: string; slack?: string }>>;

const SLACK_USER = /^[UW][A-Z0-9]{2,20}$/;

/** mrkdwn naming an approver id: `<@U…>` for people with a Slack id and for `slack:U…` ids, else the escaped name. */
export function mentionPerson(id: string, people: PeopleDirectory): string {
  if (id.startsWith('slack:') && SLACK_USER.test(id.slice(6))) return `<@${id.slice(6)}>`;
  const person = people[id];
  if (person?.slack && SLACK_USER.test(person.slack)) return `<@${person.slack}>`;
  return escapeAndTruncate(person?.name ?? id, 80);
}

/** A mention of a Slack user group. */
export function mentionUsergroup(id: string): string {
  return /^S[A-Z0-9]{2,20}$/.test(id) ? `<!subteam^${id}>` : '';
}
