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
  if (opts.identity) identityComponents(requests, responses);

  const options = { target: 'draft-2020-12', uri, unrepresentable: 'any' } as const;
  const schemas: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries({
    ...z.toJSONSchema(requests, { ...options, io: 'input' }).schemas,
    ...z.toJSONSchema(responses, { ...options, io: 'output' }).schemas,
  })) {
    schemas[id] = component(schema);
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
  const problem = (description: string) => ({
    description,
    content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: uri('Problem') } } },
  });
  const errors = (...statuses: number[]) =>
    Object.fromEntries(statuses.map((s) => [String(s), { $ref: `#/components/responses/P${s}` }]));
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^req_[0-9a-f]{32}$' } };
  const waitParam = queryParameter('wait', waitQuerySchema.shape.wait);
  const secured = { security: [{ bearer: [] }] };
  const extraPaths =
    opts.identity || opts.receipts
      ? identityPaths({ json, errors, secured, identity: Boolean(opts.identity), receipts: Boolean(opts.receipts) })
      : {};

  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Countersign',
      version: opts.version ?? '0.1.0',
      description:
        'The durable human-in-the-loop gate between AI agents and production actions. Agents submit action requests; ' +
        'policy allows, denies or asks people to approve; approved requests execute exactly once.',
    },
    ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl }] } : {}),
    paths: {
      '/v1/action-requests': {
        post: {
          operationId: 'submitActionRequest',
          summary: 'Request an action',
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
              headers: { Location: { schema: { type: 'string' } } },
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
          summary: 'List requests (an agent’s own; operators see all)',
          ...secured,
          parameters: (['status', 'agent', 'action', 'limit'] as const).map((n) =>
            queryParameter(n, listQuerySchema.shape[n]),
          ),
          responses: {
            '200': { description: 'Requests, newest first.', content: json('ActionRequestList') },
            ...errors(400, 401),
          },
        },
      },
      '/v1/action-requests/{id}': {
        get: {
          operationId: 'getActionRequest',
          summary: 'Read a request',
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
          summary: 'Cancel a pending request',
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
          summary: 'Approve or reject (operators)',
          ...secured,
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
      '/openapi.json': {
        get: { operationId: 'openapi', summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } },
      },
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Liveness',
          responses: { '200': { description: 'Alive.', content: json('Health') } },
        },
      },
      '/readyz': {
        get: {
          operationId: 'readiness',
          summary:
            'Readiness: Temporal reachable, a worker polling, and (with agent identity) the registry database answering',
          responses: {
            '200': { description: 'Ready.', content: json('Readiness') },
            '503': { description: 'Not ready.', content: json('Readiness') },
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics',
          responses: {
            '200': {
              description: 'Prometheus text format.',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
    },
    components: {
      schemas,
      responses: {
        P400: problem(
          'Bad request: malformed JSON, a body that is not valid UTF-8 (`invalid_encoding`), bad query or header.',
        ),
        P408: problem(
          'The request headers (10 s) or the whole request (30 s) did not arrive in time (`request_timeout`); the ' +
            'connection is closed.',
        ),
        P401: problem('Missing or unknown credential.'),
        P403: problem(
          'The caller may not do this (action outside the agent’s allowed actions or token scope, a kill switch on, an ' +
            'operator-only endpoint).',
        ),
        P404: problem('No such request or agent (or not the caller’s).'),
        P409: problem('The request or agent is not in a state that allows this, or it exists already.'),
        P413: problem(`Body larger than 64 KiB.`),
        P415: problem('Body not application/json.'),
        P429: problem('The agent is over its request rate; `Retry-After` says when to retry.'),
        P422: problem(
          'Unknown action, parameters failing the action’s schema, an Idempotency-Key reused with another body, a body ' +
            'nested deeper than 64 levels (`nesting_too_deep`, naming the path) or holding a lone UTF-16 surrogate ' +
            '(`invalid_text`).',
        ),
        P503: problem('Temporal or the workers are not available; retry.'),
      },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: opts.identity
            ? 'An agent access token from POST /oauth/token (or an API key where allowed), or a personal operator ' +
              'token (`cs_op_…`). COUNTERSIGN_ADMIN_TOKEN only creates the first operator.'
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
