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
}

/** Creates the publisher; `publish` never throws (a stale home tab is not worth failing a click over). */
export function createHomePublisher(deps: HomeDeps) {
  const log = deps.logger.child({ component: 'slack-home' });
  return {
    /** Builds and publishes `slackUser`'s home tab, with an optional notice on top. */
    async publish(client: WebClient, slackUser: string, notice?: string): Promise<void> {
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
    },
  };
}

export type HomePublisher = ReturnType<typeof createHomePublisher>;
