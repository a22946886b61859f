// The worker process's own /metrics endpoint (the API serves its metrics on its HTTP port): Countersign's metrics of
// what the workers do, followed by the Temporal SDK runtime's (task latencies, poller counts, sticky cache, …).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** Serves GET /metrics on host:port (port 0: any free port). */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  metrics: Metrics;
  logger: Logger;
}): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    options.metrics.text().then(
      (text) => res.writeHead(200, { 'content-type': options.metrics.contentType }).end(text),
      (err: unknown) => {
        options.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'metrics not rendered');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`;
  options.logger.info({ url }, 'worker metrics listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Reads the Temporal SDK runtime's Prometheus exporter (bound on loopback by the runtime); empty when it is away. */
export function temporalSdkMetricsSource(bindAddress: string, logger: Logger): () => Promise<string> {
  const url = `http://${bindAddress.replace(/^0\.0\.0\.0:/, '127.0.0.1:')}/metrics`;
  return async () => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return response.ok ? await response.text() : '';
    } catch (err) {
      logger.debug({ err: err instanceof Error ? err.message : String(err) }, 'Temporal SDK metrics not read');
      return '';
    }
  };
}
