// A local Temporal dev server for tests, benchmarks and history recording, from the same CLI resolver `dev` uses.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { defaultCacheDir, loadSettings } from '../../src/config/settings';
import { SEARCH_ATTRIBUTES } from '../../src/contracts/names';
import { resolveTemporalCli } from '../../src/temporal/cli';
import { EAGER_ACTIVITY_ARGS } from '../../src/temporal/dev-server';

/**
 * Starts a dev server (search attributes registered, no UI) and returns the SDK's environment around it; in memory
 * unless `dbFilename` names its SQLite file.
 */
export async function startLocalTemporal(options: { dbFilename?: string } = {}): Promise<TestWorkflowEnvironment> {
  const settings = loadSettings();
  const cli = await resolveTemporalCli({
    explicitPath: settings.TEMPORAL_CLI_PATH,
    cacheDir: settings.COUNTERSIGN_CACHE_DIR ?? defaultCacheDir(),
    log: (m) => process.stderr.write(`${m}\n`),
  });
  return TestWorkflowEnvironment.createLocal({
    server: {
      ...(cli ? { executable: { type: 'existing-path', path: cli.path } } : {}),
      ip: '127.0.0.1',
      ...(options.dbFilename ? { dbFilename: options.dbFilename } : {}),
      searchAttributes: Object.values(SEARCH_ATTRIBUTES),
      extraArgs: ['--headless', '--log-level', 'error', ...EAGER_ACTIVITY_ARGS],
    },
  });
}
