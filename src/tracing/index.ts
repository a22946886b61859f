// Countersign's spans, written against the OpenTelemetry API only. Without the SDK (src/tracing/sdk.ts, loaded when
// OTEL_EXPORTER_OTLP_ENDPOINT is set) the API is a no-op and every helper here returns at once: no span, no header.
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';

export { SpanKind };

/** The tracer name of Countersign's own spans (the Temporal interceptors use their own). */
export const TRACER_NAME = 'countersign';

/** Names of Countersign's own spans (docs/tracing.md lists them with the Temporal interceptors' ones). */
export const SPAN_NAMES = {
  submit: 'countersign.submit',
  policy: 'countersign.policy.evaluate',
  approval: 'countersign.approval',
} as const;

/** The memo key that keeps a request's submit span context (a W3C traceparent: ids only) for its approvals. */
export const TRACE_MEMO_KEY = 'traceparent';

/**
 * True when a tracing SDK is installed. The SDK installs the W3C propagator with its provider and removes it on
 * shutdown; the API's default (no-op) propagator has no fields.
 */
export function tracingEnabled(): boolean {
  return propagation.fields().length > 0;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent: a W3C traceparent (a stored request trace); the active context when absent. */
  parent?: string;
  /** Spans this one relates to without being their child (the operator's HTTP call behind an approval, say). */
  links?: Link[];
}

/** Runs `fn` inside a new active span, ended when `fn` settles (errors recorded); just runs `fn` without tracing. */
export async function inSpan<T>(name: string, options: SpanOptions, fn: (span?: Span) => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return fn();
  const parent = options.parent !== undefined ? contextOf(options.parent) : context.active();
  const tracer = trace.getTracer(TRACER_NAME);
  return tracer.startActiveSpan(
    name,
    {
      ...(options.kind !== undefined ? { kind: options.kind } : {}),
      ...(options.attributes ? { attributes: options.attributes } : {}),
      ...(options.links ? { links: options.links } : {}),
    },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** The active span's context as a W3C traceparent, when tracing and inside a span. */
export function activeTraceparent(): string | undefined {
  if (!tracingEnabled()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** A link to the active span, if there is one (to relate a span to the call that caused it). */
export function activeSpanLinks(): Link[] {
  const span = trace.getActiveSpan();
  return span ? [{ context: span.spanContext() }] : [];
}

/** Adds the active context's `traceparent` (and `tracestate`) to outgoing headers; nothing without tracing. */
export function injectTraceHeaders(headers: Record<string, string>): void {
  if (tracingEnabled()) propagation.inject(context.active(), headers);
}

/**
 * Runs `fn` in the context an incoming request's headers carry (`traceparent`), as the parent of the spans it starts;
 * a server span wraps it. Without tracing, just runs `fn`.
 */
export function serverSpan(
  name: string,
  headers: Record<string, string | string[] | undefined>,
  attributes: Attributes,
  fn: (span?: Span) => void,
): void {
  if (!tracingEnabled()) return fn();
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  const span = trace.getTracer(TRACER_NAME).startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  context.with(trace.setSpan(parent, span), () => fn(span));
}

/** Runs `fn` with `span` as the active span (a route re-entering its request's span). */
export function withActiveSpan<T>(span: Span | undefined, fn: () => T): T {
  return span ? context.with(trace.setSpan(context.active(), span), fn) : fn();
}

function contextOf(traceparent: string): Context {
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}
