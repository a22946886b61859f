// Temporal hands the workflow a cancellation's reason in the activation only; the SDK's cancellation error drops it.
// This internals interceptor keeps it so the request can record why it was cancelled. Registered as a workflow
// interceptor module (src/temporal/worker.ts); without it the reason is simply not known.
import type { WorkflowInterceptors } from '@temporalio/workflow';

// Module state is per workflow: the SDK instantiates workflow modules once per workflow execution.
let reason: string | undefined;

/** The reason of the Temporal cancellation this workflow received, if any was given. */
export function temporalCancelReason(): string | undefined {
  return reason;
}

/** The interceptors of this module (the SDK's `workflowInterceptorModules` contract). */
export const interceptors = (): WorkflowInterceptors => ({
  internals: [
    {
      activate(input, next) {
        for (const job of input.activation.jobs ?? []) {
          const given = job.cancelWorkflow?.reason;
          if (typeof given === 'string' && given.length > 0) reason = given;
        }
        next(input);
      },
    },
  ],
});
