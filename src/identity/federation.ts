// Identity from the enterprise: agent tokens issued by a trusted identity provider (OAuth client credentials access
// tokens, or SPIFFE JWT-SVIDs) and operators' ID tokens from the company's OpenID provider (`countersign login`).
// Each issuer's keys come from its JWKS, fetched and cached with rotation by jose's remote JWK set; when the issuer
// cannot be reached the keys last fetched still verify, and a token whose key is not among them is refused.
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { AgentRecord } from '../agents';
import type { AgentIssuerConfig, CountersignConfig, OperatorSignInConfig } from '../config/schema';
import { AppError } from '../errors';
import { toAgentRecord, type RegistryAgentDirectory } from './directory';
import type { RegisteredAgent } from './registry';
import { systemClock, type Clock } from './secrets';
import { TokenError } from './tokens';

/** A verified federated agent token. */
export interface VerifiedFederatedAgent {
  agent: RegisteredAgent;
  record: AgentRecord;
  issuer: string;
  /** The claim value the agent was mapped from (a client id, a SPIFFE ID). */
  subject: string;
  claims: JWTPayload;
}

/** A verified operator ID token, mapped to a person of the config. */
export interface VerifiedOperatorSignIn {
  person: string;
  issuer: string;
  subject: string;
}

export interface FederationDeps {
  config: CountersignConfig;
  directory: RegistryAgentDirectory;
  /** True when the person is a disabled operator (their sign-in is refused like their personal tokens). */
  operatorDisabled: (person: string) => Promise<boolean>;
  clock?: Clock;
  /** Timeout of one JWKS or discovery fetch in ms (default 5000). */
  fetchTimeoutMs?: number;
}

/** What a JWT in an Authorization header is, judged by its unverified `iss` and `aud`. */
export type FederatedKind = 'agent' | 'operator' | undefined;

/** Creates the federation verifiers for the config's `federation` section. */
export function createFederation(deps: FederationDeps) {
  const clock = deps.clock ?? systemClock;
  const timeout = deps.fetchTimeoutMs ?? 5_000;
  const { agentIssuers, operatorSignIn } = deps.config.federation;
  const agentKeys = new Map<string, { trusted: AgentIssuerConfig; keys: JWTVerifyGetKey }>();
  for (const trusted of agentIssuers) {
    const keys = trusted.jwks ? staticKeys(trusted.jwks) : remoteKeys(new URL(trusted.jwksUri ?? ''), trusted, timeout);
    agentKeys.set(trusted.issuer, { trusted, keys });
  }
  const signIn = operatorSignIn ? createOperatorVerifier(operatorSignIn, deps, timeout) : undefined;

  /** Whether Countersign should verify this token as a federated agent or operator token (undefined: its own). */
  function kindOf(token: string): FederatedKind {
    let claims: JWTPayload;
    try {
      claims = decodeJwt(token);
    } catch {
      return undefined;
    }
    if (typeof claims.iss !== 'string') return undefined;
    if (signIn && claims.iss === signIn.issuer && audiences(claims).includes(signIn.audience)) return 'operator';
    if (agentKeys.has(claims.iss)) return 'agent';
    return undefined;
  }

  /** Verifies a federated agent token and the mapped agent's standing; throws TokenError (401) with the reason. */
  async function verifyAgent(token: string): Promise<VerifiedFederatedAgent> {
    const iss = safeIssuer(token);
    const entry = iss ? agentKeys.get(iss) : undefined;
    if (!entry) throw new TokenError('wrong_issuer', 'token is from an untrusted issuer');
    const { trusted } = entry;
    const payload = await verifyWith(token, entry.keys, {
      issuer: trusted.issuer,
      audience: trusted.audience,
      algorithms: trusted.algorithms,
      clockSkewMs: trusted.clockSkew,
      now: clock(),
    });
    const subject = mappedClaim(trusted, payload);
    const agentId = trusted.agents ? trusted.agents[subject] : subject;
    if (!agentId) throw new TokenError('unmapped_subject', 'token does not map to a registered agent');
    const agent = await deps.directory.lookup(agentId);
    if (!agent) throw new TokenError('unmapped_subject', 'token does not map to a registered agent');
    if (agent.status !== 'active') throw new TokenError('agent_inactive', 'agent is not active');
    return { agent, record: toAgentRecord(agent), issuer: trusted.issuer, subject, claims: payload };
  }

  return {
    kindOf,
    verifyAgent,
    /** Verifies an operator's ID token and maps it to a person; throws TokenError (401) with the reason. */
    async verifyOperator(token: string): Promise<VerifiedOperatorSignIn> {
      if (!signIn) throw new TokenError('wrong_issuer', 'operator sign-in is not configured');
      return signIn.verify(token, clock());
    },
  };
}

export type Federation = ReturnType<typeof createFederation>;

