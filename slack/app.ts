// The Slack app: Bolt 5 with one of two transports. HTTP mode mounts Bolt's ExpressReceiver on Countersign's own
// Express app (POST /slack/events, behind the request guard); Socket Mode, chosen when an app-level token is set,
// needs no public URL. Either way the same listeners run and the same notifier posts the approval messages.
import { App, ExpressReceiver } from '@slack/bolt';
import express, { type RequestHandler } from 'express';
import type { CountersignConfig } from '../src/config/schema';
import type { Settings } from '../src/config/settings';
import { AppError } from '../src/errors';
import type { ExecutionStarts } from '../src/execution-starts';
import type { Logger } from '../src/logger';
import type { Notifier } from '../src/notifier';
import { CONTROL_TASK_QUEUE } from '../src/contracts/names';
import { createTemporalAdapter, type Client } from '../src/temporal/adapter';
import { createSlackDirectory, type SlackDirectory } from './directory';
import { createHomePublisher } from './home';
import { temporalWorkflowUrl } from './links';
import { registerListeners } from './listeners';
import { createSlackLogger } from './logger';
import { createSlackNotifier } from './notifier';
import type { ChannelPaceStore } from './pacer';
import { createRequestFactsCache, type RequestFactsCache } from './request-facts';
import { createSlackRequestGuard, type ReplayMemory } from './request-guard';
import { createRequestGateway, type SlackRequestGateway } from './requests';
import {
  createSlackWebClient,
  slackClientOptions,
  type RetryOptions,
  type SlackApiErrorObserver,
  type WebClient,
} from './web-client';

/** The Slack part of the settings; undefined when SLACK_BOT_TOKEN is unset (approvals then go through API and CLI). */
export interface SlackSettings {
  botToken: string;
  signingSecret?: string;
  appToken?: string;
  apiUrl?: string;
  /** Base URL of the Temporal UI, for the "Open in Temporal" button. */
  temporalUiUrl?: string;
}

/** Reads the Slack settings; throws AppError('config_invalid') when a bot token comes with neither transport. */
export function slackSettings(settings: Settings): SlackSettings | undefined {
  if (!settings.SLACK_BOT_TOKEN) return undefined;
  if (!settings.SLACK_SIGNING_SECRET && !settings.SLACK_APP_TOKEN) {
    throw new AppError(
      'config_invalid',
      'Slack needs SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)',
      {
        errors: [
          { path: 'SLACK_SIGNING_SECRET', message: 'required with SLACK_BOT_TOKEN unless SLACK_APP_TOKEN is set' },
        ],
      },
    );
  }
  // The embedded dev server's UI listens on TEMPORAL_UI_PORT; against a cluster, only an explicit URL is known.
  const temporalUiUrl =
    settings.TEMPORAL_UI_URL ??
    (settings.TEMPORAL_ADDRESS ? undefined : `http://localhost:${settings.TEMPORAL_UI_PORT}`);
  return {
    botToken: settings.SLACK_BOT_TOKEN,
    ...(settings.SLACK_SIGNING_SECRET ? { signingSecret: settings.SLACK_SIGNING_SECRET } : {}),
    ...(settings.SLACK_APP_TOKEN ? { appToken: settings.SLACK_APP_TOKEN } : {}),
    ...(settings.SLACK_API_URL ? { apiUrl: settings.SLACK_API_URL } : {}),
    ...(temporalUiUrl ? { temporalUiUrl } : {}),
  };
}

/** Knobs tests shorten; production uses the defaults. */
export interface SlackTuning {
  retryConfig?: RetryOptions;
  timeoutMs?: number;
  perChannelIntervalMs?: number;
  usergroupTtlMs?: number;
  /** How long a decision may wait for the workflow's answer (default 10 s). */
  confirmTimeoutMs?: number;
  /** How long a state query may wait for a worker (default 5 s). */
  queryTimeoutMs?: number;
  /** Accepted clock difference of signed requests, in seconds (default 300). */
  toleranceSeconds?: number;
}

