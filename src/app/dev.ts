// `countersign dev` (what `npm start` runs): everything in one process tree. The persisted Temporal dev server (unless
// TEMPORAL_ADDRESS is set), the example billing stand-in when the config points at it, the control and connector
// workers, and the HTTP API. Ctrl-C stops them in reverse order; the dev server's SQLite file keeps pending requests.
import { EXAMPLE_CONFIG_PATH } from '../config/load';
import { colocatedTaskQueues, DEFAULT_TASK_QUEUES } from '../contracts/task-queues';
import { readEnvironmentVariable, type Settings } from '../config/settings';
import type { Logger } from '../logger';
import {
  BILLING_DEFAULT_PORT,
  BILLING_TOKEN_VARIABLE,
  startBillingService,
  type BillingService,
} from '../../examples/billing-service';
import { createApiStack, startApi } from './api';
import { devBanner } from './banner';
import { loadCore, type Core } from './core';
import { devOperatorTokensDir, ensureDevOperators } from './dev-identity';
import { generateToken } from './dev-secrets';
import { openIdentityRuntime } from './identity';
import { runShutdown, waitForStopSignal, type ShutdownStep } from './lifecycle';
import { temporalSdkMetricsSource } from './metrics-server';
import { connectTemporal, requireNative, startOrConnectTemporal } from './temporal';
import { startProcessTracing } from './tracing';
import { createOverlayCredentialResolver, startWorkers } from './workers';

/** One process serves the workflows and every connector, so connectors share the control queue. */
const DEV_TASK_QUEUES = colocatedTaskQueues(DEFAULT_TASK_QUEUES);

export interface DevOptions {
  settings: Settings;
  core: Core;
  logger: Logger;
  /** Progress for a person watching start-up (resolving or building the Temporal CLI, say). */
  progress: (message: string) => void;
  /** Where the banner goes. */
  print: (text: string) => void;
  /** Resolves when the process should stop; Ctrl-C / SIGTERM by default. */
  stopSignal?: Promise<unknown>;
}

const BILLING_HOST = `127.0.0.1:${BILLING_DEFAULT_PORT}`;

