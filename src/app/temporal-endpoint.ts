// The Temporal frontend a process uses: the cluster at TEMPORAL_ADDRESS, or the embedded dev server that `countersign
// dev` starts. Kept free of the Temporal SDK's modules so dev mode can spawn the dev server before it loads them: the
// server boots in its own process while this one loads the rest (the readiness probe loads the client when it runs).
import { join } from 'node:path';
import { defaultCacheDir, type Settings } from '../config/settings';
import { SEARCH_ATTRIBUTES } from '../contracts/names';
import type { Logger } from '../logger';
import { resolveTemporalCli } from '../temporal/cli';
import { devServerArgs, startDevServer } from '../temporal/dev-server';

/** A running Temporal frontend this process may use. */
export interface TemporalEndpoint {
  address: string;
  /** The Web UI, when known. */
  uiUrl?: string;
  /** Stops the server if this process started it; a no-op for an external cluster. */
  stop(): Promise<void>;
}

/** Uses TEMPORAL_ADDRESS when set; otherwise obtains the Temporal CLI and starts the persisted dev server. */
export async function startOrConnectTemporal(
  settings: Settings,
  logger: Logger,
  progress: (message: string) => void,
): Promise<TemporalEndpoint> {
  if (settings.TEMPORAL_ADDRESS) {
    return { address: settings.TEMPORAL_ADDRESS, uiUrl: settings.TEMPORAL_UI_URL, stop: () => Promise.resolve() };
  }
  const cacheDir = settings.COUNTERSIGN_CACHE_DIR ?? defaultCacheDir();
  const cli = await resolveTemporalCli({ explicitPath: settings.TEMPORAL_CLI_PATH, cacheDir, log: progress });
  const options = {
    dataDir: settings.COUNTERSIGN_DATA_DIR,
    port: settings.TEMPORAL_DEV_PORT,
    uiPort: settings.TEMPORAL_UI_PORT,
    namespace: settings.TEMPORAL_NAMESPACE,
    // The UI runs in the browser, which reaches the API on localhost; its codec decodes the sealed payloads.
    ...(settings.COUNTERSIGN_PAYLOAD_ENCRYPTION === 'on'
      ? { codecEndpoint: `http://localhost:${settings.PORT}/codec` }
      : {}),
  };
  if (cli) {
    progress(`Starting the Temporal dev server (${cli.source}: ${cli.path})…`);
    const server = await startDevServer({ ...options, cliPath: cli.path, logger });
    return { address: server.address, uiUrl: settings.TEMPORAL_UI_URL ?? server.uiUrl, stop: () => server.stop() };
  }
  progress('No Temporal CLI and no Go toolchain: downloading the Temporal dev server through the Temporal SDK…');
  return startDownloadedDevServer(settings, options, cacheDir);
}

/** The last resort, where the machine has internet: the SDK downloads the CLI and runs the same persisted server. */
async function startDownloadedDevServer(
  settings: Settings,
  options: { dataDir: string; port: number; uiPort: number; namespace: string },
  cacheDir: string,
): Promise<TemporalEndpoint> {
  // Loaded only here: tests and dev machines have it, production images (TEMPORAL_ADDRESS set) do not need it.
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const args = devServerArgs(options);
  const pragmas = args.flatMap((arg, i) => (arg === '--sqlite-pragma' ? ['--sqlite-pragma', args[i + 1] ?? ''] : []));
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download', downloadDir: join(cacheDir, 'temporal-download') },
      dbFilename: join(options.dataDir, 'temporal.sqlite'),
      ip: '127.0.0.1',
      port: options.port,
      ui: true,
      uiPort: options.uiPort,
      namespace: options.namespace,
      searchAttributes: Object.values(SEARCH_ATTRIBUTES),
      extraArgs: pragmas,
    },
  });
  return {
    address: env.address,
    uiUrl: settings.TEMPORAL_UI_URL ?? `http://localhost:${options.uiPort}`,
    stop: () => env.teardown(),
  };
}
