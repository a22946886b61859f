// Starts one real Temporal dev server (the resolved Temporal CLI) and runs `npm run build` once for all suites: the
// CLI suites spawn the compiled bin, and the workflow suites and replay tests load the build's workflow bundle.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestProject } from 'vitest/node';
import { buildDist, WORKFLOW_BUNDLE } from '../../scripts/build';
import { startLocalTemporal } from './local-temporal';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
  }
}

let env: TestWorkflowEnvironment | undefined;

export async function setup(project: TestProject): Promise<void> {
  const [temporal] = await Promise.all([startLocalTemporal(), buildDist()]);
  env = temporal;
  project.provide('temporalAddress', env.address);
  project.provide('workflowBundlePath', WORKFLOW_BUNDLE);
}

export async function teardown(): Promise<void> {
  await env?.teardown();
}
