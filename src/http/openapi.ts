// The OpenAPI 3.1 document, generated from the zod schemas of src/http/schemas.ts (zod's own z.toJSONSchema) plus
// every action's parameter schema from the catalog, so each action variant can serve as an LLM tool definition.
import { z } from 'zod';
import type { CountersignConfig } from '../config/schema';
import { MAX_WAIT_SECONDS } from '../requests';
import {
  actionRequestListSchema,
  actionRequestSchema,
  actionTargetSchema,
  cancelRequestSchema,
  decisionRequestSchema,
  healthSchema,
  idempotencyKeySchema,
  listQuerySchema,
  problemSchema,
  readinessSchema,
  submitRequestSchema,
  webhookEventSchema,
  waitQuerySchema,
} from './schemas';
import { PROBLEM_CONTENT_TYPE } from './problems';
import { identityComponents, identityPaths } from './openapi-identity';

type JsonSchema = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';

/** Builds the OpenAPI document for a config's catalog (computed once at app creation). */
export function buildOpenApiDocument(opts: {
  config: CountersignConfig;
  serverUrl?: string;
  version?: string;
  /** Document the token endpoint, the JWKS and the operator API (served when agent identity is wired). */
  identity?: boolean;
  /** Document /.well-known/receipt-jwks.json. */
  receipts?: boolean;
}): JsonSchema {
  const uri = (id: string) => `${COMPONENTS}${id}`;

  const requests = z.registry<{ id: string }>();
  requests.add(submitRequestSchema, { id: 'ActionRequestEnvelope' });
  requests.add(actionTargetSchema, { id: 'ActionTarget' });
  requests.add(decisionRequestSchema, { id: 'DecisionRequest' });
  requests.add(cancelRequestSchema, { id: 'CancelRequest' });
  const responses = z.registry<{ id: string }>();
  responses.add(actionRequestSchema, { id: 'ActionRequest' });
  responses.add(actionRequestListSchema, { id: 'ActionRequestList' });
  responses.add(problemSchema, { id: 'Problem' });
  responses.add(healthSchema, { id: 'Health' });
  responses.add(readinessSchema, { id: 'Readiness' });
  responses.add(webhookEventSchema, { id: 'WebhookEvent' });
  if (opts.identity) identityComponents(requests, responses);

  const options = { target: 'draft-2020-12', uri, unrepresentable: 'any' } as const;
  const schemas: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries({
    ...z.toJSONSchema(requests, { ...options, io: 'input' }).schemas,
    ...z.toJSONSchema(responses, { ...options, io: 'output' }).schemas,
  })) {
    schemas[id] = component(schema);
  }
  // A default is the server's business: generators (openapi-typescript among them) would make such fields required in
  // request types, so request schemas name the default in prose and keep the field optional.
  for (const id of Object.keys(z.toJSONSchema(requests, { ...options, io: 'input' }).schemas)) {
    schemas[id] = withoutDefaults(schemas[id] ?? {}) as JsonSchema;
  }

  // One variant per action: the envelope with `action` fixed and `params` bound to that action's JSON Schema.
  const envelope = schemas.ActionRequestEnvelope ?? {};
  const envelopeProperties = (envelope.properties ?? {}) as Record<string, JsonSchema>;
  const variants: string[] = [];
  for (const [name, action] of Object.entries(opts.config.actions)) {
    schemas[`${name}.params`] = {
      ...(rebaseRefs(component(action.params), uri(`${name}.params`)) as JsonSchema),
      title: `${name} parameters`,
      description: action.description,
    };
    schemas[`ActionRequest.${name}`] = {
      ...envelope,
      title: name,
      description: `${action.description} (risk: ${action.risk})`,
      properties: {
        ...envelopeProperties,
        action: { const: name, description: 'The action.' },
        params: { $ref: uri(`${name}.params`) },
      },
      'x-countersign-risk': action.risk,
    };
    variants.push(`ActionRequest.${name}`);
  }
  // With variants the bare envelope is only their template.
  if (variants.length > 0) delete schemas.ActionRequestEnvelope;
  schemas.SubmitActionRequest =
    variants.length > 0
      ? {
          description: 'An action request: one variant per action of the catalog, keyed by `action`.',
          oneOf: variants.map((v) => ({ $ref: uri(v) })),
          discriminator: {
            propertyName: 'action',
            mapping: Object.fromEntries(variants.map((v) => [v.slice('ActionRequest.'.length), uri(v)])),
          },
        }
      : { $ref: uri('ActionRequestEnvelope') };

  const json = (name: string) => ({ 'application/json': { schema: { $ref: uri(name) } } });
  const problem = (description: string, headers?: Record<string, JsonSchema>) => ({
    description,
    ...(headers ? { headers } : {}),
    content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: uri('Problem') } } },
  });
  const header = (name: string) => ({ $ref: `#/components/headers/${name}` });
  const errors = (...statuses: number[]) =>
    Object.fromEntries(statuses.map((s) => [String(s), { $ref: `#/components/responses/P${s}` }]));
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^req_[0-9a-f]{32}$' } };
  const waitParam = queryParameter('wait', waitQuerySchema.shape.wait);
  // Agents prove themselves with an OAuth2 access token (or an API key where allowed); operators with a personal token.
  const secured = { security: opts.identity ? [{ agentToken: [] }, { bearer: [] }] : [{ bearer: [] }] };
  const operatorSecured = { security: [{ bearer: [] }] };
  const open = { security: [] };
  const clientError = { '4XX': { $ref: '#/components/responses/P4XX' } };
  const extraPaths =
    opts.identity || opts.receipts
      ? identityPaths({
          json,
          errors,
          secured,
          operatorSecured,
          open,
          identity: Boolean(opts.identity),
          receipts: Boolean(opts.receipts),
        })
      : {};
  const tokenUrl = `${opts.serverUrl ?? ''}/oauth/token`;

  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Countersign',
      version: opts.version ?? '0.1.0',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      description:
        'The durable human-in-the-loop gate between AI agents and production actions. Agents submit action requests; ' +
        'policy allows, denies or asks people to approve; approved requests execute exactly once.',
    },
    servers: [
      opts.serverUrl
        ? { url: opts.serverUrl, description: 'This deployment.' }
        : { url: '/', description: 'The server that serves this document.' },
    ],
    tags: TAGS.filter((t) => opts.identity || !IDENTITY_TAGS.has(t.name)),
    paths: {
      '/v1/action-requests': {
        post: {
          operationId: 'submitActionRequest',
          tags: ['Action requests'],
          summary: 'Request an action',
          description:
            'Validates the envelope and the action’s parameters, decides by policy and starts the request’s durable ' +
            'workflow (denied requests included, so the trail is complete). Send an `Idempotency-Key`: a retry with ' +
            'the same key and body returns the same request (200) instead of starting another.',
          ...secured,
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: schemaOf(idempotencyKeySchema),
              description: idempotencyKeySchema.description,
            },
            waitParam,
          ],
          requestBody: { required: true, content: json('SubmitActionRequest') },
          responses: {
            '201': {
              description: 'Accepted: a new request (denied ones included).',
              headers: { Location: { description: 'The new request.', schema: { type: 'string' } } },
              content: json('ActionRequest'),
            },
            '200': {
              description: 'Replay: the request this Idempotency-Key made before.',
              content: json('ActionRequest'),
            },
            ...errors(400, 401, 403, 408, 413, 415, 422, ...(opts.identity ? [429] : []), 503),
          },
        },
        get: {
          operationId: 'listActionRequests',
          tags: ['Action requests'],
          summary: 'List requests (an agent’s own; operators see all)',
          description: 'Newest first, from Temporal visibility; filter by status, action and (operators) agent.',
          ...secured,
          parameters: (['status', 'agent', 'action', 'limit'] as const).map((n) =>
            queryParameter(n, listQuerySchema.shape[n]),
          ),
          responses: {
            '200': { description: 'Requests, newest first.', content: json('ActionRequestList') },
            ...errors(400, 401, 503),
          },
        },
      },
      '/v1/action-requests/{id}': {
        get: {
          operationId: 'getActionRequest',
          tags: ['Action requests'],
          summary: 'Read a request',
          description:
            'The request as its workflow sees it. With `wait` the answer is held until the request is terminal or the ' +
            'seconds pass (a long poll); call again to keep waiting.',
          ...secured,
          parameters: [idParam, waitParam],
          responses: {
            '200': {
              description:
                'The request, with each rejection’s who, reason and time. Closed requests are read from the workflow’s result (no worker needed); a terminated workflow reads `terminated`; a running request with no worker answering is read from its search attributes and memo and marked `stale`.',
              content: json('ActionRequest'),
            },
            ...errors(400, 401, 404, 503),
          },
        },
      },
      '/v1/action-requests/{id}/cancel': {
        post: {
          operationId: 'cancelActionRequest',
          tags: ['Action requests'],
          summary: 'Cancel a pending request',
          description:
            'Its agent or an operator withdraws a request that still waits for approval; it ends `cancelled`.',
          ...secured,
          parameters: [idParam],
          requestBody: { required: false, content: json('CancelRequest') },
          responses: {
            '200': { description: 'The cancelled request.', content: json('ActionRequest') },
            ...errors(400, 401, 404, 408, 409, 415, 422, 503),
          },
        },
      },
      '/v1/action-requests/{id}/decisions': {
        post: {
          operationId: 'decideActionRequest',
          tags: ['Decisions'],
          summary: 'Approve or reject (operators)',
          description:
            'Records the decision of the operator whose token makes the call; the workflow checks they may decide and ' +
            'answers with its verdict (409 `decision_refused` when it refuses).',
          ...operatorSecured,
          parameters: [idParam],
          requestBody: { required: true, content: json('DecisionRequest') },
          responses: {
            '200': {
              description: 'The workflow’s verdict: the request after the decision (a refusal is 409, and recorded).',
              content: json('ActionRequest'),
            },
            '202': {
              description:
                'No worker is running: the rejection is queued durably (`queued: true`) and recorded when one runs again.',
              content: json('ActionRequest'),
            },
            ...errors(400, 401, 403, 404, 408, 409, 415, 422, 503),
          },
        },
      },
      ...extraPaths,
      '/mcp': {
        post: {
          operationId: 'mcp',
          tags: ['Agent tools'],
          summary: 'MCP over Streamable HTTP: one tool per action the agent may request',
          description:
            'JSON-RPC messages of the Model Context Protocol (initialize, tools/list, tools/call…). The first answer ' +
            'carries `Mcp-Session-Id`; send it with every later message. Authenticated with the agent’s access token; ' +
            'a 401 names the protected-resource metadata in `WWW-Authenticate`.',
          ...secured,
          parameters: [
            {
              name: 'Mcp-Session-Id',
              in: 'header',
              required: false,
              schema: { type: 'string' },
              description: 'The session, after initialize.',
            },
          ],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { type: 'object', additionalProperties: true } } },
          },
          responses: {
            '200': {
              description: 'A JSON-RPC response, or an event stream of them.',
              headers: { 'Mcp-Session-Id': { description: 'The new session.', schema: { type: 'string' } } },
              content: {
                'application/json': { schema: { type: 'object', additionalProperties: true } },
                'text/event-stream': { schema: { type: 'string' } },
              },
            },
            '202': { description: 'A notification or response taken in.' },
            ...errors(400, 401, 404, 406, 413, 415),
          },
        },
      },
      '/.well-known/oauth-protected-resource': {
        get: {
          operationId: 'protectedResourceMetadata',
          tags: ['Discovery'],
          summary: 'OAuth 2.0 protected resource metadata (RFC 9728) of the MCP endpoint',
          description: 'Names the resource (/mcp), its authorization server and the scopes (action names).',
          ...open,
          responses: {
            '200': {
              description: 'RFC 9728 metadata.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['resource', 'authorization_servers'],
                    properties: {
                      resource: { type: 'string' },
                      authorization_servers: { type: 'array', items: { type: 'string' } },
                      bearer_methods_supported: { type: 'array', items: { type: 'string' } },
                      scopes_supported: { type: 'array', items: { type: 'string' } },
                    },
                  },
                },
              },
            },
            ...clientError,
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          tags: ['Discovery'],
          summary: 'This document',
          description: 'OpenAPI 3.1, with one request variant per catalog action (each usable as an LLM tool).',
          ...open,
          responses: {
            '200': {
              description: 'OpenAPI 3.1',
              content: { 'application/json': { schema: { type: 'object', additionalProperties: true } } },
            },
            ...clientError,
          },
        },
      },
      '/healthz': {
        get: {
          operationId: 'health',
          tags: ['Operations'],
          summary: 'Liveness',
          description: 'Answers while the process runs.',
          ...open,
          responses: { '200': { description: 'Alive.', content: json('Health') }, ...clientError },
        },
      },
      '/readyz': {
        get: {
          operationId: 'readiness',
          tags: ['Operations'],
          summary:
            'Readiness: Temporal reachable, a worker polling, and (with agent identity) the registry database answering',
          description:
            'For load balancers: 503 until Temporal answers, a worker polls the control task queue and the registry database answers.',
          ...open,
          responses: {
            '200': { description: 'Ready.', content: json('Readiness') },
            '503': { description: 'Not ready.', content: json('Readiness') },
            ...clientError,
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          tags: ['Operations'],
          summary: 'Prometheus metrics',
          description: 'Request, decision and execution counters and latencies; pending approvals.',
          ...open,
          responses: {
            '200': {
              description: 'Prometheus text format.',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            ...clientError,
          },
        },
      },
    },
    webhooks: {
      requestEvent: {
        post: {
          operationId: 'receiveRequestEvent',
          tags: ['Webhooks'],
          summary: 'A request reached pending_approval or its terminal status',
          description:
            'Sent to the `callbackUrl` given at submit: once at `pending_approval` (requests that wait for people) ' +
            'and once at the terminal status. A delivery that is not answered 2xx within the timeout is retried with ' +
            'exponential backoff (`webhooks.firstRetryAfter`, doubling, for `webhooks.retryFor`); every retry carries ' +
            'the same `webhook-id` and body and a fresh timestamp and signature. Redirects are not followed.',
          security: [],
          parameters: [
            {
              name: 'webhook-id',
              in: 'header',
              required: true,
              description: 'Stable per request and status (`msg_<hex>_<status>`): de-duplicate on it.',
              schema: { type: 'string' },
            },
            {
              name: 'webhook-timestamp',
              in: 'header',
              required: true,
              description: 'Unix seconds of this attempt; refuse ones far from your clock (5 minutes).',
              schema: { type: 'string', pattern: '^[0-9]+$' },
            },
            {
              name: 'webhook-signature',
              in: 'header',
              required: true,
              description:
                '`v1,<base64 HMAC-SHA256>` over `${webhook-id}.${webhook-timestamp}.${body}`, keyed by the agent’s ' +
                'secret (base64 after `whsec_`); space-separated when several are sent.',
              schema: { type: 'string' },
            },
          ],
          requestBody: { required: true, content: json('WebhookEvent') },
          responses: {
            '2XX': { description: 'Received; not sent again.' },
            '4XX': { description: 'Refused; retried until the retry window has passed.' },
            '5XX': { description: 'Failed; retried with backoff.' },
          },
        },
      },
    },
    components: {
      schemas,
      headers: {
        'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } },
        'WWW-Authenticate': {
          description:
            'RFC 6750 Bearer challenge; `resource_metadata` names the RFC 9728 protected-resource metadata document.',
          schema: { type: 'string' },
        },
      },
      responses: {
        P4XX: problem('A client error (an unknown route or method, say).'),
        P400: problem(
          'Bad request: malformed JSON, a body that is not valid UTF-8 (`invalid_encoding`), bad query or header.',
        ),
        P408: problem(
          'The request headers (10 s) or the whole request (30 s) did not arrive in time (`request_timeout`); the ' +
            'connection is closed.',
        ),
        P401: problem('Missing or unknown credential.', { 'WWW-Authenticate': header('WWW-Authenticate') }),
        P403: problem(
          'The caller may not do this (action outside the agent’s allowed actions or token scope, a kill switch on, an ' +
            'operator-only endpoint).',
        ),
        P404: problem('No such request or agent (or not the caller’s).'),
        P409: problem('The request or agent is not in a state that allows this, or it exists already.'),
        P413: problem(`Body larger than 64 KiB.`),
        P406: problem('The Accept header does not take what the endpoint answers.'),
        P415: problem('Body not application/json.'),
        P429: problem('The agent is over its request rate; `Retry-After` says when to retry.', {
          'Retry-After': header('Retry-After'),
        }),
        P422: problem(
          'Unknown action, parameters failing the action’s schema, an Idempotency-Key reused with another body, a body ' +
            'nested deeper than 64 levels (`nesting_too_deep`, naming the path) or holding a lone UTF-16 surrogate ' +
            '(`invalid_text`).',
        ),
        P503: problem('Temporal or the workers are not available; retry after `Retry-After` seconds.', {
          'Retry-After': header('Retry-After'),
        }),
      },
      securitySchemes: {
        ...(opts.identity
          ? {
              agentToken: {
                type: 'oauth2',
                description:
                  'Agents: OAuth2 client credentials (client id = agent id) at POST /oauth/token, for a short-lived ' +
                  'access token sent as `Authorization: Bearer`. Scopes narrow it to some of the agent’s actions.',
                flows: {
                  clientCredentials: {
                    tokenUrl,
                    scopes: Object.fromEntries(
                      Object.keys(opts.config.actions).map((name) => [name, `Request ${name}`]),
                    ),
                  },
                },
              },
            }
          : {}),
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: opts.identity
            ? 'A personal operator token (`cs_op_…`), or an agent API key where allowed. COUNTERSIGN_ADMIN_TOKEN only ' +
              'creates the first operator.'
            : 'An agent API key.',
        },
        ...(opts.identity
          ? {
              clientBasic: {
                type: 'http',
                scheme: 'basic',
                description: 'Agent client credentials at POST /oauth/token: the agent id and its client secret.',
              },
            }
          : {}),
      },
    },
    'x-countersign-max-wait-seconds': MAX_WAIT_SECONDS,
  };
}

