// The YAML configuration: agents, people, approver groups, connectors, the action catalog and policy rules.
// One zod schema; every key is described so the published JSON Schema documents itself.
import ms from 'ms';
import { z } from 'zod';
import { RISK_TIERS } from '../contracts/types';

const id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits, ".", "_" and "-" only');

const duration = z
  .string()
  .describe('A duration such as "90s", "15m", "4h" or "2d".')
  .transform((value, ctx) => {
    const parsed = ms(value as ms.StringValue);
    if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed <= 0) {
      ctx.addIssue({ code: 'custom', message: `not a positive duration: "${value}"` });
      return z.NEVER;
    }
    return parsed;
  });

/** A duration that may be zero ("0s"), as a number of milliseconds. */
const retentionSchema = z
  .string()
  .describe('A duration such as "0s", "15m", "4h" or "2d".')
  .transform((value, ctx) => {
    const parsed = ms(value as ms.StringValue);
    if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
      ctx.addIssue({ code: 'custom', message: `not a duration of zero or more: "${value}"` });
      return z.NEVER;
    }
    return parsed;
  });

export const riskTierSchema = z.enum(RISK_TIERS).describe('Risk tier of an action.');

const personSchema = z
  .object({
    name: z.string().min(1).optional().describe('Display name.'),
    email: z.email().optional().describe('Email address; used to resolve `onBehalfOf` and owners to people.'),
    slack: z
      .string()
      .regex(/^[UW][A-Z0-9]+$/)
      .optional()
      .describe('Slack user id (U…/W…).'),
    subject: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Their subject (`sub`) at the operators’ identity provider, for `federation.operatorSignIn.personClaim: sub`.',
      ),
  })
  .strict()
  .describe('A person who may own agents, act through them or approve requests. The key is their operator identity.');

const approverGroupSchema = z
  .object({
    description: z.string().optional().describe('What the group is for.'),
    members: z.array(id).default([]).describe('Person ids (keys of `people`).'),
    slackChannel: z
      .string()
      .regex(/^[CG][A-Z0-9]+$/)
      .optional()
      .describe('Channel for approval messages; without it each member gets a direct message.'),
    slackUsergroup: z
      .string()
      .regex(/^S[A-Z0-9]+$/)
      .optional()
      .describe('Slack user group whose members may also approve (resolved at decision time).'),
  })
  .strict();

const credentialSchema = z
  .union([
    z.object({ env: z.string().min(1).describe('Environment variable holding the credential.') }).strict(),
    z.object({ file: z.string().min(1).describe('File holding the credential.') }).strict(),
    z.object({ secret: id.describe('Id of a secret in the Countersign vault.') }).strict(),
  ])
  .describe('Where the connector finds its credential. Resolved inside the executing activity only.');

const httpConnectorSchema = z
  .object({
    type: z.literal('http'),
    description: z.string().optional(),
    allowedHosts: z
      .array(z.string().min(1))
      .min(1)
      .describe('Hosts (host or host:port) the connector may call; anything else fails without a call.'),
    timeout: duration.default(10_000).describe('Per-attempt timeout of the downstream call.'),
    credential: credentialSchema.optional(),
    auth: z
      .object({
        header: z.string().default('Authorization').describe('Header that carries the credential.'),
        scheme: z.string().default('Bearer').describe('Prefix before the credential; empty for none.'),
      })
      .strict()
      .default({ header: 'Authorization', scheme: 'Bearer' }),
    maxAttempts: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(5)
      .describe('Calls sent at most, for network errors, 429 and 5xx (attempts refused before sending do not count).'),
    idempotency: z
      .enum(['key', 'none'])
      .default('none')
      .describe(
        'How the downstream treats a repeated call. `key`: it honours Idempotency-Key, so a call that may have arrived ' +
          'is re-sent with the same key. `none` (default): a call that may have arrived is never re-sent; the request ' +
          'ends `failed` with outcome `unknown`.',
      ),
  })
  .strict();

export const connectorSchema = z.discriminatedUnion('type', [httpConnectorSchema]).describe('A credential domain.');