/** Runs dev mode until the stop signal, then shuts everything down; resolves true when every step stopped cleanly. */
export async function runDev(options: DevOptions): Promise<boolean> {
  const { settings, logger, progress } = options;
  const billingPort = settings.COUNTERSIGN_BILLING_PORT;
  const withStandIn = usesBillingStandIn(options.core);
  // A second instance on the same machine moves the stand-in; the config's calls to it follow.
  const core =
    billingPort !== BILLING_DEFAULT_PORT && withStandIn
      ? loadCore(settings, options.core.configPath, (text) => text.replaceAll(BILLING_HOST, `127.0.0.1:${billingPort}`))
      : options.core;
  const stopSignal = options.stopSignal ?? waitForStopSignal();
  // Steps are pushed as things start and run in reverse, so a failure half-way still stops what did start.
  const steps: ShutdownStep[] = [];
  const shutdown = () => runShutdown([...steps].reverse(), logger);

  try {
    const tracing = await startProcessTracing(settings, 'dev', logger, steps);
    const temporal = await startOrConnectTemporal(settings, logger, progress);
    steps.push({ name: 'temporal dev server', run: () => temporal.stop() });

    // The registry, vault and receipt key; dev mode makes up the master key and gives every person an operator token.
    const runtime = await openIdentityRuntime({ settings, core, logger, devMode: true });
    steps.push({ name: 'identity database', run: () => runtime.close() });
    await ensureDevOperators(runtime.identity, core.config, settings.COUNTERSIGN_DATA_DIR, logger);

    let billing: BillingService | undefined;
    const overrides: Record<string, string> = {};
    if (withStandIn) {
      // The connector's credential: the configured one if set, else made up for this run and never shown.
      const token = readEnvironmentVariable(BILLING_TOKEN_VARIABLE) ?? generateToken('bill_dev');
      overrides[BILLING_TOKEN_VARIABLE] = token;
      // It refuses any call without a valid approval receipt, so an agent calling it directly gets nowhere.
      const standIn = await startBillingService({
        token,
        logger: logger.child({ component: 'billing-example' }),
        receipts: { keys: { jwks: runtime.receipts.jwks() }, audience: `http://127.0.0.1:${billingPort}` },
        port: billingPort,
      });
      steps.push({ name: 'billing stand-in', run: () => standIn.close() });
      billing = standIn;
    }

    const connections = await connectTemporal({
      address: temporal.address,
      namespace: settings.TEMPORAL_NAMESPACE,
      forWorkers: true,
      dataConverter: runtime.dataConverter,
      ...(tracing ? { clientInterceptors: tracing.clientInterceptors } : {}),
    });
    steps.push({ name: 'temporal connections', run: () => connections.close() });

    const { service, metrics, notifications } = await createApiStack({
      settings,
      core,
      client: connections.client,
      logger,
      policyExtras: runtime.policyExtras,
      refusals: runtime.usage.refusals,
      sealedParams: runtime.sealedParams,
      // API and control worker share this process: a submit hands the first workflow task straight to the worker.
      ...(connections.eagerStarter ? { eagerStarter: connections.eagerStarter } : {}),
      taskQueues: DEV_TASK_QUEUES,
      steps,
      shared: { replays: runtime.replicaState.slackReplays, channelPace: runtime.replicaState.channelPace },
      // One process: the API's /metrics carries the workers' metrics and the Temporal SDK's too.
      metricsOptions: {
        temporalSdkMetrics: temporalSdkMetricsSource(settings.COUNTERSIGN_TEMPORAL_METRICS_ADDRESS, logger),
      },
    });

    const workers = await startWorkers({
      core,
      connection: requireNative(connections.native),
      namespace: settings.TEMPORAL_NAMESPACE,
      logger,
      notifier: notifications.notifier,
      control: true,
      // Every connector runs in the control worker here: its activity is handed over eagerly, without a poll.
      taskQueues: DEV_TASK_QUEUES,
      legacyConnectorQueues: DEFAULT_TASK_QUEUES,
      metrics,
      ...(tracing ? { tracing: tracing.worker } : {}),
      ...runtime.workerDeps({
        connectors: Object.keys(core.config.connectors),
        fallback: createOverlayCredentialResolver(overrides),
      }),
      onOutcomeUnknown: (input) =>
        metrics.executionOutcomeUnknown.inc({ connector: input.connector, action: input.action }),
    });
    steps.push({ name: 'workers', run: () => workers.shutdown() });
    // A worker that dies on its own (a lost server, say) ends dev mode rather than leaving a half-running system.
    const workersFailed = workers.done.then(
      () => 'workers stopped',
      (err: unknown) => {
        logger.error({ err: err instanceof Error ? err.message : String(err) }, 'a worker failed');
        return 'worker failure';
      },
    );

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
      temporalUiUrl: temporal.uiUrl,
      codecTrustsLoopbackUi: !settings.TEMPORAL_ADDRESS,
    });
    steps.push({ name: 'http server', run: () => api.close() });

    options.print(
      devBanner({
        apiUrl: api.url,
        temporalUiUrl: temporal.uiUrl,
        namespace: settings.TEMPORAL_NAMESPACE,
        configPath: core.configPath,
        example: core.configPath === EXAMPLE_CONFIG_PATH,
        dataDir: settings.COUNTERSIGN_DATA_DIR,
        operatorTokensDir: devOperatorTokensDir(settings.COUNTERSIGN_DATA_DIR),
        billingUrl: billing?.url,
        approvals: notifications.channel,
        embeddedTemporal: !settings.TEMPORAL_ADDRESS,
      }),
    );

    const reason = await Promise.race([stopSignal.then(() => 'stop signal'), workersFailed]);
    logger.info({ reason }, 'stopping');
  } catch (err) {
    await shutdown();
    throw err;
  }
  return shutdown();
}

/** True when a connector of the config calls the example billing stand-in's loopback address. */
function usesBillingStandIn(core: Core): boolean {
  return Object.values(core.config.connectors).some((c) => c.allowedHosts.includes(BILLING_HOST));
}
