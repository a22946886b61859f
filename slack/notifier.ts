// The Slack notifier: posts the approval message (to the group's channel, or a DM to each member), edits every copy
// as approvals arrive and when the request ends, and replies in the thread for reminders and escalations.
//
// Activities may be retried and may overlap (the first post does not block the workflow), so this module keeps, per
// request, the newest state it has seen and the messages it has posted: a retry reuses what already landed, and every
// edit renders the newest state, so a late or repeated call can never put an older picture back.
import { revisionOf } from '../src/contracts/lifecycle';
import {
  isTerminal,
  type NotifiedState,
  type NotificationRef,
  type NotifyApproversInput,
} from '../src/contracts/types';
import type { CountersignConfig } from '../src/config/schema';
import type { Logger } from '../src/logger';
import type { Notifier } from '../src/notifier';
import { buildApprovalMessage, type SlackMessage } from './blocks/approval-message';
import { mentionPerson, mentionUsergroup } from './blocks/people';
import { buildEscalationReply, buildReminderReply } from './blocks/thread-replies';
import { platformError, type SlackDirectory } from './directory';
import { createChannelPacer, type ChannelPacer, type ChannelPaceStore } from './pacer';
import type { RequestFactsCache } from './request-facts';
import { DEFAULT_RETRY, type RetryOptions, type WebClient } from './web-client';

export interface SlackNotifierDeps {
  client: WebClient;
  /**
   * The client for approval-message writes, without retries of its own (see `unretried`): each attempt, first or
   * retried, goes through the channel's pacing and re-reads the request first. Default: `client`.
   */
  writeClient?: WebClient;
  /** Backoff of the paced write retries (default: the client defaults, five attempts over about a minute). */
  retryConfig?: RetryOptions;
  directory: SlackDirectory;
  config: CountersignConfig;
  logger: Logger;
  /** Link to a request in the Temporal UI. */
  temporalUrl: (requestId: string) => string | undefined;
  /** Minimum gap between two writes to one channel (default 1,100 ms: Slack allows about one per second). */
  perChannelIntervalMs?: number;
  /** Where channel send slots are reserved (the shared database; default: this process's memory). */
  paceStore?: ChannelPaceStore;
  /** How long a finished request's messages are remembered (default 15 min). */
  retainMs?: number;
  /**
   * Where the fixed facts of each request notified are kept for this process's Slack clicks (identification without a
   * read of the request). Absent: none kept.
   */
  facts?: RequestFactsCache;
}

interface Tracked {
  state: NotifiedState;
  params?: Record<string, unknown>;
  /** Channel → message ts of every approval message posted for the request. */
  refs: Map<string, string>;
  inflight: Map<string, Promise<NotificationRef[]>>;
  touched: number;
}

/** Edits that can never succeed; they are logged and skipped instead of retried. */
const PERMANENT_EDIT_ERRORS = new Set([
  'message_not_found',
  'cant_update_message',
  'edit_window_closed',
  'channel_not_found',
  'is_archived',
]);

