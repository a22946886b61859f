// `countersign dev` (what `npm start` runs): everything in one process tree. The persisted Temporal dev server (unless
// TEMPORAL_ADDRESS is set), the example billing stand-in when the config points at it, the control and connector
// workers, and the HTTP API. Ctrl-C stops them in reverse order; the dev server's SQLite file keeps pending requests.
import { setFlagsFromString } from 'node:v8';
import { EXAMPLE_CONFIG_PATH } from '../config/load';
import { colocatedTaskQueues, DEFAULT_TASK_QUEUES } from '../contracts/task-queues';
import { readEnvironmentVariable, type Settings } from '../config/settings';
import { createExecutionStarts } from '../execution-starts';
import type { Logger } from '../logger';
import { BILLING_TOKEN_VARIABLE, startBillingService, type BillingService } from '../../examples/billing-service';
import { createApiStack, startApi } from './api';
import { devBanner } from './banner';
import { loadCore, type Core } from './core';
import { billingStandInHost, BILLING_DEFAULT_PORT, devConfigTransform } from './dev-config';
import { devOperatorTokensDir, ensureDevOperators } from './dev-identity';
import { generateToken } from './dev-secrets';
import { openIdentityRuntime } from './identity';
import { runShutdown, waitForStopSignal, type ShutdownStep } from './lifecycle';
import { temporalSdkMetricsSource } from './metrics-server';
import { connectTemporal, requireNative } from './temporal';
import { startOrConnectTemporal, type TemporalEndpoint } from './temporal-endpoint';
import { startProcessTracing } from './tracing';
import { createOverlayCredentialResolver, startWorkers } from './workers';

/** One process serves the workflows and every connector, so connectors share the control queue. */
const DEV_TASK_QUEUES = colocatedTaskQueues(DEFAULT_TASK_QUEUES);

export interface DevOptions {
  settings: Settings;
  logger: Logger;
  /**
   * The config, loaded with devConfigTransform (the CLI does): calls to the billing stand-in already name its port.
   * A core loaded without it is loaded again here when the stand-in moves.
   */
  core: Core;
  /** Progress for a person watching start-up (resolving or building the Temporal CLI, say). */
  progress: (message: string) => void;
  /** Where the banner goes. */
  print: (text: string) => void;
  /** Resolves when the process should stop; Ctrl-C / SIGTERM by default. */
  stopSignal?: Promise<unknown>;
  /**
   * The Temporal endpoint, already starting (the CLI spawns the dev server before it loads this module); started here
   * when absent. runDev owns it either way: it stops it on shutdown or when start-up fails.
   */
  temporal?: Promise<TemporalEndpoint>;
}

const BILLING_HOST = `127.0.0.1:${BILLING_DEFAULT_PORT}`;

/** Runs dev mode until the stop signal, then shuts everything down; resolves true when every step stopped cleanly. */
export async function runDev(options: DevOptions): Promise<boolean> {
  const { settings, logger, progress } = options;
  const billingPort = settings.COUNTERSIGN_BILLING_PORT;
  const transform = devConfigTransform(settings);
  // A second instance on the same machine moves the stand-in; the config's calls to it follow.
  const core =
    transform && usesBillingStandIn(options.core, BILLING_HOST)
      ? loadCore(settings, options.core.configPath, transform)
      : options.core;
  const withStandIn = usesBillingStandIn(core, billingStandInHost(settings));
  const stopSignal = options.stopSignal ?? waitForStopSignal();
  // Steps are pushed as things start and run in reverse, so a failure half-way still stops what did start.
  const steps: ShutdownStep[] = [];
  const shutdown = () => runShutdown([...steps].reverse(), logger);

  const starting = options.temporal ?? startOrConnectTemporal(settings, logger, progress);
  try {
    const tracing = await startProcessTracing(settings, 'dev', logger, steps).catch(async (err: unknown) => {
      await starting.then(
        (endpoint) => endpoint.stop(),
        () => undefined,
      );
      throw err;
    });
    // The registry, vault and receipt key (dev mode makes up the master key) open while the dev server comes up.
    const [temporalStarted, runtimeOpened] = await Promise.allSettled([
      starting,
      openIdentityRuntime({ settings, core, logger, devMode: true }),
    ]);
    if (temporalStarted.status === 'fulfilled') {
      const endpoint = temporalStarted.value;
      steps.push({ name: 'temporal dev server', run: () => endpoint.stop() });
    }
    if (runtimeOpened.status === 'fulfilled') {
      const opened = runtimeOpened.value;
      steps.push({ name: 'identity database', run: () => opened.close() });
    }
    if (temporalStarted.status === 'rejected') throw temporalStarted.reason;
    if (runtimeOpened.status === 'rejected') throw runtimeOpened.reason;
    const temporal = temporalStarted.value;
    const runtime = runtimeOpened.value;
    // Every person gets an operator token.
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

    // The Slack app and the connector workers share this process: an approval's confirmation waits for its execution.
    const executionStarts = createExecutionStarts();
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
      executionStarts,
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
      executionStarts,
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
    // Started: from here V8 favours a small heap over speed, in this thread and the workflow thread alike, where the
    // objects of every evicted parked request wait for a collection (docs/performance.md). Set at launch instead,
    // its small young generation would slow the start by about a second.
    setFlagsFromString('--optimize-for-size');

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

/** True when a connector of the config calls the example billing stand-in at `host`. */
function usesBillingStandIn(core: Core, host: string): boolean {
  return Object.values(core.config.connectors).some((c) => c.allowedHosts.includes(host));
}