const TAGS = [
  { name: 'Action requests', description: 'What agents ask for, and where each request stands.' },
  { name: 'Decisions', description: 'Approvals and rejections recorded over the API (Slack is the usual place).' },
  { name: 'Agent auth', description: 'OAuth2 client credentials for agents, and the keys that verify their tokens.' },
  { name: 'Agents', description: 'The agent registry: owners, allowed actions, status and credentials (operators).' },
  { name: 'Kill switches', description: 'Stop an agent, an action or everything at once (operators).' },
  { name: 'Operators', description: 'People who run Countersign, and their personal tokens.' },
  { name: 'Agent tools', description: 'The Model Context Protocol server: the catalog as tools for agents.' },
  { name: 'Discovery', description: 'Documents that describe this API and its keys.' },
  { name: 'Webhooks', description: 'Signed events Countersign POSTs to the callback URL an agent gives at submit.' },
  { name: 'Operations', description: 'Probes and metrics.' },
];
const IDENTITY_TAGS = new Set(['Agent auth', 'Agents', 'Kill switches', 'Operators']);

/** A request schema without `default`s, each named in its description instead (see buildOpenApiDocument). */
function withoutDefaults(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDefaults);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (k !== 'default') out[k] = withoutDefaults(v);
  if ('default' in value) {
    const note = `Default: ${JSON.stringify(value.default)}.`;
    out.description = typeof out.description === 'string' ? `${out.description} ${note}` : note;
  }
  return out;
}

function queryParameter(name: string, schema: z.ZodType): JsonSchema {
  return {
    name,
    in: 'query',
    required: false,
    schema: schemaOf(schema),
    ...(schema.description ? { description: schema.description } : {}),
  };
}

function schemaOf(schema: z.ZodType): JsonSchema {
  return component(z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output', unrepresentable: 'any' }));
}

/** Local `$ref`s ("#/$defs/x") of a schema moved under `base` would point at the document root; rebase them. */
function rebaseRefs(value: unknown, base: string): unknown {
  if (Array.isArray(value)) return value.map((v) => rebaseRefs(v, base));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' && v.startsWith('#') ? `${base}${v.slice(1)}` : rebaseRefs(v, base),
    ]),
  );
}

/** A schema placed under components: its own `$schema`/`$id` would re-root references, so they go. */
function component(schema: JsonSchema): JsonSchema {
  const rest = { ...schema };
  delete rest.$schema;
  delete rest.$id;
  return rest;
}
