// OAuth2 client credentials: the token endpoint's logic and the verification of the access tokens it issues.
// Tokens are short-lived EdDSA JWTs (RFC 9068 `at+jwt`): sub = agent id, aud, iss, scope = the actions granted, jti.
// Verification checks signature, kid, times and audience, then the agent's standing on every request (from the
// directory's cache, at most a few seconds old), so a suspension or decommissioning takes effect without revocation
// lists.
import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { AgentRecord } from '../agents';
import { AppError } from '../errors';
import type { ClientCredentials } from './credentials';
import { toAgentRecord, type RegistryAgentDirectory } from './directory';
import type { RegisteredAgent } from './registry';
import { systemClock, type Clock } from './secrets';
import { SIGNING_ALG, type SigningKeys } from './signing-keys';

/** The longest access token lifetime the service will issue (the issue's bound). */
export const MAX_TOKEN_TTL_MS = 15 * 60_000;
const TOKEN_TYPE = 'at+jwt';

/** Why a presented access token was refused. */
export type TokenRefusal =
  | 'malformed'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_audience'
  | 'wrong_issuer'
  | 'bad_signature'
  | 'unknown_key'
  | 'agent_inactive'
  | 'unmapped_subject';

/** A refused access token: 401 with a Bearer challenge (RFC 6750 `invalid_token`). */
export class TokenError extends AppError {
  readonly refusal: TokenRefusal;
  constructor(refusal: TokenRefusal, description: string) {
    super('unauthorized', `access token refused: ${description}`, {
      headers: { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${description}"` },
    });
    this.refusal = refusal;
  }
}

export interface AccessTokenClaims extends JWTPayload {
  sub: string;
  scope: string;
  jti: string;
}

/** A verified agent token. `record.allowedActions` is narrowed to the token's scope. */
export interface VerifiedAgentToken {
  agent: RegisteredAgent;
  record: AgentRecord;
  scopes: string[];
  claims: AccessTokenClaims;
  kid: string;
}

/** What the token endpoint sends back: a JSON body, a status and headers, success or RFC 6749 error alike. */
export interface TokenEndpointResponse {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** The parts of a `POST /oauth/token` request the endpoint reads. */
export interface TokenEndpointRequest {
  /** The Authorization header, if any (HTTP Basic client authentication). */
  authorization?: string;
  /** The parsed application/x-www-form-urlencoded body. */
  form: Record<string, unknown>;
}

export interface TokenServiceDeps {
  keys: SigningKeys;
  credentials: ClientCredentials;
  directory: RegistryAgentDirectory;
  audience: string;
  issuer: string;
  /** Access token lifetime in ms; at most 15 minutes. */
  ttlMs: number;
  /** Clock skew accepted on exp/nbf, in seconds (default 5). */
  clockToleranceSeconds?: number;
  clock?: Clock;
  /** Called when an agent obtains a token (last activity). */
  onIssued?: (agentId: string) => void;
  /** Called when an authenticated agent asks for a scope it may not have (the boundary-testing signal). */
  onScopeRefused?: (agentId: string, scopes: string[]) => void;
}

/** Creates the token service. */
export function createTokenService(deps: TokenServiceDeps) {
  if (deps.ttlMs <= 0 || deps.ttlMs > MAX_TOKEN_TTL_MS)
    throw new Error('access token lifetime must be within 15 minutes');
  const clock = deps.clock ?? systemClock;
  const tolerance = deps.clockToleranceSeconds ?? 5;
  // Tokens whose signature and claims verified, until they expire: an agent sends the same token for minutes, and the
  // signature of an exact string under a known key cannot change. Times and the key are re-checked on every use, and
  // the agent's standing is always read (below), so nothing a cache hit skips could have changed the answer.
  const verified = new Map<string, { claims: AccessTokenClaims; kid: string; notBeforeMs: number; untilMs: number }>();

  /** Signs an access token for an agent, granting the requested actions (default: all it may request). */
  async function issueFor(
    agent: RegisteredAgent,
    requested?: readonly string[],
  ): Promise<{ accessToken: string; expiresIn: number; scope: string; jti: string; kid: string }> {
    const scopes = requested ? [...new Set(requested)] : agent.allowedActions;
    const outside = scopes.filter((s) => !agent.allowedActions.includes(s));
    if (outside.length > 0)
      throw new AppError('forbidden', `scope outside the agent's allowed actions: ${outside.join(' ')}`);
    const { kid, key } = await deps.keys.current();
    const nowS = Math.floor(clock().getTime() / 1000);
    const expiresIn = Math.floor(deps.ttlMs / 1000);
    const jti = randomUUID();
    const scope = scopes.join(' ');
    const accessToken = await new SignJWT({ scope })
      .setProtectedHeader({ alg: SIGNING_ALG, kid, typ: TOKEN_TYPE })
      .setIssuer(deps.issuer)
      .setSubject(agent.id)
      .setAudience(deps.audience)
      .setIssuedAt(nowS)
      .setNotBefore(nowS)
      .setExpirationTime(nowS + expiresIn)
      .setJti(jti)
      .sign(key);
    return { accessToken, expiresIn, scope, jti, kid };
  }

  /** `POST /oauth/token`, grant_type=client_credentials, client authentication by HTTP Basic or form fields. */
  async function tokenEndpoint(request: TokenEndpointRequest): Promise<TokenEndpointResponse> {
    const form = request.form;
    const field = (name: string): string | undefined => {
      const v = form[name];
      return typeof v === 'string' && v !== '' ? v : undefined;
    };
    const grantType = field('grant_type');
    if (!grantType) return oauthError(400, 'invalid_request', 'grant_type is required');
    if (grantType !== 'client_credentials') {
      return oauthError(400, 'unsupported_grant_type', 'only client_credentials is supported');
    }
    const basic = parseBasic(request.authorization);
    if (basic === null) return oauthError(401, 'invalid_client', 'malformed Basic credentials', true);
    const formId = field('client_id');
    const formSecret = field('client_secret');
    if (basic && formSecret) {
      return oauthError(400, 'invalid_request', 'use one client authentication method, not both');
    }
    const clientId = basic?.id ?? formId;
    const clientSecret = basic?.secret ?? formSecret;
    if (!clientId || !clientSecret) return oauthError(401, 'invalid_client', 'client authentication required', true);
    if (basic && formId && formId !== basic.id) return oauthError(400, 'invalid_request', 'client_id differs');

    const agent = await deps.credentials.verify(clientId, clientSecret);
    if (!agent) return oauthError(401, 'invalid_client', 'client authentication failed', Boolean(basic));

    const scopeText = field('scope');
    const requested = scopeText ? scopeText.split(' ').filter(Boolean) : undefined;
    const refusedScopes = requested?.filter((s) => !agent.allowedActions.includes(s)) ?? [];
    if (refusedScopes.length > 0) {
      deps.onScopeRefused?.(agent.id, refusedScopes);
      return oauthError(400, 'invalid_scope', 'scope names an action the agent may not request');
    }
    const issued = await issueFor(agent, requested);
    deps.onIssued?.(agent.id);
    return {
      status: 200,
      headers: NO_STORE,
      body: {
        access_token: issued.accessToken,
        token_type: 'Bearer',
        expires_in: issued.expiresIn,
        scope: issued.scope,
      },
    };
  }

  /** Verifies an agent access token and the agent's current standing; throws TokenError with the reason. */
  async function verify(token: string): Promise<VerifiedAgentToken> {
    const hit = verified.get(token);
    const nowMs = clock().getTime();
    if (hit && nowMs >= hit.notBeforeMs && nowMs < hit.untilMs && (await deps.keys.verificationKey(hit.kid))) {
      return standing(hit.claims, hit.kid);
    }
    let payload: JWTPayload;
    let kid = '';
    try {
      const result = await jwtVerify(
        token,
        async (header) => {
          if (header.alg !== SIGNING_ALG || typeof header.kid !== 'string') throw new TokenError('malformed', 'no kid');
          kid = header.kid;
          const key = await deps.keys.verificationKey(header.kid);
          if (!key) throw new TokenError('unknown_key', 'unknown signing key');
          return key;
        },
        {
          algorithms: [SIGNING_ALG],
          audience: deps.audience,
          issuer: deps.issuer,
          typ: TOKEN_TYPE,
          currentDate: clock(),
          clockTolerance: tolerance,
          maxTokenAge: Math.floor(MAX_TOKEN_TTL_MS / 1000) + tolerance,
          requiredClaims: ['sub', 'exp', 'iat', 'nbf', 'jti', 'scope'],
        },
      );
      payload = result.payload;
    } catch (err) {
      throw toTokenError(err);
    }
    const claims = payload as AccessTokenClaims;
    if (typeof claims.scope !== 'string' || typeof claims.sub !== 'string')
      throw new TokenError('malformed', 'bad claims');
    remember(token, claims, kid, nowMs);
    return standing(claims, kid);
  }

  /** Caches a verified token until its expiry (or its maximum age, whichever is first), bounded in size. */
  function remember(token: string, claims: AccessTokenClaims, kid: string, nowMs: number): void {
    if (verified.size >= MAX_VERIFIED_TOKENS) {
      for (const [t, v] of verified) if (v.untilMs <= nowMs) verified.delete(t);
      // Still full of live tokens: drop the oldest half; they are verified again on their next use.
      if (verified.size >= MAX_VERIFIED_TOKENS) {
        let drop = verified.size / 2;
        for (const t of verified.keys()) {
          if (drop-- <= 0) break;
          verified.delete(t);
        }
      }
    }
    const iat = typeof claims.iat === 'number' ? claims.iat : 0;
    const untilMs = Math.min((claims.exp ?? 0) * 1000, (iat + Math.floor(MAX_TOKEN_TTL_MS / 1000)) * 1000);
    const notBeforeMs = (typeof claims.nbf === 'number' ? claims.nbf : iat) * 1000;
    verified.set(token, { claims, kid, notBeforeMs, untilMs });
  }

  /** The agent behind verified claims, if it may act now. */
  async function standing(claims: AccessTokenClaims, kid: string): Promise<VerifiedAgentToken> {
    const agent = await deps.directory.lookup(claims.sub);
    if (!agent || agent.status !== 'active') throw new TokenError('agent_inactive', 'agent is not active');
    const scopes = claims.scope.split(' ').filter(Boolean);
    const record = toAgentRecord(agent);
    // The token grants at most its scope, and never more than the registry allows now.
    record.allowedActions = record.allowedActions.filter((a) => scopes.includes(a));
    return { agent, record, scopes, claims, kid };
  }

  return { issueFor, tokenEndpoint, verify };
}

export type TokenService = ReturnType<typeof createTokenService>;

/** Most verified tokens kept (one per live agent token is typical; a few KiB each). */
const MAX_VERIFIED_TOKENS = 10_000;

/** True when a bearer credential has the shape of a JWT (three base64url parts). */
export function looksLikeJwt(credential: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(credential);
}

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

function oauthError(status: number, error: string, description: string, challenge = false): TokenEndpointResponse {
  return {
    status,
    headers: { ...NO_STORE, ...(challenge ? { 'WWW-Authenticate': 'Basic realm="countersign"' } : {}) },
    body: { error, error_description: description },
  };
}

/** Client id and secret from HTTP Basic (RFC 6749 §2.3.1: each form-urlencoded); undefined: none; null: malformed. */
function parseBasic(header: string | undefined): { id: string; secret: string } | undefined | null {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m?.[1]) return /^Basic\b/i.test(header) ? null : undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  try {
    const id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
    const secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
    return { id, secret };
  } catch (err) {
    if (err instanceof URIError) return null;
    throw err;
  }
}

function toTokenError(err: unknown): TokenError {
  if (err instanceof TokenError) return err;
  if (err instanceof joseErrors.JWTExpired) return new TokenError('expired', 'token expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'nbf':
        return new TokenError('not_yet_valid', 'token not yet valid');
      case 'iat':
        return new TokenError(
          err.reason === 'check_failed' ? 'not_yet_valid' : 'malformed',
          'token issued in the future',
        );
      case 'aud':
        return new TokenError('wrong_audience', 'token is for another audience');
      case 'iss':
        return new TokenError('wrong_issuer', 'token is from another issuer');
      default:
        return new TokenError('malformed', `invalid claim ${err.claim}`);
    }
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new TokenError('bad_signature', 'bad signature');
  if (err instanceof joseErrors.JOSEError) return new TokenError('malformed', 'malformed token');
  throw err;
}
