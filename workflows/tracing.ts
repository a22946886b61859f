// OpenTelemetry inside the workflow: the run, each signal and update it handles, and each activity it schedules become
// spans of the request's trace (exported through the worker's `exporter` sink, never during replay). A workflow
// started without a trace context (tracing off, and every history recorded before tracing existed) runs exactly as
// without this module: no span, no header, no SDK flag, so its commands and its replay are unchanged.
// Registered as a workflow interceptor module (src/temporal/worker.ts).
// The OpenTelemetry modules are required only by a traced workflow: the SDK evaluates a bundle's modules afresh for
// every workflow execution, and theirs (semantic-convention tables among them) cost more CPU than an untraced request's
// whole run. The bundle still holds them; webpack evaluates a `require` when it is called.
import type * as OpenTelemetryWorkflow from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { WorkflowInterceptors } from '@temporalio/workflow';

declare const require: (id: '@temporalio/interceptors-opentelemetry/lib/workflow') => typeof OpenTelemetryWorkflow;

/** The header the Temporal OpenTelemetry client interceptor puts the caller's span context in. */
const TRACE_HEADER = '_tracer-data';

interface Traced {
  inbound: OpenTelemetryWorkflow.OpenTelemetryInboundInterceptor;
  outbound: OpenTelemetryWorkflow.OpenTelemetryOutboundInterceptor;
  internals: OpenTelemetryWorkflow.OpenTelemetryInternalsInterceptor;
}

// Module state is per workflow: the SDK instantiates workflow modules once per workflow execution.
let traced: Traced | undefined;

/** The interceptors of this module (the SDK's `workflowInterceptorModules` contract). */
export const interceptors = (): WorkflowInterceptors => ({
  inbound: [
    {
      execute(input, next) {
        if (!(TRACE_HEADER in input.headers)) return next(input);
        const {
          OpenTelemetryInboundInterceptor,
          OpenTelemetryInternalsInterceptor,
          OpenTelemetryOutboundInterceptor,
        } = require('@temporalio/interceptors-opentelemetry/lib/workflow');
        traced = {
          inbound: new OpenTelemetryInboundInterceptor(),
          outbound: new OpenTelemetryOutboundInterceptor(),
          internals: new OpenTelemetryInternalsInterceptor(),
        };
        return traced.inbound.execute(input, next);
      },
      handleSignal: (input, next) => (traced ? traced.inbound.handleSignal(input, next) : next(input)),
      handleUpdate: (input, next) => (traced ? traced.inbound.handleUpdate(input, next) : next(input)),
      validateUpdate: (input, next) => (traced ? traced.inbound.validateUpdate(input, next) : next(input)),
      // Queries are reads (every status poll is one): they stay out of the trace.
    },
  ],
  outbound: [
    {
      scheduleActivity: (input, next) => (traced ? traced.outbound.scheduleActivity(input, next) : next(input)),
      scheduleLocalActivity: (input, next) =>
        traced ? traced.outbound.scheduleLocalActivity(input, next) : next(input),
      getLogAttributes: (input, next) => (traced ? traced.outbound.getLogAttributes(input, next) : next(input)),
    },
  ],
  internals: [
    {
      dispose(input, next) {
        // The SDK's dispose is async only by signature: it disables the context manager and calls next at once.
        if (traced) void traced.internals.dispose(input, next);
        else next(input);
      },
    },
  ],
});
