// Who is who in Slack: people of the config by Slack id, e-mail lookups, user group members and DM channels, each
// cached briefly. Also the mapping of a clicking Slack user to the approver identity the workflow checks.
import { eligibleUsergroups } from '../src/contracts/authorization';
import type { CountersignConfig } from '../src/config/schema';
import { excludedApprovers } from '../src/directory';
import type { Logger } from '../src/logger';
import type { RequestFacts } from './request-facts';
import type { WebClient } from './web-client';

export interface SlackDirectoryDeps {
  client: WebClient;
  config: CountersignConfig;
  logger: Logger;
  /** How long user group memberships are trusted (default 60 s). */
  usergroupTtlMs?: number;
  /** How long e-mail lookups and DM channels are kept (default 10 min). */
  lookupTtlMs?: number;
  now?: () => number;
}

/** Who a Slack user is to Countersign, for one request. */
export interface SlackIdentity {
  /** The approver id the workflow checks: a person id, an excluded reference, or `slack:<user id>`. */
  approver: string;
  /**
   * The Slack user groups the user belongs to now among every group the request's requirements list, escalation
   * targets included: the workflow counts only those eligible when the decision arrives.
   */
  usergroups: string[];
  /** True when the user is a person of the config. */
  person: boolean;
}

const SLACK_USER = /^[UW][A-Z0-9]{2,20}$/;

/** The Slack directory over a Web API client. */
export function createSlackDirectory(deps: SlackDirectoryDeps) {
  const now = deps.now ?? Date.now;
  const usergroupTtl = deps.usergroupTtlMs ?? 60_000;
  const lookupTtl = deps.lookupTtlMs ?? 600_000;
  const personBySlack = new Map<string, string>();
  for (const [id, person] of Object.entries(deps.config.people)) if (person.slack) personBySlack.set(person.slack, id);

  const cache = <T>(ttl: number) => {
    const entries = new Map<string, { value: Promise<T>; until: number }>();
    return (key: string, load: () => Promise<T>): Promise<T> => {
      const hit = entries.get(key);
      if (hit && hit.until > now()) return hit.value;
      if (entries.size > 5000) entries.clear();
      const value = load();
      entries.set(key, { value, until: now() + ttl });
      // A failed lookup is not remembered: the next click asks Slack again.
      value.catch(() => entries.delete(key));
      return value;
    };
  };
  const emails = cache<string | undefined>(lookupTtl);
  const groups = cache<string[]>(usergroupTtl);
  const dms = cache<string>(lookupTtl);

  /** The Slack user id of an e-mail address, or undefined when Slack knows none. */
  function slackIdForEmail(email: string): Promise<string | undefined> {
    return emails(email.toLowerCase(), async () => {
      try {
        const res = await deps.client.users.lookupByEmail({ email });
        return res.user?.id;
      } catch (err) {
        if (platformError(err) === 'users_not_found') return undefined;
        throw err;
      }
    });
  }

  /** A person's Slack user id: from the config, else looked up by their e-mail. */
  async function slackIdOfPerson(personId: string): Promise<string | undefined> {
    const person = deps.config.people[personId];
    if (!person) return undefined;
    if (person.slack) return person.slack;
    return person.email ? slackIdForEmail(person.email) : undefined;
  }

  /** Members of a Slack user group (cached briefly: membership is checked at decision time). */
  function usergroupMembers(usergroup: string): Promise<string[]> {
    return groups(usergroup, async () => {
      const res = await deps.client.usergroups.users.list({ usergroup });
      return res.users ?? [];
    });
  }

  /** The DM channel with a user, opened once and remembered. */
  function dmChannel(user: string): Promise<string> {
    return dms(user, async () => {
      const res = await deps.client.conversations.open({ users: user });
      const id = res.channel?.id;
      if (!id) throw new Error('conversations.open returned no channel');
      return id;
    });
  }

  /**
   * Slack users who may never decide this request (the agent's owner, the person it acts for), each mapped to the
   * reference the workflow excludes. Throws when Slack cannot answer: callers then refuse to decide (fail closed).
   */
  async function excludedSlackUsers(facts: Pick<RequestFacts, 'agent' | 'onBehalfOf'>): Promise<Map<string, string>> {
    const refs = excludedApprovers(deps.config, facts.agent.owner, facts.onBehalfOf);
    // The lookups run at once (each is cached); the first reference of a Slack user wins, as the config lists them.
    const slackIds = await Promise.all(
      refs.map(async (ref): Promise<string | undefined> => {
        if (ref in deps.config.people) return slackIdOfPerson(ref);
        if (SLACK_USER.test(ref)) return ref;
        if (ref.includes('@')) return slackIdForEmail(ref);
        return undefined;
      }),
    );
    const out = new Map<string, string>();
    refs.forEach((ref, i) => {
      const slackId = slackIds[i];
      if (slackId && !out.has(slackId)) out.set(slackId, ref);
    });
    return out;
  }

  /**
   * Maps a clicking Slack user to the approver identity and user-group attestations for one request, from facts that do
   * not change while it runs. Membership is attested for every user group any requirement lists, escalation targets
   * included, so no read of the current state is needed: the workflow counts an attestation only for a group eligible
   * when the decision arrives. Throws when Slack cannot answer (fail closed).
   */
  async function identify(slackUser: string, facts: RequestFacts): Promise<SlackIdentity> {
    const requirements = facts.decision.approvals;
    const candidates = eligibleUsergroups(requirements, new Set(requirements.map((r) => r.ruleId)));
    const [excludedUsers, memberOf] = await Promise.all([
      excludedSlackUsers(facts),
      Promise.all(candidates.map(async (g) => (await usergroupMembers(g)).includes(slackUser))),
    ]);
    const excluded = excludedUsers.get(slackUser);
    const person = personBySlack.get(slackUser);
    // An excluded match wins: the workflow then refuses it as self-approval by its own rule.
    const approver = excluded ?? person ?? `slack:${slackUser}`;
    const usergroups = candidates.filter((_, i) => memberOf[i]);
    return { approver, usergroups, person: person !== undefined };
  }

  /** The approver id of a Slack user regardless of any request (App Home, slash command). */
  function approverIdOf(slackUser: string): string | undefined {
    return personBySlack.get(slackUser);
  }

  return { slackIdForEmail, slackIdOfPerson, usergroupMembers, dmChannel, excludedSlackUsers, identify, approverIdOf };
}

export type SlackDirectory = ReturnType<typeof createSlackDirectory>;

/** The `error` of a Slack platform error (`ok: false`), if that is what `err` is. */
export function platformError(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, data } = err as { code?: unknown; data?: { error?: unknown } };
  return code === 'slack_webapi_platform_error' && typeof data?.error === 'string' ? data.error : undefined;
}
