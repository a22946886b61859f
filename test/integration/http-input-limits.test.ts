// Hostile body edges: nesting depth, invalid UTF-8, lone surrogates and slow clients. Each is refused with a problem
// naming where it went wrong, before any workflow starts.
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyAuthenticator } from '../../src/http/auth';
import { createHttpApp } from '../../src/http/app';
import { createHttpServer, MAX_JSON_DEPTH } from '../../src/http/input-limits';
import { buildOpenApiDocument } from '../../src/http/openapi';
import { createReadiness } from '../../src/http/readiness';
import { TEST_AGENT_KEY, testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { workflowCount, type Problem } from './http-support';

const HEADER_TIMEOUT_MS = 600;
const BODY_TIMEOUT_MS = 1_200;

interface RawAnswer {
  status: number;
  contentType: string;
  problem: Problem | undefined;
}

describe('HTTP API: input limits', () => {
  let h: Harness;
  let url: URL;
  let close: () => Promise<void>;
  let workflowsBefore = 0;

  beforeAll(async () => {
    h = await startHarness({ config: testConfig({ targetHost: '127.0.0.1:9' }), noWorkers: true });
    const app = createHttpApp({
      service: h.service,
      authenticator: createApiKeyAuthenticator({ agents: h.agents }),
      config: h.config,
      catalog: h.catalog,
      logger: h.logger,
      metrics: h.metrics,
      readiness: createReadiness({ temporal: h.service.temporal }),
    });
    const server = createHttpServer(app, { headerTimeoutMs: HEADER_TIMEOUT_MS, bodyTimeoutMs: BODY_TIMEOUT_MS });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/action-requests`);
    close = () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    workflowsBefore = await workflowCount(h, 'support-bot');
  });
  afterAll(async () => {
    await close?.();
    await h?.close();
  });

  /** Sends raw bytes, optionally in timed pieces (`pieces` run after the headers are sent). */
  function send(
    body: Buffer | undefined,
    options: { headersOnly?: string; pause?: () => Promise<void> } = {},
  ): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TEST_AGENT_KEY}`,
          'content-type': 'application/json',
          ...(body ? { 'content-length': String(body.length) } : {}),
        },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            problem: text.startsWith('{') ? (JSON.parse(text) as Problem) : undefined,
          }),
        );
      });
      req.on('error', reject);
      if (body && options.pause) {
        // Half the body, then nothing: the server must give up on its own.
        req.write(body.subarray(0, body.length >> 1));
        return;
      }
      req.end(body);
    });
  }

  function submitBody(params: unknown, reason = 'input limits'): string {
    return JSON.stringify({ action: 'email.send_external', params, reason });
  }

  it('when params nest deeper than 64 levels, then 422 nesting_too_deep naming the path', async () => {
    // 10,000 levels: deep enough to overflow any recursive walk.
    const deep = `{"to":"a@example.com","subject":"s","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const res = await send(Buffer.from(`{"action":"email.send_external","params":${deep},"reason":"r"}`));

    expect(res.status).toBe(422);
    expect(res.contentType).toMatch(/^application\/problem\+json/);
    expect(res.problem?.code).toBe('nesting_too_deep');
    const path = res.problem?.errors[0]?.path ?? '';
    expect(path.startsWith('params.x[0][0]')).toBe(true);
    // The path stops at the first level past the limit: params is level 2, x level 3.
    expect(path.split('[0]').length - 1).toBe(MAX_JSON_DEPTH - 2);
  });

  it('when params nest exactly 64 levels, then the depth check lets them through to validation', async () => {
    // Level 1 is the body, 2 params, 3 x: 61 more arrays reach 64.
    const nested = `${'['.repeat(MAX_JSON_DEPTH - 3)}${']'.repeat(MAX_JSON_DEPTH - 3)}`;
    const res = await send(
      Buffer.from(`{"action":"email.send_external","params":{"to":"bad","subject":"s","x":${nested}},"reason":"r"}`),
    );

    expect(res.problem?.code).toBe('invalid_params');
  });

  it('when the body is not valid UTF-8, then 400 invalid_encoding', async () => {
    const bytes = Buffer.concat([
      Buffer.from(submitBody({ to: 'a@example.com', subject: 's' }, 'X').replace('"X"', '"')),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('"}'),
    ]);
    const res = await send(bytes);

    expect(res.status).toBe(400);
    expect(res.problem).toMatchObject({ code: 'invalid_encoding', errors: [{ path: 'body' }] });
  });

  it('when a UTF-8-encoded surrogate arrives as raw bytes, then 400 invalid_encoding', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"action":"email.send_external","params":{"to":"a@example.com","subject":"s"},"reason":"'),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from('"}'),
    ]);
    const res = await send(bytes);

    expect(res.problem?.code).toBe('invalid_encoding');
  });

  it('when the reason holds a lone surrogate escape, then 422 invalid_text naming reason', async () => {
    const res = await send(
      Buffer.from(submitBody({ to: 'a@example.com', subject: 's' }, 'x').replace('"x"', '"\\ud800"')),
    );

    expect(res.status).toBe(422);
    expect(res.problem).toMatchObject({ code: 'invalid_text', errors: [{ path: 'reason' }] });
  });

  it('when a param member name holds a lone surrogate, then 422 invalid_text naming params', async () => {
    const res = await send(
      Buffer.from(
        `{"action":"email.send_external","params":{"to":"a@example.com","subject":"s","\\udc00":1},"reason":"r"}`,
      ),
    );

    expect(res.problem).toMatchObject({ code: 'invalid_text', errors: [{ path: 'params' }] });
  });

  it('when a well-formed surrogate pair arrives, then it is not refused for its text', async () => {
    const res = await send(Buffer.from(submitBody({ to: 'bad', subject: '\ud83d\ude00' })));

    expect(res.problem?.code).toBe('invalid_params');
  });

  it('when the body stops arriving, then 408 request_timeout and the connection is closed', async () => {
    const started = Date.now();
    const res = await send(Buffer.from(submitBody({ to: 'a@example.com', subject: 's' })), {
      pause: () => new Promise(() => undefined),
    });

    expect(res.status).toBe(408);
    expect(res.problem?.code).toBe('request_timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 100);
  });

  it('when the headers never finish, then 408', async () => {
    const { createConnection } = await import('node:net');
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = createConnection(Number(url.port), '127.0.0.1', () => {
        socket.write(`POST ${url.pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `);
      });
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });

    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('request_timeout');
  });

  it('when the OpenAPI document is read, then it lists 408 and describes each input limit', () => {
    const doc = buildOpenApiDocument({ config: h.config }) as {
      paths: Record<string, { post?: { responses: Record<string, unknown> } }>;
      components: { responses: Record<string, { description: string }> };
    };
    const responses = doc.paths['/v1/action-requests']?.post?.responses ?? {};
    expect(Object.keys(responses)).toEqual(expect.arrayContaining(['400', '408', '422']));
    expect(doc.components.responses.P400?.description).toContain('invalid_encoding');
    expect(doc.components.responses.P408?.description).toContain('request_timeout');
    expect(doc.components.responses.P422?.description).toContain('nesting_too_deep');
    expect(doc.components.responses.P422?.description).toContain('invalid_text');
  });

  it('when every limit has refused its body, then no workflow was started', async () => {
    expect(await workflowCount(h, 'support-bot')).toBe(workflowsBefore);
  });
});