const httpActionSchema = z
  .object({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
    url: z
      .string()
      .min(1)
      .describe('URL template; `{name}` placeholders are filled from params, URL-encoded. Others are an error.'),
    headers: z.record(z.string(), z.string()).default({}).describe('Static headers sent with every call.'),
    body: z
      .enum(['params', 'none'])
      .default('params')
      .describe('`params`: the parameters as JSON body (placeholders excluded); `none`: no body.'),
  })
  .strict();

const actionSchema = z
  .object({
    description: z
      .string()
      .min(1)
      .describe('What the action does; shown to approvers and to LLMs as a tool description.'),
    risk: riskTierSchema,
    connector: id.describe('Key of `connectors` that executes the action.'),
    http: httpActionSchema.optional().describe('Request template for `http` connectors.'),
    params: z
      .record(z.string(), z.unknown())
      .default({ type: 'object' })
      .describe('JSON Schema (2020-12) of the parameters; validated at submit and published in OpenAPI.'),
  })
  .strict();

const agentSchema = z
  .object({
    id,
    name: z.string().optional().describe('Display name.'),
    owner: id.describe('Person id of the human accountable for the agent.'),
    description: z.string().default('').describe('What the agent is for.'),
    allowedActions: z.array(z.string().min(1)).default([]).describe('Actions the agent may request.'),
    enabled: z.boolean().default(true).describe('A disabled agent can submit nothing and execute nothing.'),
    apiKeySha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional()
      .describe('SHA-256 (hex) of the agent API key sent as `Authorization: Bearer`.'),
  })
  .strict();

const ruleSchema = z
  .object({
    id,
    description: z.string().default(''),
    match: z
      .object({
        actions: z.array(z.string().min(1)).optional().describe('Action names; `*` suffix matches a prefix.'),
        agents: z.array(id).optional().describe('Agent ids.'),
        risk: z.array(riskTierSchema).optional().describe('Risk tiers.'),
      })
      .strict()
      .default({})
      .describe('All given lists must match; an absent list matches everything.'),
    when: z
      .string()
      .min(1)
      .optional()
      .describe(
        'CEL condition over `params`, `agent`, `request` (reason, onBehalfOf, target, time), `action`, the agent’s ' +
          "usage (`usage.sum('payments.refund', 'amount', '24h')`, `usage.count('customers.delete', '1h')`) and " +
          '`signals` (firstUse, volumeAboveBaseline, outsideWorkingHours, recentVolume, baselineVolume, ' +
          'repeatedRefusals, recentRefusals).',
      ),
    effect: z.enum(['allow', 'deny', 'require_approval']),
    reason: z.string().optional().describe('For `deny`: the reason returned to the agent.'),
    approvers: id.optional().describe('For `require_approval`: the approver group.'),
    quorum: z.number().int().min(1).max(10).default(1).describe('Distinct people of the group who must approve.'),
    remindAfter: duration.optional().describe('Remind the group after this long, and again every time it passes.'),
    escalateAfter: duration.optional().describe('Add `escalateTo` to the eligible approvers after this long.'),
    escalateTo: id.optional().describe('Approver group added at escalation.'),
    expireAfter: duration.default(86_400_000).describe('Reject as `expired` after this long.'),
  })
  .strict();

const weekdaySchema = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
const clockSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day such as "09:00" (24h)');

