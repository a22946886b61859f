// Readiness: Temporal answers and a worker polls the control task queue. Without a worker, requests would be accepted
// and then sit unprocessed, so the API reports not ready rather than take them.
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common';
import type { HttpDeps } from './app';

// temporal.api.enums.v1 values (TASK_QUEUE_KIND_NORMAL, TASK_QUEUE_TYPE_WORKFLOW); @temporalio/proto is not a direct
// dependency, so its enums are not imported.
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;
const CHECK_TIMEOUT_MS = 3_000;
/** The server keeps pollers listed for minutes after they stop; a live worker re-polls at least every ~70 s. */
const POLLER_FRESH_MS = 2 * 60_000;

/** A readiness probe over the Temporal client. */
export function createReadiness(opts: { client: Client; taskQueue: string; namespace: string }): HttpDeps['readiness'] {
  return async () => {
    const checks: Record<string, string> = {};
    let pollers: number;
    try {
      const response = await opts.client.connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () =>
        opts.client.workflowService.describeTaskQueue({
          namespace: opts.namespace,
          taskQueue: { name: opts.taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
          taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
        }),
      );
      const now = Date.now();
      pollers = (response.pollers ?? []).filter((p) => now - tsToMs(p.lastAccessTime) < POLLER_FRESH_MS).length;
      checks.temporal = 'ok';
    } catch (err) {
      checks.temporal = `unreachable: ${err instanceof Error ? err.message : String(err)}`;
      checks.worker = 'unknown';
      return { ready: false, checks };
    }
    checks.worker =
      pollers > 0 ? `ok (${pollers} poller${pollers === 1 ? '' : 's'})` : `no worker polling ${opts.taskQueue}`;
    return { ready: pollers > 0, checks };
  };
}
