// The baseline: a bare Temporal workflow that runs one activity (the same downstream call) and returns.
import { proxyActivities } from '@temporalio/workflow';

interface BareActivities {
  callDownstream(input: { url: string; key: string; body?: string }): Promise<number>;
}

const { callDownstream } = proxyActivities<BareActivities>({ startToCloseTimeout: '30 seconds' });

/** Starts, calls one activity, completes. */
export async function bareWorkflow(input: { url: string; key: string; body?: string }): Promise<number> {
  return callDownstream(input);
}