const signalsSchema = z
  .object({
    workingHours: z
      .object({
        timezone: z
          .string()
          .default('UTC')
          .refine((tz) => {
            try {
              new Intl.DateTimeFormat('en-US', { timeZone: tz });
              return true;
            } catch {
              return false;
            }
          }, 'an IANA time zone such as "Europe/Berlin"')
          .describe('IANA time zone the hours are in.'),
        days: z.array(weekdaySchema).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri']).describe('Working days.'),
        start: clockSchema.default('09:00').describe('Start of the working day.'),
        end: clockSchema
          .default('18:00')
          .describe('End of the working day; before `start`: the shift ends the next day.'),
      })
      .strict()
      .optional()
      .describe('When people are around; unset: `signals.outsideWorkingHours` is always false.'),
    volume: z
      .object({
        window: duration.default(3_600_000).describe('The recent window whose volume is compared (default 1h).'),
        lookback: duration.default(7 * 86_400_000).describe('How far back the baseline reaches (default 7d).'),
        factor: z.number().positive().default(3).describe('Raised above this multiple of the baseline per window.'),
        minimum: z.number().int().min(1).default(10).describe('Never raised at or below this many per window.'),
      })
      .strict()
      .default({ window: 3_600_000, lookback: 7 * 86_400_000, factor: 3, minimum: 10 })
      .describe('`signals.volumeAboveBaseline`: the agent’s executions in the window against its own average.'),
    refusals: z
      .object({
        window: duration.default(600_000).describe('How far back refusals are counted (default 10m).'),
        threshold: z
          .number()
          .int()
          .min(1)
          .default(5)
          .describe('`signals.repeatedRefusals` is raised at this many refusals in the window.'),
      })
      .strict()
      .default({ window: 600_000, threshold: 5 })
      .describe(
        '`signals.repeatedRefusals` and `signals.recentRefusals`: the agent probing its boundary (policy denials, ' +
          'actions outside its allowed list, refused scopes) within the window.',
      ),
  })
  .strict()
  .default({
    volume: { window: 3_600_000, lookback: 7 * 86_400_000, factor: 3, minimum: 10 },
    refusals: { window: 600_000, threshold: 5 },
  })
  .describe('Anomaly signals computed for each request, readable in rules as `signals.*`.');

const webhooksSchema = z
  .object({
    secret: credentialSchema
      .optional()
      .describe(
        'Signing secret of completion webhooks (Standard Webhooks: `whsec_` and base64 of at least 24 random bytes) for ' +
          'every agent without its own. Resolved by the worker only; unset with no `agentSecrets`: callbacks are refused.',
      ),
    agentSecrets: z
      .record(id, credentialSchema)
      .default({})
      .describe(
        'Agent id → its own signing secret, so one agent’s receiver cannot verify (or forge) another’s events.',
      ),
    allowedHosts: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Hosts (host or host:port) a callback may reach although it is plain http or lies in a private or loopback ' +
          'range; every other callback must be https to a public address.',
      ),
    allowPrivateNetworks: z
      .boolean()
      .default(false)
      .describe('Let callbacks reach private, loopback and link-local addresses (still https unless allow-listed).'),
    timeout: duration.default(10_000).describe('Per-attempt timeout of a delivery (default 10s).'),
    firstRetryAfter: duration
      .default(5_000)
      .describe('Wait before the first retry of a failed delivery; each further wait doubles, up to 1h (default 5s).'),
    retryFor: duration
      .default(86_400_000)
      .describe('A delivery is retried for this long after its first attempt, then given up (default 24h).'),
  })
  .strict()
  .default({
    agentSecrets: {},
    allowedHosts: [],
    allowPrivateNetworks: false,
    timeout: 10_000,
    firstRetryAfter: 5_000,
    retryFor: 86_400_000,
  })
  .describe(
    'Completion webhooks: signed POSTs to the `callbackUrl` an agent gives at submit, at `pending_approval` and at the ' +
      'terminal status.',
  );

const JWS_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

const algorithmsSchema = z
  .array(z.enum(JWS_ALGORITHMS))
  .min(1)
  .default(['RS256', 'ES256'])
  .describe('Signature algorithms accepted from this issuer; anything else (`none`, HMAC) is refused.');

const clockSkewSchema = z
  .string()
  .default('30s')
  .describe('Clock skew tolerated on `exp`, `nbf` and `iat` (at most 5m).')
  .transform((value, ctx) => {
    const parsed = ms(value as ms.StringValue);
    if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0 || parsed > 300_000) {
      ctx.addIssue({ code: 'custom', message: `not a duration between 0s and 5m: "${value}"` });
      return z.NEVER;
    }
    return parsed;
  });

