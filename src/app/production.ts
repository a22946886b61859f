// The production processes: `countersign api` and `countersign worker`, separate and scaled out on their own, both
// against the Temporal cluster at TEMPORAL_ADDRESS.
import type { Settings } from '../config/settings';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { createApiServices, startApi } from './api';
import type { Core } from './core';
import { runShutdown, waitForStopSignal, type ShutdownStep } from './lifecycle';
import { createNotifications } from './notifications';
import { connectTemporal, requireNative } from './temporal';
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
    const connections = await connectTemporal({ address, namespace: settings.TEMPORAL_NAMESPACE, forWorkers: false });
    steps.push({ name: 'temporal connection', run: () => connections.close() });
    const { service, metrics } = createApiServices({ core, client: connections.client, logger });
    const notifications = await createNotifications({
      settings,
      config: core.config,
      logger,
      service,
      temporal: connections.client,
    });
    steps.push({ name: 'notifications', run: () => notifications.close() });
    if (!settings.COUNTERSIGN_ADMIN_TOKEN)
      logger.warn('COUNTERSIGN_ADMIN_TOKEN is not set: the operator API is disabled');
    const api = await startApi({
      core,
      settings,
      client: connections.client,
      logger,
      service,
      metrics,
      notifications,
      adminToken: settings.COUNTERSIGN_ADMIN_TOKEN,
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
    const connections = await connectTemporal({ address, namespace: settings.TEMPORAL_NAMESPACE, forWorkers: true });
    steps.push({ name: 'temporal connections', run: () => connections.close() });
    const notifications = await createNotifications({ settings, config: core.config, logger });
    steps.push({ name: 'notifications', run: () => notifications.close() });
    const workers = await startWorkers({
      core,
      connection: requireNative(connections.native),
      namespace: settings.TEMPORAL_NAMESPACE,
      logger,
      notifier: notifications.notifier,
      control: options.control,
      connectors: options.connectors,
    });
    steps.push({ name: 'workers', run: () => workers.shutdown() });
    await Promise.race([stopSignal, workers.done]);
  } catch (err) {
    await runShutdown([...steps].reverse(), logger);
    throw err;
  }
  return runShutdown([...steps].reverse(), logger);
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