function createOperatorVerifier(config: OperatorSignInConfig, deps: FederationDeps, timeout: number) {
  const issuer = config.issuer;
  const audience = config.audience ?? config.clientId;
  let keys: JWTVerifyGetKey | undefined;
  let discovering: Promise<JWTVerifyGetKey> | undefined;

  /** The provider's keys: from `jwksUri`, else the `jwks_uri` of its discovery document (retried after a failure). */
  function providerKeys(): Promise<JWTVerifyGetKey> {
    if (keys) return Promise.resolve(keys);
    discovering ??= (async () => {
      const uri = config.jwksUri ?? (await discoverJwksUri(issuer, timeout));
      keys = remoteKeys(new URL(uri), config, timeout);
      return keys;
    })().finally(() => {
      discovering = undefined;
    });
    return discovering;
  }

  // Each email (or subject) names at most one person; one claimed by two people maps to nobody.
  const people = new Map<string, string | null>();
  for (const [person, p] of Object.entries(deps.config.people)) {
    const value = config.personClaim === 'email' ? p.email?.toLowerCase() : p.subject;
    if (value) people.set(value, people.has(value) ? null : person);
  }

  return {
    issuer,
    audience,
    async verify(token: string, now: Date): Promise<VerifiedOperatorSignIn> {
      const payload = await verifyWith(token, await providerKeys(), {
        issuer,
        audience,
        algorithms: config.algorithms,
        clockSkewMs: config.clockSkew,
        now,
        required: ['sub', 'exp', 'iat'],
      });
      const sub = String(payload.sub);
      let value: string | undefined = sub;
      if (config.personClaim === 'email') {
        // An unverified address proves nothing about who signed in.
        value = typeof payload.email === 'string' && payload.email_verified !== false ? payload.email : undefined;
        value = value?.toLowerCase();
      }
      const person = value ? people.get(value) : undefined;
      if (!person) throw new TokenError('unmapped_subject', 'the signed-in identity is not a person of the config');
      if (await deps.operatorDisabled(person)) throw new TokenError('agent_inactive', 'operator is disabled');
      return { person, issuer, subject: sub };
    },
  };
}

interface VerifyOptions {
  issuer: string;
  audience: string | string[];
  algorithms: string[];
  clockSkewMs: number;
  now: Date;
  required?: string[];
}

async function verifyWith(token: string, keys: JWTVerifyGetKey, options: VerifyOptions): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, keys, {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: options.algorithms,
      currentDate: options.now,
      clockTolerance: Math.floor(options.clockSkewMs / 1000),
      requiredClaims: options.required ?? ['exp'],
    });
    return payload;
  } catch (err) {
    throw federatedTokenError(err);
  }
}

/** The claim value that names the agent; for SPIFFE, the SPIFFE ID in the trusted domain. */
function mappedClaim(trusted: AgentIssuerConfig, payload: JWTPayload): string {
  if (trusted.agentClaim === 'spiffe') {
    const sub = typeof payload.sub === 'string' ? payload.sub : '';
    const m = /^spiffe:\/\/([^/]+)(\/[^?#]*)$/.exec(sub);
    if (!m || m[1] !== trusted.trustDomain) {
      throw new TokenError('unmapped_subject', 'token is not a SPIFFE ID of the trusted domain');
    }
    return sub;
  }
  const value = payload[trusted.agentClaim];
  if (typeof value !== 'string' || value === '') {
    throw new TokenError('unmapped_subject', `token has no ${trusted.agentClaim} claim`);
  }
  return value;
}

function staticKeys(jwks: JSONWebKeySet): JWTVerifyGetKey {
  const local = createLocalJWKSet(jwks);
  return async (header, token) => {
    try {
      return await local(header, token);
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) {
        throw new TokenError('unknown_key', 'unknown signing key');
      }
      throw err;
    }
  };
}

/**
 * An issuer's remote JWKS with jose's caching, refetched for an unknown `kid` (at most once per cooldown). When the
 * issuer is unreachable, the keys fetched last still verify; a `kid` not among them fails closed (503, try later).
 */
function remoteKeys(
  url: URL,
  caching: { jwksCacheMaxAge: number; jwksCooldown: number },
  timeout: number,
): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(url, {
    cacheMaxAge: caching.jwksCacheMaxAge,
    cooldownDuration: caching.jwksCooldown,
    timeoutDuration: timeout,
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) {
        throw new TokenError('unknown_key', 'unknown signing key');
      }
      const last = remote.jwks();
      if (last) {
        try {
          return await createLocalJWKSet(last)(header, token);
        } catch (cached) {
          if (!(cached instanceof joseErrors.JWKSNoMatchingKey)) throw cached;
        }
      }
      throw issuerUnreachable(err);
    }
  };
}

async function discoverJwksUri(issuer: string, timeout: number): Promise<string> {
  const url = new URL(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
  let body: unknown;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeout), headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`discovery answered ${res.status}`);
    body = await res.json();
  } catch (err) {
    throw issuerUnreachable(err);
  }
  const meta = body as { issuer?: unknown; jwks_uri?: unknown };
  // RFC 8414 §3.3: the document must name the issuer it was fetched for.
  if (meta.issuer !== issuer || typeof meta.jwks_uri !== 'string') {
    throw new AppError('not_ready', 'the identity provider’s discovery document does not match its issuer');
  }
  return meta.jwks_uri;
}

function issuerUnreachable(cause: unknown): AppError {
  return new AppError('not_ready', 'the token issuer cannot be reached and no cached key matches; try again', {
    cause,
    headers: { 'Retry-After': '5' },
  });
}

function safeIssuer(token: string): string | undefined {
  try {
    const iss = decodeJwt(token).iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}

function audiences(claims: JWTPayload): string[] {
  if (typeof claims.aud === 'string') return [claims.aud];
  return Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === 'string') : [];
}

function federatedTokenError(err: unknown): Error {
  if (err instanceof TokenError || err instanceof AppError) return err;
  if (err instanceof joseErrors.JWTExpired) return new TokenError('expired', 'token expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'nbf':
      case 'iat':
        return new TokenError('not_yet_valid', 'token not yet valid');
      case 'aud':
        return new TokenError('wrong_audience', 'token is for another audience');
      case 'iss':
        return new TokenError('wrong_issuer', 'token is from another issuer');
      default:
        return new TokenError('malformed', `invalid claim ${err.claim}`);
    }
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed)
    return new TokenError('malformed', 'signature algorithm not allowed');
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new TokenError('bad_signature', 'bad signature');
  if (err instanceof joseErrors.JOSEError) return new TokenError('malformed', 'malformed token');
  return err instanceof Error ? err : new Error(String(err));
}