const jwksSchema = z
  .object({ keys: z.array(z.record(z.string(), z.unknown())).min(1).describe('Public JWKs.') })
  .describe('A static JSON Web Key Set (public keys only), instead of `jwksUri`.');

const jwksCachingShape = {
  jwksCacheMaxAge: duration
    .default(600_000)
    .describe('How long fetched keys are used before the JWKS is fetched again (default 10m).'),
  jwksCooldown: duration
    .default(30_000)
    .describe('Least time between two fetches when a token names an unknown `kid` (default 30s).'),
};

const agentIssuerSchema = z
  .object({
    issuer: z.string().min(1).describe('The `iss` of the tokens, exactly as the identity provider writes it.'),
    jwksUri: z.url().optional().describe('Where the issuer publishes its signing keys (JWKS), fetched and cached.'),
    jwks: jwksSchema.optional(),
    audience: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .describe('The `aud` a token must carry (one of them, when a list).'),
    algorithms: algorithmsSchema,
    clockSkew: clockSkewSchema,
    agentClaim: z
      .enum(['sub', 'azp', 'client_id', 'spiffe'])
      .default('sub')
      .describe(
        'The claim that names the agent; `spiffe`: `sub` is a SPIFFE ID (a JWT-SVID) in `trustDomain`, mapped by `agents`.',
      ),
    trustDomain: z
      .string()
      .regex(/^[a-z0-9._-]+$/, 'a SPIFFE trust domain such as "prod.example.com"')
      .optional()
      .describe('For `agentClaim: spiffe`: the only trust domain whose SPIFFE IDs are accepted.'),
    agents: z
      .record(z.string().min(1), id)
      .optional()
      .describe(
        'Claim value (or SPIFFE ID) → registered agent id. Unset: the claim value itself must be the agent id. A value not listed is refused.',
      ),
    ...jwksCachingShape,
  })
  .strict()
  .describe('An identity provider whose tokens agents may present instead of Countersign’s own.');

const operatorSignInSchema = z
  .object({
    issuer: z
      .url()
      .describe('The OpenID provider operators sign in with (discovery at /.well-known/openid-configuration).'),
    clientId: z.string().min(1).describe('The public client `countersign login` uses (device flow; no secret).'),
    audience: z
      .string()
      .min(1)
      .optional()
      .describe('The `aud` the API accepts on operators’ ID tokens; default `clientId`.'),
    scopes: z
      .array(z.string().min(1))
      .default(['openid', 'email', 'offline_access'])
      .describe('Scopes `countersign login` asks for (`offline_access` for a refresh token).'),
    personClaim: z
      .enum(['email', 'sub'])
      .default('email')
      .describe(
        'How a token maps to a person: `email` (verified) against `people.*.email`, or `sub` against `people.*.subject`.',
      ),
    jwksUri: z.url().optional().describe('The provider’s JWKS; default: `jwks_uri` from discovery.'),
    algorithms: algorithmsSchema,
    clockSkew: clockSkewSchema,
    ...jwksCachingShape,
  })
  .strict()
  .describe('Operator sign-in through the company’s OpenID provider (`countersign login`); personal tokens stay.');

const federationSchema = z
  .object({
    agentIssuers: z
      .array(agentIssuerSchema)
      .default([])
      .describe('Identity providers trusted to issue agent tokens; each token must map to a registered agent.'),
    operatorSignIn: operatorSignInSchema.optional(),
  })
  .strict()
  .default({ agentIssuers: [] })
  .describe('Identity from the enterprise: agent tokens and operator sign-in from the company’s identity provider.');

/**
 * The control worker's default workflow cache: parked requests beyond it replay when they wake instead of holding
 * about 0.3 MB each (the SDK's own default grows with the machine's memory, to thousands).
 */
export const WORKFLOW_CACHE_DEFAULT = 64;