/** Creates the Slack notifier (the Notifier the control worker's activities call). */
export function createSlackNotifier(deps: SlackNotifierDeps): Notifier & { readonly pacer: ChannelPacer } {
  const pacer = createChannelPacer({
    intervalMs: deps.perChannelIntervalMs ?? 1_100,
    ...(deps.paceStore ? { store: deps.paceStore } : {}),
  });
  const retainMs = deps.retainMs ?? 15 * 60_000;
  const tracked = new Map<string, Tracked>();
  const log = deps.logger.child({ component: 'slack-notifier' });

  /** Records the newest state seen for a request; older snapshots (a late retry) never replace a newer one. */
  function remember(state: NotifiedState, params?: Record<string, unknown>, refs: NotificationRef[] = []): Tracked {
    sweep();
    let t = tracked.get(state.requestId);
    if (!t) {
      t = { state, params, refs: new Map(), inflight: new Map(), touched: Date.now() };
      tracked.set(state.requestId, t);
    } else if (isNewer(state, t.state)) {
      t.state = state;
    }
    if (params && !t.params) t.params = params;
    for (const r of refs) if (!t.refs.has(r.channel)) t.refs.set(r.channel, r.ts);
    t.touched = Date.now();
    return t;
  }

  function sweep(): void {
    const cutoff = Date.now() - retainMs;
    for (const [id, t] of tracked) {
      if (t.touched < cutoff && t.inflight.size === 0) tracked.delete(id);
    }
  }

  function render(t: Tracked): SlackMessage {
    const action = deps.config.actions[t.state.action];
    return buildApprovalMessage(t.state, t.params, {
      people: deps.config.people,
      actionDescription: action?.description,
      paramsSchema: action?.params,
      temporalUrl: deps.temporalUrl(t.state.requestId),
    });
  }

  function refsOf(t: Tracked): NotificationRef[] {
    return [...t.refs].map(([channel, ts]) => ({ channel, ts }));
  }

  /** Where a group's approval messages go: its channel, or the DM of each member who may decide. */
  async function destinations(group: string, state: NotifiedState): Promise<string[]> {
    const config = deps.config.approvers[group];
    if (!config) return [];
    if (config.slackChannel) return [config.slackChannel];
    const excluded = new Set((await deps.directory.excludedSlackUsers(state)).keys());
    const users = new Set<string>();
    for (const member of config.members) {
      const slackId = await deps.directory.slackIdOfPerson(member);
      if (slackId) users.add(slackId);
      else log.warn({ group, member }, 'approver has no Slack user; no direct message sent');
    }
    if (config.slackUsergroup)
      for (const u of await deps.directory.usergroupMembers(config.slackUsergroup)) users.add(u);
    const channels: string[] = [];
    for (const user of users) if (!excluded.has(user)) channels.push(await deps.directory.dmChannel(user));
    return channels;
  }

  const writer = deps.writeClient ?? deps.client;
  const retry = deps.retryConfig ?? DEFAULT_RETRY;

  /**
   * One write to a channel, retried with backoff; every attempt waits its turn in the channel's lane, so a retry
   * after a 500 or a 429 is spaced like any other write, and each attempt renders the newest state.
   */
  async function paced(channel: string, attempt: () => Promise<void>): Promise<void> {
    const retries = retry.retries ?? 0;
    for (let n = 0; ; n += 1) {
      try {
        await pacer.run(channel, attempt);
        return;
      } catch (err) {
        if (n >= retries || !retryableWrite(err)) throw err;
        await new Promise((r) => setTimeout(r, retryDelayMs(err, n)));
      }
    }
  }

  function retryDelayMs(err: unknown, n: number): number {
    const retryAfter = (err as { retryAfter?: unknown }).retryAfter;
    if (typeof retryAfter === 'number') return retryAfter * 1000;
    const base = (retry.minTimeout ?? 1_000) * (retry.factor ?? 2) ** n;
    return Math.min(base, retry.maxTimeout ?? 15_000);
  }

  async function post(t: Tracked, channel: string): Promise<void> {
    await paced(channel, async () => {
      if (t.refs.has(channel)) return;
      // Nothing to decide any more (the request ended, maybe while this post was being retried): no buttons.
      if (isTerminal(t.state.status)) return;
      const message = render(t);
      const res = await writer.chat.postMessage({ channel, ...message, unfurl_links: false, unfurl_media: false });
      if (!res.ts) throw new Error('chat.postMessage returned no ts');
      t.refs.set(res.channel ?? channel, res.ts);
      log.info({ requestId: t.state.requestId, channel: res.channel ?? channel }, 'approval message posted');
    });
  }

  async function edit(t: Tracked, ref: NotificationRef): Promise<void> {
    await paced(ref.channel, async () => {
      try {
        await writer.chat.update({ channel: ref.channel, ts: ref.ts, ...render(t) });
      } catch (err) {
        const code = platformError(err);
        if (code && PERMANENT_EDIT_ERRORS.has(code)) {
          log.warn(
            { requestId: t.state.requestId, channel: ref.channel, error: code },
            'approval message cannot be edited',
          );
          return;
        }
        throw err;
      }
    });
  }

  async function reply(ref: NotificationRef, message: { text: string; blocks: unknown[] }): Promise<void> {
    await paced(ref.channel, async () => {
      await writer.chat.postMessage({
        channel: ref.channel,
        thread_ts: ref.ts,
        text: message.text,
        blocks: message.blocks as never,
        unfurl_links: false,
        unfurl_media: false,
      });
    });
  }

  /** Posts to every channel, then throws if any failed, so the activity retries only what did not land. */
  async function settle(tasks: Promise<void>[]): Promise<void> {
    const results = await Promise.allSettled(tasks);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) {
      const first: unknown = failed[0]?.reason;
      throw new Error(
        `${failed.length} of ${results.length} Slack calls failed: ${first instanceof Error ? first.message : String(first)}`,
      );
    }
  }

  async function editAll(t: Tracked): Promise<void> {
    await settle(refsOf(t).map((ref) => edit(t, ref)));
  }

  async function requested(t: Tracked): Promise<NotificationRef[]> {
    const channels = new Set<string>();
    for (const r of t.state.requirements) for (const c of await destinations(r.group, t.state)) channels.add(c);
    await settle([...channels].map((c) => post(t, c)));
    // The state may have moved on while the posts waited in their lanes: bring every copy up to date.
    if (t.state.approvals.length > 0 || t.state.status !== 'pending_approval') await editAll(t);
    return refsOf(t);
  }

  async function reminder(t: Tracked, group: string): Promise<NotificationRef[]> {
    const own = new Set(await destinations(group, t.state));
    const refs = refsOf(t);
    const targets = refs.filter((r) => own.has(r.channel));
    const requirement = t.state.requirements.find((r) => r.group === group);
    const excluded = new Set((await deps.directory.excludedSlackUsers(t.state)).values());
    const waitingFor = (deps.config.approvers[group]?.members ?? []).filter(
      (m) => !excluded.has(m) && !requirement?.approvedBy.includes(m),
    );
    const mentions = waitingFor.map((m) => mentionPerson(m, deps.config.people)).filter((m) => m.startsWith('<@'));
    const message = buildReminderReply(t.state, group, mentions, deps.config.people);
    await settle((targets.length > 0 ? targets : refs).map((ref) => reply(ref, message)));
    return [];
  }

  async function escalated(t: Tracked, group: string): Promise<NotificationRef[]> {
    const config = deps.config.approvers[group];
    const mentions = [
      ...(config?.slackUsergroup ? [mentionUsergroup(config.slackUsergroup)] : []),
      ...(config?.members ?? []).map((m) => mentionPerson(m, deps.config.people)).filter((m) => m.startsWith('<@')),
    ].filter(Boolean);
    const message = buildEscalationReply(t.state, group, mentions, deps.config.people);
    await settle(refsOf(t).map((ref) => reply(ref, message)));
    // The escalation group may not see the original messages: give it its own copies.
    const fresh = (await destinations(group, t.state)).filter((c) => !t.refs.has(c));
    await settle(fresh.map((c) => post(t, c)));
    return refsOf(t);
  }

  /** Runs one notification once per process: a retried activity attempt joins the attempt still running. */
  function once(t: Tracked, key: string, work: () => Promise<NotificationRef[]>): Promise<NotificationRef[]> {
    const running = t.inflight.get(key);
    if (running) return running;
    const p = work().finally(() => t.inflight.delete(key));
    t.inflight.set(key, p);
    return p;
  }

  return {
    pacer,
    async notifyApprovers(input: NotifyApproversInput): Promise<NotificationRef[]> {
      // Before anything is posted, so a click on the message finds the facts here.
      if (input.state.status === 'pending_approval') deps.facts?.remember(input.state);
      const t = remember(input.state, input.params, input.refs);
      const key = `${input.kind}:${input.group ?? ''}:${revisionOf(input.state)}`;
      switch (input.kind) {
        case 'requested':
          return once(t, key, () => requested(t));
        case 'progress':
          return once(t, key, async () => {
            await editAll(t);
            return refsOf(t);
          });
        case 'reminder':
          return once(t, key, () => reminder(t, input.group ?? t.state.requirements[0]?.group ?? ''));
        case 'escalated':
          return once(t, key, () => escalated(t, input.group ?? ''));
      }
    },
    async notifyOutcome(input): Promise<void> {
      if (isTerminal(input.state.status)) deps.facts?.forget(input.state.requestId);
      const t = remember(input.state, input.params, input.refs);
      if (t.refs.size === 0) {
        log.info({ requestId: input.state.requestId, status: input.state.status }, 'no Slack message to update');
        return;
      }
      await once(t, `outcome:${revisionOf(input.state)}`, async () => {
        await editAll(t);
        return [];
      });
    },
  };
}

function isNewer(candidate: NotifiedState, current: NotifiedState): boolean {
  if (isTerminal(current.status) && !isTerminal(candidate.status)) return false;
  return revisionOf(candidate) >= revisionOf(current);
}

/** HTTP failures and rate limits are retried; Slack's own `ok: false` answers are not (they would fail again). */
function retryableWrite(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return (
    code === 'slack_webapi_rate_limited_error' ||
    code === 'slack_webapi_http_error' ||
    code === 'slack_webapi_request_error'
  );
}
