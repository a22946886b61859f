// The production processes: `countersign api` and `countersign worker`, separate and scaled out on their own, both
// against the Temporal cluster at TEMPORAL_ADDRESS.
import type { Settings } from '../config/settings';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { createMetrics } from '../metrics';
import { createApiStack, startApi } from './api';
import type { Core } from './core';
import { openIdentityRuntime } from './identity';
import { runShutdown, waitForStopSignal, type ShutdownStep } from './lifecycle';
import { startMetricsServer, temporalSdkMetricsSource } from './metrics-server';
import { createNotifications } from './notifications';
import { connectTemporal, requireNative } from './temporal';
import { startProcessTracing } from './tracing';
import { startWorkers } from './workers';

export interface ProcessOptions {
  settings: Settings;
  core: Core;
  logger: Logger;
  stopSignal?: Promise<unknown>;
}

export interface WorkerProcessOptions extends ProcessOptions {
  /** Run the control worker (workflows, re-check, notifications). */
  control: boolean;
  /** Connector credential domains to serve; every connector in the config when undefined. */
  connectors?: readonly string[];
}

/** Runs the HTTP API until stopped. */
export async function runApiProcess(options: ProcessOptions): Promise<boolean> {
  const { settings, core, logger } = options;
  const address = requireTemporalAddress(settings);
  const stopSignal = options.stopSignal ?? waitForStopSignal();
  const steps: ShutdownStep[] = [];
  try {
    const tracing = await startProcessTracing(settings, 'api', logger, steps);
    warnUnsharedReceiptKey(settings, logger);
    const runtime = await openIdentityRuntime({ settings, core, logger, devMode: false });
    steps.push({ name: 'identity database', run: () => runtime.close() });
    const connections = await connectTemporal({
      address,
      namespace: settings.TEMPORAL_NAMESPACE,
      forWorkers: false,
      dataConverter: runtime.dataConverter,
      ...(tracing ? { clientInterceptors: tracing.clientInterceptors } : {}),
    });
    steps.push({ name: 'temporal connection', run: () => connections.close() });
    const { service, metrics, notifications } = await createApiStack({
      settings,
      core,
      client: connections.client,
      logger,
      policyExtras: runtime.policyExtras,
      refusals: runtime.usage.refusals,
      sealedParams: runtime.sealedParams,
      steps,
      shared: { replays: runtime.replicaState.slackReplays, channelPace: runtime.replicaState.channelPace },
    });
    if (!settings.COUNTERSIGN_ADMIN_TOKEN && (await runtime.identity.operators.list()).length === 0) {
      logger.warn('no operator exists and COUNTERSIGN_ADMIN_TOKEN is not set: nobody can create the first operator');
    }
    const api = await startApi({
      core,
      settings,
      client: connections.client,
      logger,
      service,
      metrics,
      notifications,
      adminToken: settings.COUNTERSIGN_ADMIN_TOKEN,
      identity: runtime,
      temporalUiUrl: settings.TEMPORAL_UI_URL,
    });
    steps.push({ name: 'http server', run: () => api.close() });
    await stopSignal;
  } catch (err) {
    await runShutdown([...steps].reverse(), logger);
    throw err;
  }
  return runShutdown([...steps].reverse(), logger);
}

/** Runs the control worker and/or connector workers until stopped. */
export async function runWorkerProcess(options: WorkerProcessOptions): Promise<boolean> {
  const { settings, core, logger } = options;
  const address = requireTemporalAddress(settings);
  const unknown = (options.connectors ?? []).filter((c) => !(c in core.config.connectors));
  if (unknown.length > 0) {
    throw new AppError('config_invalid', 'unknown connector in --queues', {
      errors: unknown.map((c) => ({
        path: 'queues',
        message: `"${c}" is not a connector; known: ${Object.keys(core.config.connectors).join(', ') || 'none'}`,
      })),
    });
  }
  const stopSignal = options.stopSignal ?? waitForStopSignal();
  const steps: ShutdownStep[] = [];
  try {
    const tracing = await startProcessTracing(settings, 'worker', logger, steps);
    warnUnsharedReceiptKey(settings, logger);
    const runtime = await openIdentityRuntime({ settings, core, logger, devMode: false });
    steps.push({ name: 'identity database', run: () => runtime.close() });
    const connections = await connectTemporal({
      address,
      namespace: settings.TEMPORAL_NAMESPACE,
      forWorkers: true,
      dataConverter: runtime.dataConverter,
      ...(tracing ? { clientInterceptors: tracing.clientInterceptors } : {}),
    });
    steps.push({ name: 'temporal connections', run: () => connections.close() });
    const metrics = createMetrics({
      temporalSdkMetrics: temporalSdkMetricsSource(settings.COUNTERSIGN_TEMPORAL_METRICS_ADDRESS, logger),
    });
    const metricsServer = await startMetricsServer({
      host: settings.HOST,
      port: settings.COUNTERSIGN_METRICS_PORT,
      metrics,
      logger,
    });
    steps.push({ name: 'metrics server', run: () => metricsServer.close() });
    const notifications = await createNotifications({
      settings,
      config: core.config,
      logger,
      metrics,
      shared: { channelPace: runtime.replicaState.channelPace },
    });
    steps.push({ name: 'notifications', run: () => notifications.close() });
    const workers = await startWorkers({
      core,
      connection: requireNative(connections.native),
      namespace: settings.TEMPORAL_NAMESPACE,
      logger,
      notifier: notifications.notifier,
      control: options.control,
      connectors: options.connectors,
      metrics,
      ...(tracing ? { tracing: tracing.worker } : {}),
      // A worker holds only the vault secrets of the credential domains it serves.
      ...runtime.workerDeps({ connectors: options.connectors ?? Object.keys(core.config.connectors) }),
    });
    steps.push({ name: 'workers', run: () => workers.shutdown() });
    await Promise.race([stopSignal, workers.done]);
  } catch (err) {
    await runShutdown([...steps].reverse(), logger);
    throw err;
  }
  return runShutdown([...steps].reverse(), logger);
}

/** Receipts verify only if the API publishes the key the workers sign with; a generated key is per data directory. */
function warnUnsharedReceiptKey(settings: Settings, logger: Logger): void {
  if (settings.COUNTERSIGN_RECEIPT_KEY || settings.COUNTERSIGN_RECEIPT_KEY_FILE) return;
  logger.warn(
    { dataDir: settings.COUNTERSIGN_DATA_DIR },
    'COUNTERSIGN_RECEIPT_KEY is not set: receipts are signed with a key kept in the data directory; API and workers ' +
      'that do not share it publish and sign with different keys',
  );
}

function requireTemporalAddress(settings: Settings): string {
  if (settings.TEMPORAL_ADDRESS) return settings.TEMPORAL_ADDRESS;
  throw new AppError('config_invalid', 'TEMPORAL_ADDRESS is not set', {
    errors: [
      {
        path: 'TEMPORAL_ADDRESS',
        message: 'api and worker run against a Temporal cluster (host:port); `countersign dev` starts one for you',
      },
    ],
  });
}
