// `countersign dev` (what `npm start` runs): everything in one process tree. The persisted Temporal dev server (unless
// TEMPORAL_ADDRESS is set), the example billing stand-in when the config points at it, the control and connector
// workers, and the HTTP API. Ctrl-C stops them in reverse order; the dev server's SQLite file keeps pending requests.
import { EXAMPLE_CONFIG_PATH } from '../config/load';
import { readEnvironmentVariable, type Settings } from '../config/settings';
import type { Logger } from '../logger';
import {
  BILLING_DEFAULT_PORT,
  BILLING_TOKEN_VARIABLE,
  startBillingService,
  type BillingService,
} from '../../examples/billing-service';
import { createApiServices, startApi } from './api';
import { devBanner } from './banner';
import type { Core } from './core';
import { devAdminTokenPath, ensureDevAdminToken, generateToken } from './dev-secrets';
import { runShutdown, waitForStopSignal, type ShutdownStep } from './lifecycle';
import { createNotifications } from './notifications';
import { connectTemporal, requireNative, startOrConnectTemporal } from './temporal';
import { createOverlayCredentialResolver, startWorkers } from './workers';

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
  const { settings, core, logger, progress } = options;
  const stopSignal = options.stopSignal ?? waitForStopSignal();
  // Steps are pushed as things start and run in reverse, so a failure half-way still stops what did start.
  const steps: ShutdownStep[] = [];
  const shutdown = () => runShutdown([...steps].reverse(), logger);

  try {
    const temporal = await startOrConnectTemporal(settings, logger, progress);
    steps.push({ name: 'temporal dev server', run: () => temporal.stop() });

    const adminToken = settings.COUNTERSIGN_ADMIN_TOKEN ?? ensureDevAdminToken(settings.COUNTERSIGN_DATA_DIR);

    let billing: BillingService | undefined;
    const overrides: Record<string, string> = {};
    if (usesBillingStandIn(core)) {
      // The connector's credential: the configured one if set, else made up for this run and never shown.
      const token = readEnvironmentVariable(BILLING_TOKEN_VARIABLE) ?? generateToken('bill_dev');
      overrides[BILLING_TOKEN_VARIABLE] = token;
      const standIn = await startBillingService({ token, logger: logger.child({ component: 'billing-example' }) });
      steps.push({ name: 'billing stand-in', run: () => standIn.close() });
      billing = standIn;
    }

    const connections = await connectTemporal({
      address: temporal.address,
      namespace: settings.TEMPORAL_NAMESPACE,
      forWorkers: true,
    });
    steps.push({ name: 'temporal connections', run: () => connections.close() });

    const { service, metrics } = createApiServices({ core, client: connections.client, logger });
    const notifications = await createNotifications({
      settings,
      config: core.config,
      logger,
      service,
      temporal: connections.client,
    });
    steps.push({ name: 'notifications', run: () => notifications.close() });

    const workers = await startWorkers({
      core,
      connection: requireNative(connections.native),
      namespace: settings.TEMPORAL_NAMESPACE,
      logger,
      notifier: notifications.notifier,
      control: true,
      credentials: createOverlayCredentialResolver(overrides),
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
      adminToken,
      temporalUiUrl: temporal.uiUrl,
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
        adminTokenFile: settings.COUNTERSIGN_ADMIN_TOKEN ? undefined : devAdminTokenPath(settings.COUNTERSIGN_DATA_DIR),
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
