// Temporal stopped under a running API: every route that needs it answers 503 problem+json with Retry-After, fast,
// instead of waiting out the SDK's default retries (about twenty seconds).
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfigAgentDirectory } from '../../src/agents';
import { ActionCatalog } from '../../src/catalog';
import { createApiKeyAuthenticator } from '../../src/http/auth';
import { createHttpApp } from '../../src/http/app';
import { createReadiness } from '../../src/http/readiness';
import { createLogger } from '../../src/logger';
import { createMetrics } from '../../src/metrics';
import { PolicyEngine } from '../../src/policy/engine';
import { createRequestService } from '../../src/requests';
import { closeClient, connectClient, type Client } from '../../src/temporal/adapter';
import { prefixedTaskQueues } from '../../src/temporal/worker';
import { TEST_AGENT_KEY, testConfig } from '../support/config';
import { startLocalTemporal } from '../support/local-temporal';
import { call, type Api, type Problem } from './http-support';

/**
 * Fail fast rather than wait out the SDK's default retries (tens of seconds): the client gives up after four quick
 * attempts (well under two seconds on a quiet machine). The bound leaves room for a loaded CI machine while still
 * telling the two behaviours apart.
 */
const FAIL_FAST_MS = 10_000;

describe('Temporal unreachable', () => {
  let temporal: TestWorkflowEnvironment | undefined;
  let client: Client;
  let api: Api;
  let server: Server;

  beforeAll(async () => {
    temporal = await startLocalTemporal();
    client = await connectClient({ address: temporal.address, namespace: 'default' });
    const config = testConfig({ targetHost: '127.0.0.1:9' });
    const logger = createLogger({ level: 'silent' });
    const taskQueues = prefixedTaskQueues(`down-${randomUUID().slice(0, 8)}`);
    const service = createRequestService({
      client,
      config,
      catalog: ActionCatalog.compile(config),
      policy: PolicyEngine.compile(config),
      taskQueues,
      logger,
    });
    const app = createHttpApp({
      service,
      authenticator: createApiKeyAuthenticator({ agents: createConfigAgentDirectory(config) }),
      config,
      catalog: ActionCatalog.compile(config),
      logger,
      metrics: createMetrics(),
      readiness: createReadiness({ temporal: service.temporal }),
    });
    server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    api = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => Promise.resolve() };
    // The connection is up and used once before the server goes away.
    const ready = await call(api, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    await temporal.teardown();
    temporal = undefined;
  }, 120_000);
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await closeClient(client).catch(() => undefined);
    await temporal?.teardown();
  });

  async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
    const started = performance.now();
    const result = await run();
    return { result, ms: performance.now() - started };
  }

  it('when Temporal is stopped, then submit, read, list and decide answer 503 with Retry-After within 2 s', async () => {
    const id = `req_${'0'.repeat(32)}`;
    const requests: [string, string, unknown?][] = [
      [
        'POST',
        '/v1/action-requests',
        { action: 'payments.refund', params: { paymentId: 'pay_down01', amount: 10, currency: 'USD' }, reason: 'down' },
      ],
      ['GET', `/v1/action-requests/${id}`],
      ['GET', '/v1/action-requests'],
      ['POST', `/v1/action-requests/${id}/cancel`],
    ];
    for (const [method, path, body] of requests) {
      const { result, ms } = await timed(() =>
        call<Problem>(api, method, path, { token: TEST_AGENT_KEY, ...(body ? { body } : {}) }),
      );
      expect(result.status, `${method} ${path}`).toBe(503);
      expect(result.json.code).toBe('not_ready');
      expect(result.headers.get('content-type')).toContain('application/problem+json');
      expect(Number(result.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(ms, `${method} ${path}`).toBeLessThan(FAIL_FAST_MS);
    }
    const { result: ready, ms } = await timed(() =>
      call<{ ready: boolean; checks: Record<string, string> }>(api, 'GET', '/readyz'),
    );
    expect(ready.status).toBe(503);
    expect(ready.json.checks.temporal).toMatch(/^unreachable/);
    expect(ms).toBeLessThan(FAIL_FAST_MS);
  });
});
