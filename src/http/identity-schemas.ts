// The shapes of the identity half of the API: the OAuth2 token endpoint, the JWKS documents, and the operator API for
// agents, their credentials, kill switches and operators. Requests are validated with these schemas and
// /openapi.json is generated from them, like src/http/schemas.ts.
import { z } from 'zod';
import { RISK_TIERS } from '../contracts/types';

const AGENT_STATUSES = ['active', 'suspended', 'decommissioned'] as const;
const personId = z.string().min(1).max(64);
const actionName = z.string().min(1).max(128);
const rate = z
  .string()
  .regex(/^\d+\/\d*(s|m|h)$/, 'a rate such as "60/m", "10/s" or "1000/h"')
  .describe('Request rate of the agent: "60/m", "10/s", "1000/h" (token bucket, burst = the count).');
const reason = z.string().trim().min(1).max(2000);

// --- OAuth2 and JWKS -------------------------------------------------------------------------------------------------

export const tokenRequestSchema = z
  .object({
    grant_type: z.literal('client_credentials').describe('Only the client credentials grant.'),
    client_id: z.string().optional().describe('The agent id (or use HTTP Basic).'),
    client_secret: z.string().optional().describe('The agent’s client secret (or use HTTP Basic).'),
    scope: z
      .string()
      .optional()
      .describe('Space-separated actions to grant; default: every action the agent may request.'),
  })
  .describe('OAuth2 client credentials token request (application/x-www-form-urlencoded).');

export const tokenResponseSchema = z
  .object({
    access_token: z
      .string()
      .describe('An EdDSA JWT (typ at+jwt): sub = agent id, aud, iss, scope, jti; at most 15 min.'),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().describe('Seconds until it expires.'),
    scope: z.string().describe('The actions granted, space-separated.'),
  })
  .describe('An access token.');

export const oauthErrorSchema = z
  .object({
    error: z.enum(['invalid_request', 'invalid_client', 'invalid_grant', 'unsupported_grant_type', 'invalid_scope']),
    error_description: z.string(),
  })
  .describe('RFC 6749 §5.2 error response.');

export const jwksSchema = z
  .object({ keys: z.array(z.record(z.string(), z.unknown())) })
  .describe('A JSON Web Key Set (public keys only).');

// --- agents ----------------------------------------------------------------------------------------------------------

export const agentListQuerySchema = z.object({
  status: z.enum(AGENT_STATUSES).optional().describe('Only agents with this status.'),
  owner: personId.optional().describe('Only agents this person owns.'),
});

export const newAgentSchema = z
  .object({
    id: z
      .string()
      .min(1)
      .max(64)
      .describe('Agent id (the OAuth2 client id): lowercase letters, digits, ".", "_", "-".'),
    name: z.string().min(1).max(200).optional(),
    owner: personId.describe('The person accountable for the agent (a key of `people`).'),
    description: z.string().max(2000).optional(),
    riskTier: z.enum(RISK_TIERS).optional().describe('Default medium.'),
    allowedActions: z.array(actionName).max(500).describe('Actions the agent may request.'),
    rateLimit: rate.optional(),
  })
  .strict()
  .describe('A new agent; its first client secret is returned once.');

export const agentPatchSchema = z
  .object({
    name: z.string().min(1).max(200).optional(),
    owner: personId.optional(),
    description: z.string().max(2000).optional(),
    riskTier: z.enum(RISK_TIERS).optional(),
    allowedActions: z.array(actionName).max(500).optional(),
    rateLimit: rate.nullable().optional().describe('null returns the agent to the deployment default.'),
  })
  .strict()
  .describe('Fields to change; every change is logged with its old and new value.');

export const statusChangeSchema = z
  .object({ reason: reason.optional().describe('Why; kept in the change log.') })
  .strict()
  .describe('Suspends, resumes or decommissions an agent.');

export const rotateCredentialsSchema = z
  .object({
    overlapSeconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 24 * 3600)
      .optional()
      .describe('How long the previous secrets stay valid (default: COUNTERSIGN_SECRET_ROTATION_OVERLAP).'),
  })
  .strict()
  .describe('Issues a new client secret.');

export const agentSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    owner: z.string(),
    description: z.string(),
    riskTier: z.enum(RISK_TIERS),
    allowedActions: z.array(z.string()),
    status: z.enum(AGENT_STATUSES),
    statusReason: z.string().optional(),
    rateLimit: z.string().optional(),
    source: z.enum(['config', 'operator']),
    createdAt: z.string(),
    createdBy: z.string(),
    updatedAt: z.string(),
    lastActiveAt: z.string().optional().describe('Last token issued or request authenticated (to the minute).'),
  })
  .describe('An agent of the registry.');

export const agentListSchema = z.object({ items: z.array(agentSchema) }).describe('The agent inventory.');

export const credentialInfoSchema = z
  .object({
    id: z.string(),
    createdAt: z.string(),
    createdBy: z.string(),
    expiresAt: z.string().optional(),
    revokedAt: z.string().optional(),
    active: z.boolean(),
  })
  .describe('A client credential, without its secret.');

export const agentChangeSchema = z.object({
  id: z.number().int(),
  agentId: z.string().describe('The agent changed.'),
  at: z.string(),
  actor: z.string(),
  change: z.string(),
  details: z.record(z.string(), z.unknown()),
});

export const agentDetailSchema = z
  .object({ agent: agentSchema, credentials: z.array(credentialInfoSchema), changes: z.array(agentChangeSchema) })
  .describe('An agent, its credentials and its change log.');

export const issuedSecretSchema = z
  .object({
    clientId: z.string(),
    clientSecret: z.string().describe('Shown once; stored only as a hash.'),
    credentialId: z.string(),
    previousValidUntil: z.string().optional().describe('When the previous secrets stop working (rotation).'),
  })
  .describe('A new client secret.');

export const agentCreatedSchema = z
  .object({ agent: agentSchema, credentials: issuedSecretSchema })
  .describe('The new agent and its first client secret.');

// --- kill switches ---------------------------------------------------------------------------------------------------

const scopeFields = {
  agent: z.string().min(1).max(64).optional().describe('One agent.'),
  action: z.string().min(1).max(128).optional().describe('One action, or a family ending in `*` (`payments.*`).'),
  all: z.boolean().optional().describe('Every agent and action (stands alone).'),
};

export const killSwitchRequestSchema = z
  .object({ ...scopeFields, reason: reason.describe('Why; shown to agents refused by it and kept in the record.') })
  .strict()
  .describe('Pulls a kill switch: an agent, an action, an agent’s action, or everything.');

export const killSwitchLiftSchema = z
  .object({ ...scopeFields, reason: reason.optional().describe('Why it is lifted.') })
  .strict()
  .describe('Lifts the kill switches of exactly this scope.');

export const killSwitchListQuerySchema = z.object({
  history: z.enum(['true', 'false']).optional().describe('Also list lifted switches, newest first (the record).'),
});

export const killSwitchSchema = z
  .object({
    id: z.string(),
    scope: z.object({ agentId: z.string().optional(), action: z.string().optional() }),
    reason: z.string(),
    engagedBy: z.string(),
    engagedAt: z.string(),
    liftedAt: z.string().optional(),
    liftedBy: z.string().optional(),
    liftReason: z.string().optional(),
  })
  .describe('A kill switch.');

export const killSwitchEngagedSchema = z
  .object({
    killSwitch: killSwitchSchema,
    created: z.boolean().describe('False when the same scope was already switched off.'),
    inScope: z.number().int().describe('Running requests in scope when the switch was pulled.'),
    operation: z
      .object({
        id: z.string().describe('The operation that cancels them.'),
        href: z.string().describe('Where its progress is read.'),
      })
      .describe('Cancelling drains after the answer; read its progress here.'),
  })
  .describe('The switch, how many running requests it reaches, and the operation that cancels them.');

export const killSwitchOperationSchema = z
  .object({
    id: z.string(),
    state: z.enum(['running', 'completed', 'failed', 'unknown']),
    total: z.number().int().describe('Requests the operation reaches.'),
    completed: z.number().int().describe('Requests sent the cancellation so far.'),
    failed: z.number().int().describe('Requests that could not be sent it (closed meanwhile, say).'),
    startedAt: z.string().optional(),
    closedAt: z.string().optional(),
  })
  .describe('Progress of a kill switch’s cancellation of the running requests in its scope.');

export const killSwitchListSchema = z
  .object({ active: z.array(killSwitchSchema), history: z.array(killSwitchSchema).optional() })
  .describe('Switches on now (and the record when asked).');

export const killSwitchLiftedSchema = z.object({ lifted: z.array(killSwitchSchema) }).describe('The switches lifted.');

// --- operators -------------------------------------------------------------------------------------------------------

export const newOperatorSchema = z
  .object({ id: personId.describe('A person of the config (`people`).'), name: z.string().min(1).max(200).optional() })
  .strict()
  .describe('A new operator; the first one is created with the bootstrap token COUNTERSIGN_ADMIN_TOKEN.');

export const newOperatorTokenSchema = z
  .object({ label: z.string().min(1).max(100).optional().describe('What the token is for (a laptop, CI).') })
  .strict()
  .describe('Another personal token for the calling operator.');

export const issuedOperatorTokenSchema = z
  .object({
    operatorId: z.string(),
    tokenId: z.string(),
    token: z.string().describe('Shown once; stored only as a hash.'),
  })
  .describe('A personal operator token.');

export const operatorSchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  disabled: z.boolean(),
});

export const operatorListSchema = z.object({ items: z.array(operatorSchema) }).describe('Operators.');
