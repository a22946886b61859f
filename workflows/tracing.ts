// OpenTelemetry inside the workflow: the run, each signal and update it handles, and each activity it schedules become
// spans of the request's trace (exported through the worker's `exporter` sink, never during replay). A workflow
// started without a trace context (tracing off, and every history recorded before tracing existed) runs exactly as
// without this module: no span, no header, no SDK flag, so its commands and its replay are unchanged.
// Registered as a workflow interceptor module (src/temporal/worker.ts).
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { WorkflowInterceptors } from '@temporalio/workflow';

/** The header the Temporal OpenTelemetry client interceptor puts the caller's span context in. */
const TRACE_HEADER = '_tracer-data';

interface Traced {
  inbound: OpenTelemetryInboundInterceptor;
  outbound: OpenTelemetryOutboundInterceptor;
  internals: OpenTelemetryInternalsInterceptor;
}

// Module state is per workflow: the SDK instantiates workflow modules once per workflow execution.
let traced: Traced | undefined;

/** The interceptors of this module (the SDK's `workflowInterceptorModules` contract). */
export const interceptors = (): WorkflowInterceptors => ({
  inbound: [
    {
      execute(input, next) {
        if (!(TRACE_HEADER in input.headers)) return next(input);
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
