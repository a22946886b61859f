// The API side of a process: the request service over the Temporal client, the HTTP app, and the server that listens.
// createHttpApp never listens; this module owns listen and a graceful close.
import type { Server } from 'node:http';
import type { PayloadCodec } from '@temporalio/common';
import type { AddressInfo } from 'node:net';
import type { SlackSharedState } from '../../slack/app';
import type { Settings } from '../config/settings';
import type { ExecutionStarts } from '../execution-starts';
import { createHttpApp } from '../http/app';
import type { CodecHttp } from '../http/codec-routes';
import { createApiKeyAuthenticator, type Authenticator } from '../http/auth';
import { createHttpServer } from '../http/input-limits';
import { createReadiness } from '../http/readiness';
import type { Logger } from '../logger';
import { combineObservers, createMetrics, type Metrics, type MetricsOptions } from '../metrics';
import { createRequestService, type RequestService, type RequestServiceDeps } from '../requests';
import type { Client } from '../temporal/adapter';
import { countPendingByGroup } from '../temporal/adapter';
import { DEFAULT_TASK_QUEUES, type TaskQueues } from '../temporal/worker';
import type { RefusalRecorder } from '../usage';
import type { Core } from './core';
import type { IdentityRuntime } from './identity';
import type { ShutdownStep } from './lifecycle';
import { createNotifications, type Notifications } from './notifications';

/** How long in-flight requests get to finish when the server closes. */
const CLOSE_GRACE_MS = 3000;

export interface ApiServices {
  service: RequestService;
  metrics: Metrics;
}

/** What an API process serves from: the request service, its metrics and the notifications (Slack when configured). */
export async function createApiStack(options: {
  settings: Settings;
  core: Core;
  client: Client;
  logger: Logger;
  policyExtras?: RequestServiceDeps['policyExtras'];
  refusals?: RefusalRecorder;
  /** Where secret parameters are sealed at submit (the identity runtime's store). */
  sealedParams?: RequestServiceDeps['sealedParams'];
  /** Dev mode: starts go eagerly to the control worker of this process (TemporalConnections.eagerStarter). */
  eagerStarter?: Client;
  /** The queues requests are started for (default: the production ones, connectors on their own queues). */
  taskQueues?: TaskQueues;
  /** The notifications' shutdown step is added here. */
  steps: ShutdownStep[];
  /** Slack state shared with the other replicas (the identity runtime's replica state). */
  shared?: SlackSharedState;
  metricsOptions?: MetricsOptions;
  /** Dev mode: the workers of this process tell their executions' starts (see NotificationsDeps.executionStarts). */
  executionStarts?: ExecutionStarts;
}): Promise<ApiServices & { notifications: Notifications }> {
  const { service, metrics } = createApiServices(options);
  const notifications = await createNotifications({
    settings: options.settings,
    config: options.core.config,
    logger: options.logger,
    service,
    temporal: options.client,
    ...(options.shared ? { shared: options.shared } : {}),
    ...(options.executionStarts ? { executionStarts: options.executionStarts } : {}),
    metrics,
  });
  options.steps.push({ name: 'notifications', run: () => notifications.close() });
  return { service, metrics, notifications };
}

/** The request service over the Temporal client, observed by the metrics the API exposes. */
export function createApiServices(options: {
  core: Core;
  client: Client;
  logger: Logger;
  taskQueues?: TaskQueues;
  /** Extra CEL variables per decision (usage budgets, signals); rules reading them fail closed without. */
  policyExtras?: RequestServiceDeps['policyExtras'];
  /** Where agents' refusals are recorded for the boundary-testing signal (and counted in the metrics). */
  refusals?: RefusalRecorder;
  /** Where secret parameters are sealed at submit; without it a submit carrying one is refused. */
  sealedParams?: RequestServiceDeps['sealedParams'];
  /** Starts eagerly on this process's control worker (dev mode only). */
  eagerStarter?: Client;
  metricsOptions?: MetricsOptions;
}): ApiServices {
  const metrics = createMetrics(options.metricsOptions);
  options.refusals?.listen((kind) => metrics.agentRefusals.inc({ kind }));
  const service = createRequestService({
    client: options.client,
    config: options.core.config,
    catalog: options.core.catalog,
    policy: options.core.policy,
    taskQueues: options.taskQueues ?? DEFAULT_TASK_QUEUES,
    logger: options.logger,
    observer: options.refusals ? combineObservers(metrics.observer, options.refusals.observer) : metrics.observer,
    ...(options.policyExtras ? { policyExtras: options.policyExtras } : {}),
    ...(options.sealedParams ? { sealedParams: options.sealedParams } : {}),
    ...(options.eagerStarter ? { eagerStarter: options.eagerStarter } : {}),
  });
  return { service, metrics };
}

