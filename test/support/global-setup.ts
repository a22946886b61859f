// Starts one real Temporal dev server (the resolved Temporal CLI) and builds the workflow bundle once for all suites.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { defaultCacheDir, loadSettings } from '../../src/config/settings';
import { SEARCH_ATTRIBUTES } from '../../src/contracts/names';
import { resolveTemporalCli } from '../../src/temporal/cli';
import { WORKFLOWS_PATH } from '../../src/temporal/worker';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
  }
}

let env: TestWorkflowEnvironment | undefined;

export async function setup(project: TestProject): Promise<void> {
  const settings = loadSettings();
  const cli = await resolveTemporalCli({
    explicitPath: settings.TEMPORAL_CLI_PATH,
    cacheDir: settings.COUNTERSIGN_CACHE_DIR ?? defaultCacheDir(),
    log: (m) => process.stderr.write(`${m}\n`),
  });
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      ...(cli ? { executable: { type: 'existing-path', path: cli.path } } : {}),
      ip: '127.0.0.1',
      searchAttributes: Object.values(SEARCH_ATTRIBUTES),
      extraArgs: ['--headless', '--log-level', 'error'],
    },
  });
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  const dir = mkdtempSync(join(tmpdir(), 'countersign-bundle-'));
  const bundlePath = join(dir, 'workflows.js');
  writeFileSync(bundlePath, code);
  project.provide('temporalAddress', env.address);
  project.provide('workflowBundlePath', bundlePath);
}

export async function teardown(): Promise<void> {
  await env?.teardown();
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };
