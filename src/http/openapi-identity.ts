// The OpenAPI part of agent identity: the token endpoint, the JWKS documents and the operator API, generated from the
// zod schemas of src/http/identity-schemas.ts like the rest of the document.
import type { z } from 'zod';
import {
  agentCreatedSchema,
  agentDetailSchema,
  agentListQuerySchema,
  agentListSchema,
  agentPatchSchema,
  agentSchema,
  issuedOperatorTokenSchema,
  issuedSecretSchema,
  jwksSchema,
  killSwitchEngagedSchema,
  killSwitchOperationSchema,
  killSwitchLiftedSchema,
  killSwitchLiftSchema,
  killSwitchListQuerySchema,
  killSwitchListSchema,
  killSwitchRequestSchema,
  killSwitchSchema,
  newAgentSchema,
  newOperatorSchema,
  newOperatorTokenSchema,
  oauthErrorSchema,
  operatorListSchema,
  rotateCredentialsSchema,
  statusChangeSchema,
  tokenRequestSchema,
  tokenResponseSchema,
} from './identity-schemas';

type JsonSchema = Record<string, unknown>;
type Registry = z.core.$ZodRegistry<{ id: string }>;

/** Adds the identity schemas to the document's request (input) and response (output) registries. */
export function identityComponents(requests: Registry, responses: Registry): void {
  requests.add(tokenRequestSchema, { id: 'TokenRequest' });
  requests.add(newAgentSchema, { id: 'NewAgent' });
  requests.add(agentPatchSchema, { id: 'AgentPatch' });
  requests.add(statusChangeSchema, { id: 'AgentStatusChange' });
  requests.add(rotateCredentialsSchema, { id: 'RotateCredentials' });
  requests.add(killSwitchRequestSchema, { id: 'KillSwitchRequest' });
  requests.add(killSwitchLiftSchema, { id: 'KillSwitchLift' });
  requests.add(newOperatorSchema, { id: 'NewOperator' });
  requests.add(newOperatorTokenSchema, { id: 'NewOperatorToken' });
  responses.add(tokenResponseSchema, { id: 'TokenResponse' });
  responses.add(oauthErrorSchema, { id: 'OAuthError' });
  responses.add(jwksSchema, { id: 'JWKS' });
  responses.add(agentSchema, { id: 'Agent' });
  responses.add(agentListSchema, { id: 'AgentList' });
  responses.add(agentDetailSchema, { id: 'AgentDetail' });
  responses.add(agentCreatedSchema, { id: 'AgentCreated' });
  responses.add(issuedSecretSchema, { id: 'IssuedClientSecret' });
  responses.add(killSwitchSchema, { id: 'KillSwitch' });
  responses.add(killSwitchEngagedSchema, { id: 'KillSwitchEngaged' });
  responses.add(killSwitchOperationSchema, { id: 'KillSwitchOperation' });
  responses.add(killSwitchListSchema, { id: 'KillSwitchList' });
  responses.add(killSwitchLiftedSchema, { id: 'KillSwitchLifted' });
  responses.add(issuedOperatorTokenSchema, { id: 'IssuedOperatorToken' });
  responses.add(operatorListSchema, { id: 'OperatorList' });
}

interface PathHelpers {
  json: (component: string) => JsonSchema;
  errors: (...statuses: number[]) => JsonSchema;
  /** Agents or operators. */
  secured: JsonSchema;
  /** Operators only. */
  operatorSecured: JsonSchema;
  /** No credential (`security: []`). */
  open: JsonSchema;
  identity: boolean;
  receipts: boolean;
}

const COMPONENTS = '#/components/schemas/';
const clientError = { '4XX': { $ref: '#/components/responses/P4XX' } };