export const configSchema = z
  .object({
    version: z.literal(1).default(1).describe('Config format version.'),
    people: z.record(id, personSchema).default({}).describe('People, keyed by their operator identity.'),
    agents: z.array(agentSchema).default([]).describe('Agents allowed to submit requests.'),
    approvers: z.record(id, approverGroupSchema).default({}).describe('Approver groups.'),
    connectors: z.record(id, connectorSchema).default({}).describe('Connectors, one per credential domain.'),
    actions: z
      .record(
        z.string().regex(/^[a-z0-9_]+(\.[a-z0-9_]+)+$/, 'dotted lowercase name such as payments.refund'),
        actionSchema,
      )
      .default({})
      .describe('The action catalog.'),
    policies: z
      .object({
        mode: z
          .enum(['enforce', 'shadow'])
          .default('enforce')
          .describe('`shadow` records what would have happened and lets requests through.'),
        rules: z.array(ruleSchema).default([]),
      })
      .strict()
      .default({ mode: 'enforce', rules: [] }),
    signals: signalsSchema,
    execution: z
      .object({
        recheckWindow: duration
          .default(600_000)
          .describe(
            'How long the re-check before execution keeps retrying while the agent’s standing cannot be confirmed (registry unreachable); then the request ends `failed`, not executed (default 10m).',
          ),
        secretRetention: retentionSchema
          .default(0)
          .describe(
            'How long a request’s sealed secret parameters (values its action’s schema marks `writeOnly` or `x-secret`, kept out of Temporal) are kept after the request reaches its terminal state, e.g. "1h" to allow an operator to look into a failure; "0s" (the default) erases them at once.',
          ),
        secretExpiryGrace: duration
          .default(86_400_000)
          .describe(
            'How long past a request’s own deadline (its approval expiry, else its submit) plus the re-check window its sealed secret parameters are erased even if the request never reported its end, as a workflow terminated from Temporal does (default 1d). A request that executes later than that fails closed.',
          ),
      })
      .strict()
      .default({ recheckWindow: 600_000, secretRetention: 0, secretExpiryGrace: 86_400_000 })
      .describe('How requests behave at execution time.'),
    workers: z
      .object({
        maxCachedWorkflows: z
          .number()
          .int()
          .min(0)
          .refine((n) => n !== 1, '0 (no cache) or at least 2')
          .default(WORKFLOW_CACHE_DEFAULT)
          .describe(
            `How many request workflows the control worker keeps in memory between their steps (the Temporal SDK's sticky cache). A request parked awaiting approval beyond this many is evicted and replayed from its history when a decision, timer or cancellation arrives, so memory stays bounded however many wait; 0 keeps none (every step replays). Default ${WORKFLOW_CACHE_DEFAULT}: room for the requests one process has in flight at once, with margin; raise it for a worker that runs more at a time. See docs/performance.md.`,
          ),
      })
      .strict()
      .default({ maxCachedWorkflows: WORKFLOW_CACHE_DEFAULT })
      .describe('How the workers of this deployment hold work in memory.'),
    webhooks: webhooksSchema,
    federation: federationSchema,
  })
  .strict()
  .superRefine(
    (config, ctx) => {
      const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
      const people = new Set(Object.keys(config.people));
      const agentIds = new Set<string>();
      config.agents.forEach((agent, i) => {
        if (agentIds.has(agent.id)) issue(['agents', i, 'id'], `duplicate agent id "${agent.id}"`);
        agentIds.add(agent.id);
        if (!people.has(agent.owner)) issue(['agents', i, 'owner'], `unknown person "${agent.owner}"`);
        agent.allowedActions.forEach((a, j) => {
          if (!(a in config.actions)) issue(['agents', i, 'allowedActions', j], `unknown action "${a}"`);
        });
      });
      for (const [name, group] of Object.entries(config.approvers)) {
        group.members.forEach((m, j) => {
          if (!people.has(m)) issue(['approvers', name, 'members', j], `unknown person "${m}"`);
        });
      }
      for (const [name, action] of Object.entries(config.actions)) {
        const connector = config.connectors[action.connector];
        if (!connector) issue(['actions', name, 'connector'], `unknown connector "${action.connector}"`);
        else if (connector.type === 'http' && !action.http)
          issue(['actions', name, 'http'], 'required for http connectors');
      }
      const issuers = new Set<string>();
      (config.federation?.agentIssuers ?? []).forEach((trusted, i) => {
        const at = (key: string) => ['federation', 'agentIssuers', i, key];
        if (issuers.has(trusted.issuer)) issue(at('issuer'), `duplicate issuer "${trusted.issuer}"`);
        issuers.add(trusted.issuer);
        if ((trusted.jwksUri === undefined) === (trusted.jwks === undefined))
          issue(at('jwksUri'), 'give jwksUri or jwks');
        if (trusted.agentClaim === 'spiffe' && !trusted.trustDomain) issue(at('trustDomain'), 'required for spiffe');
        if (trusted.agentClaim === 'spiffe' && !trusted.agents) issue(at('agents'), 'SPIFFE IDs map to agents here');
      });
      const signIn = config.federation?.operatorSignIn;
      if (signIn?.personClaim === 'sub' && !Object.values(config.people).some((p) => p.subject)) {
        issue(['federation', 'operatorSignIn', 'personClaim'], 'no person has a `subject` to match');
      }
      const ruleIds = new Set<string>();
      config.policies.rules.forEach((rule, i) => {
        const at = (key: string) => ['policies', 'rules', i, key];
        if (ruleIds.has(rule.id)) issue(at('id'), `duplicate rule id "${rule.id}"`);
        ruleIds.add(rule.id);
        if (rule.effect === 'deny' && !rule.reason) issue(at('reason'), 'a deny rule needs a reason for the agent');
        if (rule.effect === 'require_approval') {
          if (!rule.approvers) issue(at('approvers'), 'require_approval needs an approver group');
          else if (!(rule.approvers in config.approvers)) issue(at('approvers'), `unknown group "${rule.approvers}"`);
        }
        if (rule.escalateTo && !(rule.escalateTo in config.approvers)) {
          issue(at('escalateTo'), `unknown group "${rule.escalateTo}"`);
        }
        if ((rule.escalateAfter === undefined) !== (rule.escalateTo === undefined)) {
          issue(at('escalateTo'), 'escalateAfter and escalateTo go together');
        }
        for (const a of rule.match.actions ?? []) {
          if (!a.endsWith('*') && !(a in config.actions)) issue(at('match'), `unknown action "${a}"`);
        }
      });
    },
    { when: (payload) => crossReferencesCheckable(payload.value) },
  );

