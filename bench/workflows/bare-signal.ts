// The baseline for the Slack click benchmark: a bare Temporal workflow that waits for one signal, then runs one activity
// (the same downstream call the connector makes) and completes. Nothing else: no query, no re-check, no notification.
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

interface BareSignalActivities {
  callDownstream(input: { url: string; key: string; body?: string }): Promise<number>;
}

/** Sent by the benchmark where Countersign would deliver a decision. */
export const goSignal = defineSignal('go');

const { callDownstream } = proxyActivities<BareSignalActivities>({ startToCloseTimeout: '30 seconds' });

/** Waits for `go` (at most `waitMs`), then calls one activity; returns -1 when no signal came. */
export async function bareSignalWorkflow(input: {
  url: string;
  key: string;
  body?: string;
  waitMs: number;
}): Promise<number> {
  let go = false;
  setHandler(goSignal, () => {
    go = true;
  });
  if (!(await condition(() => go, input.waitMs))) return -1;
  return callDownstream({ url: input.url, key: input.key, ...(input.body !== undefined ? { body: input.body } : {}) });
}
