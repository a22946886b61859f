// The AgentDirectory over the registry: what the request service and the execution re-check read. Agent standing is
// cached for at most a few seconds, so a suspension reaches every replica within that bound and the database is not
// read on every request; writes through this process's registry invalidate at once.
import type { AgentDirectory, AgentRecord } from '../agents';
import type { CountersignConfig } from '../config/schema';
import { hashCredential, sameDigest, systemClock, type Clock } from './secrets';
import type { AgentRegistry, RegisteredAgent } from './registry';

export interface RegistryDirectoryDeps {
  registry: AgentRegistry;
  /** Longest age of a cached entry in ms (0: read every time). */
  cacheMs: number;
  /** The config whose agents' static API keys `authenticateApiKey` accepts (dev mode and the explicit option). */
  apiKeysFrom?: CountersignConfig;
  clock?: Clock;
}

/** The registry agent as the core's AgentRecord: enabled only while active. */
export function toAgentRecord(agent: RegisteredAgent): AgentRecord {
  return {
    id: agent.id,
    owner: agent.owner,
    description: agent.description,
    allowedActions: [...agent.allowedActions],
    enabled: agent.status === 'active',
  };
}

/** An AgentDirectory over the registry, with a short status cache. */
export function createRegistryAgentDirectory(deps: RegistryDirectoryDeps) {
  const clock = deps.clock ?? systemClock;
  const cache = new Map<string, { atMs: number; value: Promise<RegisteredAgent | undefined> }>();
  const keyed = (deps.apiKeysFrom?.agents ?? [])
    .filter((a) => a.apiKeySha256)
    .map((a) => ({ hash: a.apiKeySha256 ?? '', id: a.id }));
  deps.registry.onChange((id) => cache.delete(id));

  /** The registered agent, from a cache entry at most `cacheMs` old; concurrent misses share one read. */
  function lookup(id: string): Promise<RegisteredAgent | undefined> {
    const nowMs = clock().getTime();
    const hit = cache.get(id);
    if (hit && nowMs - hit.atMs < deps.cacheMs) return hit.value;
    const value = deps.registry.get(id);
    if (deps.cacheMs > 0) {
      cache.set(id, { atMs: nowMs, value });
      // A failed read must not be served from the cache: the next caller tries the database again.
      value.catch(() => cache.delete(id));
    }
    return value;
  }

  const directory: AgentDirectory = {
    async get(id) {
      const agent = await lookup(id);
      return agent ? toAgentRecord(agent) : undefined;
    },
    async authenticateApiKey(key) {
      const hash = hashCredential(key);
      const hit = keyed.find((k) => sameDigest(k.hash, hash));
      return hit ? directory.get(hit.id) : undefined;
    },
  };

  return {
    ...directory,
    lookup,
    /** Drops cached entries (one agent, or all). */
    invalidate(id?: string): void {
      if (id) cache.delete(id);
      else cache.clear();
    },
  };
}

export type RegistryAgentDirectory = ReturnType<typeof createRegistryAgentDirectory>;