/**
 * Cross-reference checks run even when some fields failed (zod skips refinements after any issue by default), so one
 * bad duration does not hide an unknown group; they only need the containers they walk to have the right shape.
 */
function crossReferencesCheckable(value: unknown): boolean {
  if (!isRecord(value)) return false;
  const { people, agents, approvers, connectors, actions, policies } = value;
  if (!isRecord(people) || !isRecord(approvers) || !isRecord(connectors) || !isRecord(actions)) return false;
  if (!Array.isArray(agents) || !agents.every((a) => isRecord(a) && Array.isArray(a.allowedActions))) return false;
  if (!Object.values(approvers).every((g) => isRecord(g) && Array.isArray(g.members))) return false;
  if (!Object.values(actions).every(isRecord)) return false;
  if (!isRecord(policies) || !Array.isArray(policies.rules)) return false;
  return policies.rules.every((r) => isRecord(r) && isRecord(r.match));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type CountersignConfig = z.output<typeof configSchema>;
export type AgentConfig = CountersignConfig['agents'][number];
export type ActionConfig = CountersignConfig['actions'][string];
export type ConnectorConfig = CountersignConfig['connectors'][string];
export type PolicyRuleConfig = CountersignConfig['policies']['rules'][number];
export type ApproverGroupConfig = CountersignConfig['approvers'][string];
export type PersonConfig = CountersignConfig['people'][string];
export type SignalsConfig = CountersignConfig['signals'];
export type FederationConfig = CountersignConfig['federation'];
export type WebhooksConfig = CountersignConfig['webhooks'];
export type AgentIssuerConfig = FederationConfig['agentIssuers'][number];
export type OperatorSignInConfig = NonNullable<FederationConfig['operatorSignIn']>;
