// Finds or obtains the Temporal CLI for the embedded dev server and the tests: TEMPORAL_CLI_PATH, `temporal` on PATH,
// a cached build, `go install` of a pinned release into the cache, else the SDK's own download (undefined here).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath, goInstall, isExecutable } from './go-build';

/** The newest Temporal CLI release whose module has no replace directive, so `go install` accepts it. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const MODULE = 'github.com/temporalio/cli/cmd/temporal';

export interface ResolveOptions {
  explicitPath?: string;
  cacheDir: string;
  pathEnv?: string;
  /** Progress messages for a person waiting. */
  log: (message: string) => void;
}

export interface ResolvedCli {
  path: string;
  source: 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'go install';
}

/** The cached binary's location for the pinned version. */
export function cachedCliPath(cacheDir: string): string {
  return join(cacheDir, 'temporal-cli', TEMPORAL_CLI_VERSION, 'temporal');
}

/** Returns a usable Temporal CLI, building it with Go when needed; undefined means: let the SDK download one. */
export async function resolveTemporalCli(options: ResolveOptions): Promise<ResolvedCli | undefined> {
  if (options.explicitPath) {
    if (!isExecutable(options.explicitPath))
      throw new Error(`TEMPORAL_CLI_PATH ${options.explicitPath} is not executable`);
    return { path: options.explicitPath, source: 'TEMPORAL_CLI_PATH' };
  }
  const onPath = findOnPath('temporal', options.pathEnv);
  if (onPath) return { path: onPath, source: 'PATH' };
  const cached = cachedCliPath(options.cacheDir);
  if (isExecutable(cached)) return { path: cached, source: 'cache' };
  const go = findOnPath('go', options.pathEnv);
  if (!go) return undefined;
  options.log(
    `Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go into ${cached} (first time only; this takes a few minutes)…`,
  );
  const bin = join(options.cacheDir, 'temporal-cli', TEMPORAL_CLI_VERSION);
  mkdirSync(bin, { recursive: true });
  await goInstall({
    go,
    packages: [`${MODULE}@${TEMPORAL_CLI_VERSION}`],
    gobin: bin,
    what: 'the Temporal CLI',
    log: options.log,
  });
  if (!isExecutable(cached)) throw new Error(`go install finished but ${cached} is missing`);
  options.log(`Temporal CLI built: ${cached}`);
  return { path: cached, source: 'go install' };
}
