// The OpenTelemetry SDK of one process, installed only when tracing is on (src/app/tracing.ts loads this module then):
// a tracer provider exporting over OTLP/HTTP, the W3C propagator, and the Temporal interceptors that carry a request's
// trace through its workflow and activities. Workflow spans reach the processor through the worker's `exporter` sink.
import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { WorkerTracing } from '../temporal/worker';

export interface TracingOptions {
  /** `service.name` of the spans. */
  serviceName: string;
  /** The OTLP/HTTP traces URL (…/v1/traces). */
  url?: string;
  /** Headers of every export request (an API key of the tracing backend, say). */
  headers?: Record<string, string>;
  /** Export to this exporter instead, span by span (tests: an in-memory exporter). */
  exporter?: SpanExporter;
}

/** What the rest of the process plugs in: the Temporal client's and the workers' interceptors. */
export interface TracingRuntime {
  clientInterceptors: WorkflowClientInterceptor[];
  worker: WorkerTracing;
  /** Exports what is buffered and uninstalls the SDK. */
  shutdown(): Promise<void>;
}

/** Installs the SDK as this process's global tracer provider, context manager and propagator. */
export function startTracing(options: TracingOptions): TracingRuntime {
  const resource = new Resource({ 'service.name': options.serviceName });
  const processor: SpanProcessor = options.exporter
    ? new SimpleSpanProcessor(options.exporter)
    : new BatchSpanProcessor(
        new OTLPTraceExporter({ ...(options.url ? { url: options.url } : {}), headers: options.headers ?? {} }),
      );
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  // The default propagator: W3C trace context (traceparent, tracestate) and baggage.
  provider.register();
  return {
    clientInterceptors: [new OpenTelemetryWorkflowClientInterceptor()],
    worker: {
      activityInterceptors: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
      sinks: { exporter: makeWorkflowExporter(processor, resource) },
    },
    async shutdown() {
      try {
        await provider.shutdown();
      } finally {
        trace.disable();
        context.disable();
        propagation.disable();
      }
    },
  };
}
