// How approvers hear about requests, chosen from settings. This is the seam for Slack: when Slack is configured, build
// the Slack notifier (used by the control worker) and the Bolt request handler (mounted by the API at /slack/events)
// here; both processes call createNotifications and take the half they need.
import type { Client } from '../temporal/adapter';
import type { RequestHandler } from 'express';
import type { SlackSharedState } from '../../slack/app';
import type { CountersignConfig } from '../config/schema';
import type { Settings } from '../config/settings';
import type { ExecutionStarts } from '../execution-starts';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { createLogNotifier, type Notifier } from '../notifier';
import type { RequestService } from '../requests';

export interface NotificationsDeps {
  settings: Settings;
  config: CountersignConfig;
  logger: Logger;
  /** The request service, for interactive approvals (only the API process has one). */
  service?: RequestService;
  /** The Temporal client, for Slack clicks, App Home and the slash command (only the API process passes it). */
  temporal?: Client;
  /** Slack replay memory and channel pacing shared by every replica (src/replica-state over the database). */
  shared?: SlackSharedState;
  /** Counts Slack Web API errors by method. */
  metrics?: Pick<Metrics, 'slackApiError'>;
  /** Starts of executions in this process, when its workers run the connectors (an approval's confirmation waits). */
  executionStarts?: ExecutionStarts;
}

export interface Notifications {
  /** Used by the control worker's notifyApprovers / notifyOutcome activities. */
  notifier: Notifier;
  /** Mounted by the HTTP app on POST /slack/events when present. */
  slack?: { handler: RequestHandler };
  /** Which channel approvals go through, for the start-up banner. */
  channel: 'log' | 'slack';
  /** Releases sockets (Socket Mode) and timers. */
  close(): Promise<void>;
}

/** Builds the notifier and, with Slack configured, its HTTP handler; without Slack, approvals go through API and CLI. */
export async function createNotifications(deps: NotificationsDeps): Promise<Notifications> {
  // Without a bot token there is no Slack (slackSettings says the same), and Bolt is not even loaded: it costs start-up.
  if (!deps.settings.SLACK_BOT_TOKEN) {
    return { notifier: createLogNotifier(deps.logger), channel: 'log', close: () => Promise.resolve() };
  }
  const { createSlackApp, createSlackWorkerNotifier, slackSettings } = await import('../../slack/app');
  const slack = slackSettings(deps.settings);
  if (!slack) {
    return { notifier: createLogNotifier(deps.logger), channel: 'log', close: () => Promise.resolve() };
  }
  const namespace = deps.settings.TEMPORAL_NAMESPACE;
  const metrics = deps.metrics;
  const onApiError = metrics ? (method: string, error: string) => metrics.slackApiError(method, error) : undefined;
  if (!deps.temporal) {
    // A worker-only process posts and edits the messages; the API process answers the clicks.
    const notifier = createSlackWorkerNotifier({
      slack,
      config: deps.config,
      logger: deps.logger,
      namespace,
      ...(deps.shared ? { shared: deps.shared } : {}),
      ...(onApiError ? { onApiError } : {}),
    });
    return { notifier, channel: 'slack', close: () => Promise.resolve() };
  }
  const app = createSlackApp({
    slack,
    config: deps.config,
    logger: deps.logger,
    temporal: deps.temporal,
    namespace,
    ...(deps.shared ? { shared: deps.shared } : {}),
    ...(onApiError ? { onApiError } : {}),
    ...(deps.executionStarts ? { executionStarts: deps.executionStarts } : {}),
  });
  await app.start();
  return {
    notifier: app.notifier,
    ...(app.handler ? { slack: { handler: app.handler } } : {}),
    channel: 'slack',
    close: () => app.stop(),
  };
}
