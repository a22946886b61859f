// Request ids over HTTP: a caller's X-Request-Id is echoed and lands on every log line of its request, one is made up
// when absent, and log levels are written by name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_AGENT_KEY, testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { call, startApi, type Api } from './http-support';

let h: Harness;
let api: Api;

beforeAll(async () => {
  h = await startHarness({ config: testConfig({ targetHost: '127.0.0.1:9' }), noWorkers: true });
  api = await startApi(h);
});
afterAll(async () => {
  await api?.close();
  await h?.close();
});

describe('request ids', () => {
  it('when a caller sends X-Request-Id, then the response and every log line of the request carry it', async () => {
    const res = await call(api, 'POST', '/v1/action-requests', {
      token: TEST_AGENT_KEY,
      headers: { 'x-request-id': 'trace-abc-123' },
      body: {
        action: 'customers.delete',
        params: { customerId: 'c1' },
        reason: 'x',
        target: { environment: 'production' },
      },
    });
    expect(res.headers.get('x-request-id')).toBe('trace-abc-123');
    const lines = h.logLines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.httpRequestId === 'trace-abc-123');
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['request submitted', 'http']));
    expect(lines.every((l) => typeof l.level === 'string')).toBe(true);
    expect(lines.find((l) => l.msg === 'http')).toMatchObject({ level: 'info', status: 201 });
  });

  it('when no X-Request-Id is sent, or an unusable one, then one is generated', async () => {
    const plain = await call(api, 'GET', '/healthz');
    expect(plain.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await call(api, 'GET', '/healthz', { headers: { 'x-request-id': `a b ${'x'.repeat(200)}` } });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
