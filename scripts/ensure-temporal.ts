// Makes sure a Temporal CLI is available before tests and benchmarks start (the first build takes minutes).
import { defaultCacheDir, loadSettings } from '../src/config/settings';
import { resolveTemporalCli } from '../src/temporal/cli';

const settings = loadSettings();
const resolved = await resolveTemporalCli({
  explicitPath: settings.TEMPORAL_CLI_PATH,
  cacheDir: settings.COUNTERSIGN_CACHE_DIR ?? defaultCacheDir(),
  log: (message) => process.stderr.write(`${message}\n`),
});
if (!resolved) {
  process.stderr.write('No Temporal CLI and no Go toolchain: the Temporal SDK will try to download the dev server.\n');
} else {
  process.stderr.write(`Temporal CLI: ${resolved.path} (${resolved.source})\n`);
}