export interface StartApiOptions extends ApiServices {
  core: Core;
  settings: Settings;
  client: Client;
  logger: Logger;
  /** COUNTERSIGN_ADMIN_TOKEN: creates the first operator over the API, nothing else. */
  adminToken?: string;
  /** Agent identity: tokens, operators, kill switches, rate limits, receipts' public keys. */
  identity?: IdentityRuntime;
  /** Who callers are; by default the identity authenticator (without identity: the config's agent API keys). */
  authenticator?: Authenticator;
  notifications: Notifications;
  temporalUiUrl?: string;
  taskQueues?: TaskQueues;
  /** Dev mode's embedded UI: its codec calls from loopback need no operator token (it cannot send one). */
  codecTrustsLoopbackUi?: boolean;
}

export interface RunningApi {
  url: string;
  /** Stops accepting connections, ends idle keep-alives and waits briefly for in-flight requests. */
  close(): Promise<void>;
}

/** Builds the HTTP app and listens on HOST:PORT. */
export async function startApi(options: StartApiOptions): Promise<RunningApi> {
  const { core, settings, logger, notifications } = options;
  const taskQueues = options.taskQueues ?? DEFAULT_TASK_QUEUES;
  const runtime = options.identity;
  const app = createHttpApp({
    service: options.service,
    authenticator:
      options.authenticator ?? runtime?.identity.authenticator ?? createApiKeyAuthenticator({ agents: core.agents }),
    ...(runtime
      ? {
          identity: {
            identity: runtime.identity,
            adminToken: options.adminToken,
            cancelInScope: (scope, input) =>
              runtime.identity.killSwitches.cancelInScope(options.service.temporal, scope, input),
            cancelProgress: (id) => options.service.temporal.operation(id),
          },
          receiptJwks: () => runtime.receipts.jwks(),
          ledger: runtime.ledger,
          ...(runtime.codec ? { codec: codecHttp(runtime.codec, settings, options) } : {}),
        }
      : {}),
    config: core.config,
    catalog: core.catalog,
    logger,
    metrics: options.metrics,
    readiness: createReadiness({
      temporal: options.service.temporal,
      ...(runtime ? { database: runtime.database } : {}),
    }),
    ...(notifications.slack ? { slack: notifications.slack } : {}),
    pendingByGroup: () => countPendingByGroup(options.client, taskQueues.control),
    links: {
      publicUrl: settings.COUNTERSIGN_PUBLIC_URL,
      temporalUiUrl: options.temporalUiUrl,
      namespace: settings.TEMPORAL_NAMESPACE,
    },
  });

  const server: Server = await new Promise((resolve, reject) => {
    const s = createHttpServer(app, {
      headerTimeoutMs: settings.COUNTERSIGN_HTTP_HEADER_TIMEOUT,
      bodyTimeoutMs: settings.COUNTERSIGN_HTTP_BODY_TIMEOUT,
    });
    s.once('error', reject);
    s.listen(settings.PORT, settings.HOST, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const host = settings.HOST === '0.0.0.0' || settings.HOST === '::' ? '127.0.0.1' : settings.HOST;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url }, 'API listening');

  return {
    url,
    async close() {
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Idle keep-alive sockets would hold close() open; a long poll (?wait=) gets a short grace, then is cut.
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
      });
    },
  };
}

/** The codec endpoint's settings: CORS for the configured Temporal UI (or the one links point at). */
function codecHttp(codec: PayloadCodec, settings: Settings, options: StartApiOptions): CodecHttp {
  const origin = settings.COUNTERSIGN_CODEC_CORS_ORIGIN ?? originOf(options.temporalUiUrl);
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(settings.HOST);
  return {
    codec,
    ...(origin ? { corsOrigin: origin } : {}),
    ...(options.codecTrustsLoopbackUi && loopback ? { trustLoopbackUi: true } : {}),
  };
}

function originOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
