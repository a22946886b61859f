// Where agents are looked up. The config is the source here; the registry database replaces it at run time.
import type { CountersignConfig } from './config/schema';
import { sha256Hex } from './canonical';
import { timingSafeEqual } from 'node:crypto';

export interface AgentRecord {
  id: string;
  owner: string;
  description: string;
  allowedActions: string[];
  enabled: boolean;
}

/** Reads agents; implementations: the config file (here) and the registry database. */
export interface AgentDirectory {
  get(id: string): Promise<AgentRecord | undefined>;
  /** The agent an API key belongs to, if any. */
  authenticateApiKey(key: string): Promise<AgentRecord | undefined>;
}

/** An agent directory over the config file's `agents`. */
export function createConfigAgentDirectory(config: CountersignConfig): AgentDirectory {
  const byId = new Map(config.agents.map((a) => [a.id, a]));
  const toRecord = (a: CountersignConfig['agents'][number]): AgentRecord => ({
    id: a.id,
    owner: a.owner,
    description: a.description,
    allowedActions: [...a.allowedActions],
    enabled: a.enabled,
  });
  const keyed = config.agents
    .filter((a) => a.apiKeySha256)
    .map((a) => ({ hash: Buffer.from(a.apiKeySha256 ?? '', 'hex'), agent: a }));
  return {
    async get(id) {
      const a = byId.get(id);
      return a ? toRecord(a) : undefined;
    },
    async authenticateApiKey(key) {
      const hash = Buffer.from(sha256Hex(key), 'hex');
      const hit = keyed.find((k) => timingSafeEqual(k.hash, hash));
      return hit ? toRecord(hit.agent) : undefined;
    },
  };
}
