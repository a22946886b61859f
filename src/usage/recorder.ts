// The connector activity's execution recorder over the usage store: what budgets and volume signals count.
import type { ExecutionRecorder } from '../../activities/connectors';
import type { UsageStore } from './store';

/** An ExecutionRecorder for `ConnectorDeps.recorder`. */
export function createExecutionRecorder(store: UsageStore, now: () => Date = () => new Date()): ExecutionRecorder {
  return {
    async started(input) {
      await store.recordStarted({
        requestId: input.requestId,
        // Activities scheduled before agentId existed: still counted, under a name no agent can have.
        agentId: input.agentId ?? '(unknown)',
        action: input.action,
        params: input.params,
        at: now(),
      });
    },
    async finished(input, result) {
      await store.recordFinished(input.requestId, result, now());
    },
  };
}