export interface SlackAppDeps {
  slack: SlackSettings;
  config: CountersignConfig;
  logger: Logger;
  /** The Temporal client (queries, decision signals, visibility). */
  temporal: Client;
  namespace: string;
  /** The control task queue, when several deployments share the namespace: App Home lists only this one's requests. */
  taskQueue?: string;
  tuning?: SlackTuning;
  /** Told of every failed or rate-limited Web API call, by method (the Slack errors metric). */
  onApiError?: SlackApiErrorObserver;
  /** Replay memory and channel pacing shared with the other replicas (the database); default: this process's. */
  shared?: SlackSharedState;
  /**
   * The fixed facts of requests seen by this process, which its clicks identify against (default: a cache of its own,
   * filled by this app's notifier and by its decisions). Pass the same cache to a worker notifier of the same process.
   */
  facts?: RequestFactsCache;
  /**
   * Starts of executions in this process (its connector workers tell them): an approval's confirmation to the clicker
   * waits for the execution it started. Absent: the connectors run elsewhere and nothing waits.
   */
  executionStarts?: ExecutionStarts;
}

/** What Slack state replicas share. */
export interface SlackSharedState {
  replays?: ReplayMemory;
  channelPace?: ChannelPaceStore;
}

export interface SlackApp {
  mode: 'http' | 'socket';
  /** HTTP mode: mount on POST /slack/events before any body parser. Undefined in Socket Mode. */
  handler?: RequestHandler;
  /** The notifier for the control worker's notification activities. */
  notifier: Notifier;
  client: WebClient;
  directory: SlackDirectory;
  gateway: SlackRequestGateway;
  /** Socket Mode: connects. HTTP mode: nothing to do (the API server listens). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the Slack app and its notifier. */
export function createSlackApp(deps: SlackAppDeps): SlackApp {
  const { slack, config, logger, tuning = {} } = deps;
  const clientOptions = {
    logger,
    ...(slack.apiUrl ? { apiUrl: slack.apiUrl } : {}),
    ...(tuning.retryConfig ? { retryConfig: tuning.retryConfig } : {}),
    ...(tuning.timeoutMs ? { timeoutMs: tuning.timeoutMs } : {}),
  };
  const client = createSlackWebClient({
    token: slack.botToken,
    ...clientOptions,
    ...(deps.onApiError ? { onApiError: deps.onApiError } : {}),
  });
  const temporalUrl = (id: string) => temporalWorkflowUrl(slack.temporalUiUrl, deps.namespace, id);
  const directory = createSlackDirectory({
    client,
    config,
    logger,
    ...(tuning.usergroupTtlMs !== undefined ? { usergroupTtlMs: tuning.usergroupTtlMs } : {}),
  });
  const facts = deps.facts ?? createRequestFactsCache();
  const gateway = createRequestGateway(
    createTemporalAdapter(deps.temporal, {
      taskQueue: deps.taskQueue ?? CONTROL_TASK_QUEUE,
      namespace: deps.namespace,
      ...(tuning.queryTimeoutMs !== undefined ? { queryTimeoutMs: tuning.queryTimeoutMs } : {}),
      ...(tuning.confirmTimeoutMs !== undefined ? { updateTimeoutMs: tuning.confirmTimeoutMs } : {}),
    }),
    facts,
  );
  const notifier = createSlackNotifier({
    client,
    writeClient: createSlackWebClient({ token: slack.botToken, ...clientOptions, unretried: true }),
    ...(tuning.retryConfig ? { retryConfig: tuning.retryConfig } : {}),
    directory,
    config,
    logger,
    temporalUrl,
    ...(tuning.perChannelIntervalMs !== undefined ? { perChannelIntervalMs: tuning.perChannelIntervalMs } : {}),
    ...(deps.shared?.channelPace ? { paceStore: deps.shared.channelPace } : {}),
    facts,
  });
  const home = createHomePublisher({ config, logger, gateway, directory, temporalUrl });
  const listenerDeps = {
    config,
    logger,
    gateway,
    directory,
    home,
    temporalUrl,
    decisions: { config, logger, gateway, directory },
    ...(deps.executionStarts ? { executionStarts: deps.executionStarts } : {}),
  };
  const slackLogger = createSlackLogger(logger);
  const common = { token: slack.botToken, logger: slackLogger, clientOptions: slackClientOptions(clientOptions) };

  if (slack.appToken) {
    // Bolt hands the Socket Mode client only the installer's client options: that is where SLACK_API_URL must go.
    const app = new App({
      ...common,
      appToken: slack.appToken,
      socketMode: true,
      installerOptions: { clientOptions: common.clientOptions },
    });
    registerListeners(app, listenerDeps);
    app.error(logListenerError(logger));
    return {
      mode: 'socket',
      notifier,
      client,
      directory,
      gateway,
      start: async () => {
        await app.start();
        logger.info('Slack connected over Socket Mode');
      },
      stop: async () => {
        await app.stop();
      },
    };
  }

  if (!slack.signingSecret) throw new AppError('config_invalid', 'Slack HTTP mode needs SLACK_SIGNING_SECRET');
  // Mounted either with app.post('/slack/events', handler) or app.use('/slack/events', handler): accept both paths.
  const router = express.Router();
  const receiver = new ExpressReceiver({
    signingSecret: slack.signingSecret,
    endpoints: { mounted: '/', direct: '/slack/events' },
    router,
    logger: slackLogger,
    processBeforeResponse: false,
  });
  const app = new App({ ...common, receiver });
  registerListeners(app, listenerDeps);
  app.error(logListenerError(logger));
  const handler = express.Router();
  handler.use(
    createSlackRequestGuard({
      signingSecret: slack.signingSecret,
      logger,
      ...(tuning.toleranceSeconds !== undefined ? { toleranceSeconds: tuning.toleranceSeconds } : {}),
      ...(deps.shared?.replays ? { replays: deps.shared.replays } : {}),
    }),
  );
  handler.use(receiver.router);
  return {
    mode: 'http',
    handler,
    notifier,
    client,
    directory,
    gateway,
    start: () => Promise.resolve(),
    stop: () => Promise.resolve(),
  };
}

/** A Slack notifier for a worker process that runs no Bolt app (the API and workers deployed apart). */
export function createSlackWorkerNotifier(deps: {
  slack: SlackSettings;
  config: CountersignConfig;
  logger: Logger;
  namespace: string;
  tuning?: Pick<SlackTuning, 'retryConfig' | 'timeoutMs' | 'perChannelIntervalMs' | 'usergroupTtlMs'>;
  shared?: Pick<SlackSharedState, 'channelPace'>;
  onApiError?: SlackApiErrorObserver;
  /** The facts cache of a Slack app in the same process, for its clicks (see SlackAppDeps.facts). */
  facts?: RequestFactsCache;
}): Notifier {
  const { slack, tuning = {} } = deps;
  const client = createSlackWebClient({
    token: slack.botToken,
    logger: deps.logger,
    ...(deps.onApiError ? { onApiError: deps.onApiError } : {}),
    ...(slack.apiUrl ? { apiUrl: slack.apiUrl } : {}),
    ...(tuning.retryConfig ? { retryConfig: tuning.retryConfig } : {}),
    ...(tuning.timeoutMs ? { timeoutMs: tuning.timeoutMs } : {}),
  });
  const directory = createSlackDirectory({ client, config: deps.config, logger: deps.logger });
  const writeClient = createSlackWebClient({
    token: slack.botToken,
    logger: deps.logger,
    ...(slack.apiUrl ? { apiUrl: slack.apiUrl } : {}),
    ...(tuning.timeoutMs ? { timeoutMs: tuning.timeoutMs } : {}),
    unretried: true,
  });
  return createSlackNotifier({
    client,
    writeClient,
    ...(tuning.retryConfig ? { retryConfig: tuning.retryConfig } : {}),
    directory,
    config: deps.config,
    logger: deps.logger,
    temporalUrl: (id) => temporalWorkflowUrl(slack.temporalUiUrl, deps.namespace, id),
    ...(tuning.perChannelIntervalMs !== undefined ? { perChannelIntervalMs: tuning.perChannelIntervalMs } : {}),
    ...(deps.shared?.channelPace ? { paceStore: deps.shared.channelPace } : {}),
    ...(deps.facts ? { facts: deps.facts } : {}),
  });
}

/** Bolt's global error handler: a failed listener is logged (the clicker already got an ack). */
function logListenerError(logger: Logger) {
  return (error: { message: string; code?: string }): Promise<void> => {
    logger.error({ err: error.message, code: error.code }, 'slack listener failed');
    return Promise.resolve();
  };
}