/** The identity paths of the document. */
export function identityPaths(h: PathHelpers): Record<string, JsonSchema> {
  const { json, errors, secured, operatorSecured, open } = h;
  const agentId = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'Agent id.' };
  const tagOf = (operationId: string) =>
    /KillSwitch/.test(operationId) ? 'Kill switches' : /Operator/.test(operationId) ? 'Operators' : 'Agents';
  const operatorOnly = (summary: string, operationId: string, extra: JsonSchema) => ({
    operationId,
    tags: [tagOf(operationId)],
    summary: `${summary} (operators)`,
    description: `${summary}. Needs a personal operator token; the change is attributed to its owner.`,
    ...operatorSecured,
    ...extra,
  });
  const body = (component: string, required = true) => ({ requestBody: { required, content: json(component) } });
  const paths: Record<string, JsonSchema> = {};

  if (h.receipts) {
    paths['/.well-known/receipt-jwks.json'] = {
      get: {
        operationId: 'receiptJwks',
        tags: ['Discovery'],
        summary: 'Public keys of approval receipts (Countersign-Receipt), for downstream services to verify',
        description: 'Ed25519 keys by kid; downstream services verify the receipt a connector call carries.',
        ...open,
        responses: { '200': { description: 'JWKS.', content: json('JWKS') }, ...clientError },
      },
    };
  }
  if (!h.identity) return paths;

  const oauthError = (description: string) => ({ description, content: json('OAuthError') });
  paths['/oauth/token'] = {
    post: {
      operationId: 'issueAccessToken',
      tags: ['Agent auth'],
      summary: 'OAuth2 client credentials: an agent exchanges its client id and secret for a short-lived access token',
      description:
        'Client authentication by HTTP Basic (client id = agent id) or the form fields client_id and client_secret. ' +
        'Errors follow RFC 6749 §5.2, not problem+json.',
      security: [{ clientBasic: [] }, {}],
      requestBody: {
        required: true,
        content: { 'application/x-www-form-urlencoded': { schema: { $ref: `${COMPONENTS}TokenRequest` } } },
      },
      responses: {
        '200': { description: 'An access token (Cache-Control: no-store).', content: json('TokenResponse') },
        '400': oauthError('invalid_request, unsupported_grant_type or invalid_scope.'),
        '401': oauthError('invalid_client: unknown agent, wrong, expired or revoked secret, agent not active.'),
      },
    },
  };
  paths['/.well-known/jwks.json'] = {
    get: {
      operationId: 'jwks',
      tags: ['Agent auth'],
      summary: 'Public keys that sign agent access tokens (EdDSA, by kid)',
      description: 'For resource servers that verify agent tokens themselves.',
      ...open,
      responses: { '200': { description: 'JWKS.', content: json('JWKS') }, ...clientError },
    },
  };
  paths['/v1/agents'] = {
    get: operatorOnly('The agent inventory: owner, risk tier, allowed actions, status, last activity', 'listAgents', {
      parameters: (['status', 'owner'] as const).map((n) => ({
        name: n,
        in: 'query',
        required: false,
        schema: { type: 'string' },
        description: agentListQuerySchema.shape[n].description,
      })),
      responses: { '200': { description: 'Agents by id.', content: json('AgentList') }, ...errors(400, 401, 403, 503) },
    }),
    post: operatorOnly('Register an agent; its first client secret is returned once', 'createAgent', {
      ...body('NewAgent'),
      responses: {
        '201': { description: 'The agent and its client credentials.', content: json('AgentCreated') },
        ...errors(400, 401, 403, 409, 415, 422, 503),
      },
    }),
  };
  paths['/v1/agents/{id}'] = {
    get: operatorOnly('An agent, its credentials (no secrets) and its change log', 'getAgent', {
      parameters: [agentId],
      responses: { '200': { description: 'The agent.', content: json('AgentDetail') }, ...errors(401, 403, 404, 503) },
    }),
    patch: operatorOnly('Change an agent (owner, allowed actions, risk tier, rate…)', 'updateAgent', {
      parameters: [agentId],
      ...body('AgentPatch'),
      responses: {
        '200': { description: 'The agent after the change.', content: json('Agent') },
        ...errors(400, 401, 403, 404, 409, 415, 422, 503),
      },
    }),
  };
  const transitions = {
    suspend: 'Suspend an agent: its tokens are refused at once and nothing it asked for executes',
    resume: 'Resume a suspended agent',
    decommission: 'Decommission an agent for good: every client secret is revoked',
  } as const;
  for (const [name, summary] of Object.entries(transitions)) {
    paths[`/v1/agents/{id}/${name}`] = {
      post: operatorOnly(summary, `${name}Agent`, {
        parameters: [agentId],
        ...body('AgentStatusChange', false),
        responses: {
          '200': { description: 'The agent.', content: json('Agent') },
          ...errors(400, 401, 403, 404, 409, 415, 422, 503),
        },
      }),
    };
  }
  paths['/v1/agents/{id}/credentials/rotate'] = {
    post: operatorOnly('Issue a new client secret; the previous ones stay valid for the overlap', 'rotateCredentials', {
      parameters: [agentId],
      ...body('RotateCredentials', false),
      responses: {
        '201': { description: 'The new secret, shown once.', content: json('IssuedClientSecret') },
        ...errors(400, 401, 403, 404, 409, 415, 422, 503),
      },
    }),
  };
  paths['/v1/kill-switches'] = {
    post: operatorOnly(
      'Pull a kill switch: new requests in scope are refused (403 with the reason), running ones are cancelled',
      'engageKillSwitch',
      {
        ...body('KillSwitchRequest'),
        responses: {
          '202': {
            description:
              'Switched off (or already off: `created` false, and running requests are cancelled again). Answered at once; the running requests in scope are cancelled by an operation whose progress is at `operation.href`.',
            content: json('KillSwitchEngaged'),
          },
          ...errors(400, 401, 403, 415, 422, 503),
        },
      },
    ),
    get: operatorOnly('Kill switches on now, and with ?history=true the record', 'listKillSwitches', {
      parameters: [
        {
          name: 'history',
          in: 'query',
          required: false,
          schema: { type: 'string', enum: ['true', 'false'] },
          description: killSwitchListQuerySchema.shape.history.description,
        },
      ],
      responses: {
        '200': { description: 'Switches.', content: json('KillSwitchList') },
        ...errors(400, 401, 403, 503),
      },
    }),
    delete: operatorOnly('Lift the kill switches of exactly this scope (`countersign resume`)', 'liftKillSwitch', {
      ...body('KillSwitchLift'),
      responses: {
        '200': { description: 'The switches lifted.', content: json('KillSwitchLifted') },
        ...errors(400, 401, 403, 404, 415, 422, 503),
      },
    }),
  };
  paths['/v1/kill-switches/operations/{id}'] = {
    get: operatorOnly('Progress of a kill switch’s cancellation of running requests', 'getKillSwitchOperation', {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        '200': { description: 'The operation’s progress.', content: json('KillSwitchOperation') },
        ...errors(401, 403, 404, 503),
      },
    }),
  };
  paths['/v1/operators'] = {
    post: {
      operationId: 'createOperator',
      tags: ['Operators'],
      summary: 'Create an operator and their first personal token (shown once)',
      description:
        'By an operator; or, while no operator exists, with COUNTERSIGN_ADMIN_TOKEN as the bearer (bootstrap).',
      ...operatorSecured,
      ...body('NewOperator'),
      responses: {
        '201': { description: 'The operator’s token.', content: json('IssuedOperatorToken') },
        ...errors(400, 401, 403, 409, 415, 422, 503),
      },
    },
    get: operatorOnly('List operators', 'listOperators', {
      responses: { '200': { description: 'Operators.', content: json('OperatorList') }, ...errors(401, 403, 503) },
    }),
  };
  paths['/v1/operators/{id}/tokens'] = {
    post: operatorOnly('Issue another personal token for oneself', 'issueOperatorToken', {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      ...body('NewOperatorToken', false),
      responses: {
        '201': { description: 'The token, shown once.', content: json('IssuedOperatorToken') },
        ...errors(400, 401, 403, 404, 409, 415, 422, 503),
      },
    }),
  };
  paths['/v1/operator-tokens/{tokenId}'] = {
    delete: operatorOnly('Revoke an operator token at once', 'revokeOperatorToken', {
      parameters: [{ name: 'tokenId', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '204': { description: 'Revoked.' }, ...errors(401, 403, 404, 503) },
    }),
  };
  paths['/v1/me'] = {
    get: {
      operationId: 'whoAmI',
      tags: ['Discovery'],
      summary: 'Who the credential proves: an agent or an operator',
      description: 'So a CLI or an agent can say who it acts as.',
      ...secured,
      responses: {
        '200': {
          description: 'The caller.',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['kind', 'id'],
                properties: { kind: { enum: ['agent', 'operator'] }, id: { type: 'string' } },
              },
            },
          },
        },
        ...errors(401, 503),
      },
    },
  };
  return paths;
}
