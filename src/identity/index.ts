// The identity half of Countersign, assembled: registry, agent directory, client credentials, signing keys and tokens,
// operators, kill switches, rate limits and the HTTP Authenticator, all over one database.
import type { Kysely } from 'kysely';
import type { CountersignConfig } from '../config/schema';
import type { Settings } from '../config/settings';
import type { Database } from '../db/schema';
import type { Logger } from '../logger';
import { apiKeysAllowed, createActivityRecorder, createIdentityAuthenticator } from './authenticator';
import { createClientCredentials, type IssuedClientSecret } from './credentials';
import { createRegistryAgentDirectory } from './directory';
import { createFederation } from './federation';
import { createKillSwitches } from './kill-switch';
import { createOperatorService } from './operators';
import { createReplicaState } from '../replica-state';
import { createRateLimiter, parseRate, type RateLimitStore } from './rate-limiter';
import { createAgentRegistry, vocabularyFromConfig, type NewAgent, type RegisteredAgent } from './registry';
import { systemClock, type Clock } from './secrets';
import { createSigningKeys, type KeyProtector } from './signing-keys';
import { createTokenService } from './tokens';

export interface IdentityOptions {
  tokenTtlMs: number;
  audience: string;
  issuer: string;
  signingKeyRotationMs: number;
  secretOverlapMs: number;
  agentCacheMs: number;
  killSwitchCacheMs: number;
  /** Default per-agent rate, e.g. "60/m". */
  defaultRateLimit: string;
  allowApiKeys: boolean;
}

export interface IdentityDeps extends IdentityOptions {
  db: Kysely<Database>;
  config: CountersignConfig;
  logger: Logger;
  clock?: Clock;
  keyProtector?: KeyProtector;
  /** Where rate-limit buckets live; default: the database, shared by every replica on it. */
  rateLimitStore?: RateLimitStore;
  /** Called when an agent asks the token endpoint for scopes it may not have (the boundary-testing signal). */
  onScopeRefused?: (agentId: string, scopes: string[]) => void;
}

/** Identity options from the environment settings; `devMode` decides API keys when the setting is unset. */
export function identityOptionsFromSettings(settings: Settings, devMode: boolean): IdentityOptions {
  return {
    tokenTtlMs: settings.COUNTERSIGN_TOKEN_TTL,
    audience: settings.COUNTERSIGN_TOKEN_AUDIENCE,
    issuer: settings.COUNTERSIGN_TOKEN_ISSUER ?? settings.COUNTERSIGN_PUBLIC_URL ?? 'countersign',
    signingKeyRotationMs: settings.COUNTERSIGN_SIGNING_KEY_ROTATION,
    secretOverlapMs: settings.COUNTERSIGN_SECRET_ROTATION_OVERLAP,
    agentCacheMs: settings.COUNTERSIGN_AGENT_CACHE,
    killSwitchCacheMs: settings.COUNTERSIGN_KILL_SWITCH_CACHE,
    defaultRateLimit: settings.COUNTERSIGN_RATE_LIMIT,
    allowApiKeys: apiKeysAllowed(settings.COUNTERSIGN_ALLOW_API_KEYS, devMode),
  };
}

/** Assembles the identity services and seeds the config's agents into the registry (absent ones only). */
export async function createIdentity(deps: IdentityDeps) {
  const clock = deps.clock ?? systemClock;
  const { db, config, logger } = deps;
  const registry = createAgentRegistry({ db, clock, vocabulary: vocabularyFromConfig(config) });
  const directory = createRegistryAgentDirectory({ registry, cacheMs: deps.agentCacheMs, apiKeysFrom: config, clock });
  const credentials = createClientCredentials({ db, registry, overlapMs: deps.secretOverlapMs, clock });
  const signingKeys = createSigningKeys({
    db,
    rotateAfterMs: deps.signingKeyRotationMs,
    maxTokenTtlMs: deps.tokenTtlMs,
    clock,
    ...(deps.keyProtector ? { protector: deps.keyProtector } : {}),
  });
  const activity = createActivityRecorder({ registry, logger, clock });
  const tokens = createTokenService({
    keys: signingKeys,
    credentials,
    directory,
    audience: deps.audience,
    issuer: deps.issuer,
    ttlMs: deps.tokenTtlMs,
    clock,
    onIssued: (id) => activity.seen(id),
    ...(deps.onScopeRefused ? { onScopeRefused: deps.onScopeRefused } : {}),
  });
  const operators = createOperatorService({ db, clock, people: new Set(Object.keys(config.people)) });
  const killSwitches = createKillSwitches({ db, cacheMs: deps.killSwitchCacheMs, clock });
  const defaultRate = parseRate(deps.defaultRateLimit);
  if (!defaultRate) throw new Error(`invalid default rate limit "${deps.defaultRateLimit}"`);
  const rateLimiter = createRateLimiter({
    defaultRate,
    rateFor: async (id) => (await directory.lookup(id))?.rateLimit,
    clock,
    store: deps.rateLimitStore ?? createReplicaState(db).rateLimits,
  });
  const federation = createFederation({
    config,
    directory,
    clock,
    operatorDisabled: (person) => operators.isDisabled(person),
  });
  const authenticator = createIdentityAuthenticator({
    tokens,
    operators,
    directory,
    issuer: deps.issuer,
    federation,
    allowApiKeys: deps.allowApiKeys,
    activity,
  });

  const seeded = await registry.seedFromConfig(config);
  if (seeded.length > 0) logger.info({ agents: seeded }, 'agents seeded from the config into the registry');

  return {
    registry,
    directory,
    credentials,
    signingKeys,
    tokens,
    operators,
    killSwitches,
    rateLimiter,
    activity,
    federation,
    authenticator,
    /** `agents create`: registers an agent and returns its first client secret (shown once). */
    async createAgent(input: NewAgent, actor: string): Promise<{ agent: RegisteredAgent; secret: IssuedClientSecret }> {
      const agent = await registry.create(input, actor);
      const secret = await credentials.issue(agent.id, actor);
      return { agent, secret };
    },
  };
}

export type Identity = Awaited<ReturnType<typeof createIdentity>>;
