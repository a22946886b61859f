// Tracing for a process: on when an OTLP endpoint is configured (the standard OTEL_* variables), off otherwise. Off, the
// SDK is never loaded: no provider, no interceptors, no exporter, and the API's spans are no-ops.
import type { Settings } from '../config/settings';
import type { Logger } from '../logger';
import type { TracingRuntime } from '../tracing/sdk';
import type { ShutdownStep } from './lifecycle';

export type ProcessRole = 'api' | 'worker' | 'dev';

/** The OTLP/HTTP traces URL the settings name, or undefined when tracing is off. */
export function tracesUrl(settings: Settings): string | undefined {
  if (settings.OTEL_SDK_DISABLED) return undefined;
  if (settings.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return settings.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (settings.OTEL_EXPORTER_OTLP_ENDPOINT)
    return `${settings.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}

/**
 * Starts tracing when configured and adds its shutdown step (flushing the buffered spans) to `steps`, which run in
 * reverse: pushed first, it runs last, after the servers and workers whose spans it exports.
 */
export async function startProcessTracing(
  settings: Settings,
  role: ProcessRole,
  logger: Logger,
  steps: ShutdownStep[],
): Promise<TracingRuntime | undefined> {
  const url = tracesUrl(settings);
  if (!url) return undefined;
  const { startTracing } = await import('../tracing/sdk');
  const tracing = startTracing({
    serviceName: settings.OTEL_SERVICE_NAME ?? `countersign-${role}`,
    url,
    ...(settings.OTEL_EXPORTER_OTLP_HEADERS ? { headers: settings.OTEL_EXPORTER_OTLP_HEADERS } : {}),
  });
  steps.push({ name: 'tracing', run: () => tracing.shutdown() });
  logger.info({ url }, 'tracing: exporting spans over OTLP');
  return tracing;
}
