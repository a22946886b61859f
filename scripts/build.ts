// `npm run build`: compiles the Node-side code to dist/ with esbuild (one ESM bundle per entry point, shared chunks,
// dependencies left in node_modules, source maps) and bundles the workflow code once into dist/workflow-bundle.js,
// which workers load instead of bundling the sources at every start. `--if-stale` skips the build when dist/ is newer
// than every source file (`npm start` checks that without tsx: scripts/build-if-stale.mjs). Test global setup calls
// buildDist() itself.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { build } from 'esbuild';
import { WORKFLOW_BUNDLE_OPTIONS } from '../src/temporal/worker';
import { distIsStale, STAMP, WORKFLOW_BUNDLE } from './build-if-stale.mjs';

export { distIsStale, WORKFLOW_BUNDLE };

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST = join(ROOT, 'dist');
/** The compiled entry points, by output name (dist/<name>.js). */
export const ENTRY_POINTS = {
  cli: 'src/cli/main.ts',
  'billing-service': 'examples/run-billing-service.ts',
} as const;

const quiet = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };
function noop(): void {}

/** Builds dist/ from scratch; resolves with the wall time in ms. */
export async function buildDist(): Promise<number> {
  const started = Date.now();
  rmSync(DIST, { recursive: true, force: true });
  mkdirSync(DIST, { recursive: true });
  await Promise.all([
    build({
      absWorkingDir: ROOT,
      entryPoints: ENTRY_POINTS,
      outdir: DIST,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20.19',
      packages: 'external',
      sourcemap: 'linked',
      chunkNames: 'chunks/[name]-[hash]',
      define: { COUNTERSIGN_COMPILED: 'true' },
      logLevel: 'warning',
    }),
    bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: quiet }).then(({ code }) =>
      writeFileSync(WORKFLOW_BUNDLE, code),
    ),
  ]);
  writeFileSync(STAMP, `${JSON.stringify({ builtAt: new Date().toISOString() })}\n`);
  return Date.now() - started;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--if-stale') && !distIsStale()) {
    process.stderr.write('dist/ is up to date\n');
  } else {
    const ms = await buildDist();
    process.stderr.write(`built dist/ in ${ms} ms\n`);
  }
}
