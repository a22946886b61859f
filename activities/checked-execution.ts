// The connector call with the re-check before it, as one activity, for a control worker that serves its connectors
// itself (dev mode): the request then executes in one activity task, handed to the worker eagerly, instead of a local
// activity followed by another task.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type {
  CheckedExecution,
  CheckedExecutionInput,
  ExecutionOutcome,
  RecheckInput,
  RecheckResult,
} from '../src/contracts/types';

/** The type of the failure that sends the workflow back to its own re-check, retried over the request's window. */
export const RECHECK_UNAVAILABLE = 'RecheckUnavailable';

/** `executeCheckedAction` over the control worker's re-check and the connector's execution. */
export function createCheckedExecution(parts: {
  recheckBeforeExecution(input: RecheckInput): Promise<RecheckResult>;
  executeConnectorAction(input: CheckedExecutionInput): Promise<ExecutionOutcome>;
}) {
  return {
    /**
     * Re-checks the agent's standing, the kill switch and the parameters, then calls the connector. Every attempt
     * re-checks: a kill switch turned on between retries stops the next one. A refusal after an earlier attempt says
     * so, as that attempt may have reached the downstream.
     */
    async executeCheckedAction(input: CheckedExecutionInput): Promise<CheckedExecution> {
      const attempt = Context.current().info.attempt;
      let recheck: RecheckResult;
      try {
        recheck = await parts.recheckBeforeExecution({
          requestId: input.requestId,
          agentId: input.agentId,
          action: input.action,
          params: input.params,
          paramsHash: input.paramsHash,
          approvedParamsHashes: input.approvedParamsHashes,
        });
      } catch (err) {
        // Standing unconfirmed. Before any call the workflow takes over with its windowed re-check; after one, this
        // attempt fails and is retried like a failed call (never sent unconfirmed).
        throw ApplicationFailure.create({
          type: RECHECK_UNAVAILABLE,
          message: `the re-check could not run: ${err instanceof Error ? err.message : String(err)}`,
          nonRetryable: attempt === 1,
        });
      }
      if (!recheck.ok) return { refused: recheck.reason, earlierAttempts: attempt - 1 };
      const startedAt = new Date().toISOString();
      return { startedAt, outcome: await parts.executeConnectorAction(input) };
    },
  };
}
