import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import openapiTS, { astToString } from 'openapi-typescript';
import { format, resolveConfig } from 'prettier';
import {
  CLIENT_TYPES_PATH,
  OPENAPI_DOCUMENT_PATH,
  clientTypesText,
  publishedOpenApiDocument,
} from '../../src/app/openapi-document';
import { ERROR_CODES } from '../../src/errors';
import { createResponseValidator } from '../support/openapi-validator';

const root = fileURLToPath(new URL('../../', import.meta.url));
const STALE = 'stale: run `npm run generate` and commit the result';

interface Operation {
  tags?: string[];
  summary?: string;
  description?: string;
  security?: unknown[];
}
const doc = publishedOpenApiDocument();
/** The value at a path of keys in the document. */
const at = (...keys: string[]): unknown =>
  keys.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
const operations = Object.entries(at('paths') as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({ path, method, op })),
);

describe('the OpenAPI document, as client generators read it', () => {
  it('when the routes or schemas change, then the committed schema/openapi.json must be regenerated', () => {
    const committed = JSON.parse(readFileSync(`${root}${OPENAPI_DOCUMENT_PATH}`, 'utf8')) as unknown;
    expect(committed, `${OPENAPI_DOCUMENT_PATH} is ${STALE}`).toEqual(doc);
  });

  it('when the document changes, then the client package’s generated types must be regenerated', async () => {
    const path = `${root}${CLIENT_TYPES_PATH}`;
    const expected = await format(await clientTypesText(openapiTS, astToString), {
      ...((await resolveConfig(path)) ?? {}),
      filepath: path,
    });
    expect(readFileSync(path, 'utf8') === expected, `${CLIENT_TYPES_PATH} is ${STALE}`).toBe(true);
  });

  it('when Redocly lints it with its recommended rules, then it reports no error and no warning', async () => {
    const run = promisify(execFile);
    const { stdout, stderr } = await run(
      `${root}node_modules/.bin/redocly`,
      ['lint', '--config', 'redocly.yaml', '--format', 'summary', OPENAPI_DOCUMENT_PATH],
      {
        cwd: root,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      },
    );
    const output = `${stdout}\n${stderr}`;
    expect(output).toMatch(/valid/i);
    expect(output).not.toMatch(/^\s*(error|warning)\s/m);
  });

  it('when a generator reads the security schemes, then agents get OAuth2 client credentials at the token endpoint', () => {
    expect(at('components', 'securitySchemes', 'agentToken')).toMatchObject({
      type: 'oauth2',
      flows: {
        clientCredentials: { tokenUrl: '/oauth/token', scopes: { 'payments.refund': expect.any(String) as unknown } },
      },
    });
    expect(at('paths', '/v1/action-requests', 'post', 'security')).toEqual([{ agentToken: [] }, { bearer: [] }]);
    expect(at('paths', '/v1/action-requests/{id}/decisions', 'post', 'security')).toEqual([{ bearer: [] }]);
  });

  it('when an operation is public, then it says so with `security: []`; every other one names its scheme', () => {
    const open = operations
      .filter((o) => Array.isArray(o.op.security) && o.op.security.length === 0)
      .map((o) => o.path);
    expect(open).toEqual(
      expect.arrayContaining(['/openapi.json', '/healthz', '/readyz', '/metrics', '/.well-known/jwks.json']),
    );
    for (const { path, op } of operations) expect(op.security, path).toBeDefined();
  });

  it('when operations are listed, then each has a tag that the document describes, a summary and a description', () => {
    const tags = new Set((at('tags') as { name: string; description: string }[]).map((t) => t.name));
    for (const { path, method, op } of operations) {
      const where = `${method} ${path}`;
      expect(op.tags?.length, where).toBe(1);
      expect(tags.has(op.tags?.[0] ?? ''), where).toBe(true);
      expect(op.summary, where).toEqual(expect.any(String));
      expect(op.description, where).toEqual(expect.any(String));
    }
  });

  it('when a generator reads the problem shape, then `code` is an enum of every stable code', () => {
    expect(at('components', 'schemas', 'Problem', 'properties', 'code', 'enum')).toEqual([...ERROR_CODES]);
  });

  it('when 401, 429 and 503 are documented, then WWW-Authenticate and Retry-After headers are declared', () => {
    expect(at('components', 'responses', 'P401', 'headers')).toHaveProperty('WWW-Authenticate');
    expect(at('components', 'responses', 'P429', 'headers')).toHaveProperty('Retry-After');
    expect(at('components', 'responses', 'P503', 'headers')).toHaveProperty('Retry-After');
    expect(at('paths', '/v1/action-requests', 'post', 'parameters')).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header' })]),
    );
  });

  it('when a request field has a server default, then it stays optional and carries no `default` a generator would require', () => {
    expect(at('components', 'schemas', 'DecisionRequest', 'required')).toEqual(['decision']);
    const channel = at('components', 'schemas', 'DecisionRequest', 'properties', 'channel');
    expect(channel).not.toHaveProperty('default');
    expect(channel).toMatchObject({ description: expect.stringContaining('Default: "api"') as unknown });
  });
});

describe('the response validator of the HTTP suites', () => {
  const validator = createResponseValidator(doc);
  const base = { method: 'GET', path: '/healthz', contentType: 'application/json', text: '{}' };

  it('when an answer fits its operation, then it reports nothing', () => {
    expect(validator.check({ ...base, status: 200, json: { status: 'ok' } })).toEqual([]);
  });

  it('when a body breaks its schema, then it names the operation and the field', () => {
    const issues = validator.check({ ...base, status: 200, json: { status: 'fine' } });
    expect(issues.join('\n')).toMatch(/GET \/healthz → 200: body\/status/);
  });

  it('when a status is not declared, then it says so', () => {
    const issues = validator.check({ ...base, method: 'POST', path: '/v1/action-requests', status: 302, json: {} });
    expect(issues.join('\n')).toMatch(/status not declared/);
  });

  it('when a problem answer comes from a templated route, then it is checked against the Problem schema', () => {
    const issues = validator.check({
      ...base,
      path: '/v1/action-requests/req_0123456789abcdef0123456789abcdef',
      status: 404,
      contentType: 'application/problem+json',
      json: { type: 'x', title: 'Not found', status: 404, detail: 'no', instance: '/', code: 'nope', errors: [] },
    });
    expect(issues.join('\n')).toMatch(/body\/code/);
  });
});
