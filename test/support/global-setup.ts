// Starts one real Temporal dev server (the resolved Temporal CLI) and builds the workflow bundle once for all suites.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { WORKFLOW_BUNDLE_OPTIONS } from '../../src/temporal/worker';
import { startLocalTemporal } from './local-temporal';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
  }
}

let env: TestWorkflowEnvironment | undefined;

export async function setup(project: TestProject): Promise<void> {
  env = await startLocalTemporal();
  const { code } = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: quietLogger });
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
