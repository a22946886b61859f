// The hand-built baselines' workflows: what a team would write instead of Countersign. One starts and runs one activity
// (the downstream call); the other waits for an approval signal, then runs that activity. The activity runs on the task
// queue it is given, so the baseline keeps the same task-queue layout as the governed path it is compared with.
import { condition, proxyActivities, setHandler } from '@temporalio/workflow';
import { goSignal } from './bare-signal';

/** The downstream call, as the activity sends it. */
export interface DownstreamCall {
  url: string;
  key: string;
  body?: string;
}

interface HandBuiltActivities {
  callDownstream(input: DownstreamCall): Promise<number>;
}

function activities(taskQueue: string) {
  return proxyActivities<HandBuiltActivities>({ taskQueue, startToCloseTimeout: '30 seconds' });
}

/** Calls the downstream once on `activityQueue` and returns its status. */
export async function handBuiltWorkflow(input: { activityQueue: string; call: DownstreamCall }): Promise<number> {
  return activities(input.activityQueue).callDownstream(input.call);
}

/** Waits for `go` (at most `waitMs`), then calls the downstream once; returns -1 when no signal came. */
export async function handBuiltApprovalWorkflow(input: {
  activityQueue: string;
  call: DownstreamCall;
  waitMs: number;
}): Promise<number> {
  let go = false;
  setHandler(goSignal, () => {
    go = true;
  });
  if (!(await condition(() => go, input.waitMs))) return -1;
  return activities(input.activityQueue).callDownstream(input.call);
}
