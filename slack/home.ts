// Publishes an approver's App Home tab: requests waiting for them and their recent decisions.
import type { CountersignConfig } from '../src/config/schema';
import type { Logger } from '../src/logger';
import { buildAppHome } from './blocks/app-home';
import type { SlackDirectory } from './directory';
import type { SlackRequestGateway } from './requests';
import type { WebClient } from './web-client';

export interface HomeDeps {
  config: CountersignConfig;
  logger: Logger;
  gateway: SlackRequestGateway;
  directory: SlackDirectory;
  temporalUrl: (requestId: string) => string | undefined;
  /** How long after a publish a user's Home tab is taken to be possibly still open (default 10 min). */
  shownForMs?: number;
  now?: () => number;
}

/** Creates the publisher; `publish` never throws (a stale home tab is not worth failing a click over). */
export function createHomePublisher(deps: HomeDeps) {
  const log = deps.logger.child({ component: 'slack-home' });
  const now = deps.now ?? Date.now;
  const shownForMs = deps.shownForMs ?? 10 * 60_000;
  /** When this process last published each user's tab. */
  const shownAt = new Map<string, number>();
  /** Builds and publishes `slackUser`'s home tab, with an optional notice on top. */
  async function publish(client: WebClient, slackUser: string, notice?: string): Promise<void> {
    if (shownAt.size > 10_000) shownAt.clear();
    shownAt.set(slackUser, now());
    try {
      const approver = deps.directory.approverIdOf(slackUser);
      const [pending, recent] = approver
        ? await Promise.all([deps.gateway.pendingFor(approver, 20), deps.gateway.recentDecisionsOf(approver, 10)])
        : [[], []];
      const view = buildAppHome({
        pending: pending.map((state) => ({ state, temporalUrl: deps.temporalUrl(state.requestId) })),
        recent,
        people: deps.config.people,
        ...(notice ? { notice } : {}),
        known: approver !== undefined,
      });
      await client.views.publish({ user_id: slackUser, view });
    } catch (err) {
      log.warn({ slackUser, err: err instanceof Error ? err.message : String(err) }, 'app home not published');
    }
  }
  return {
    publish,
    /**
     * Republishes `slackUser`'s tab only when this process published it lately, so a tab that may still be open
     * stays current; any other is published fresh when its user next opens it (`app_home_opened`).
     */
    async refresh(client: WebClient, slackUser: string): Promise<void> {
      const at = shownAt.get(slackUser);
      if (at === undefined || now() - at > shownForMs) return;
      await publish(client, slackUser);
    },
  };
}

export type HomePublisher = ReturnType<typeof createHomePublisher>;
