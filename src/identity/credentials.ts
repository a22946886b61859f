// Agent client credentials (OAuth2 client id = agent id, client secret). A secret is shown once, stored as its
// SHA-256, and rotation keeps the previous one valid for an overlap so a deployed agent can switch without downtime.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import { AppError } from '../errors';
import { recordAgentChange, type AgentRegistry, type RegisteredAgent } from './registry';
import { generateCredential, generateId, hashCredential, sameDigest, systemClock, type Clock } from './secrets';

/** The prefix of agent client secrets (so scanners and people recognise a leaked one). */
export const CLIENT_SECRET_PREFIX = 'cs_secret';

/** A new secret, returned once and never again. */
export interface IssuedClientSecret {
  clientId: string;
  clientSecret: string;
  credentialId: string;
  /** When the previous secrets stop working (rotation only). */
  previousValidUntil?: string;
}

/** A credential as listed: no secret, no hash. */
export interface CredentialInfo {
  id: string;
  createdAt: string;
  createdBy: string;
  expiresAt?: string;
  revokedAt?: string;
  active: boolean;
}

export interface ClientCredentialsDeps {
  db: Kysely<Database>;
  registry: AgentRegistry;
  /** How long a rotated-out secret stays valid, in ms. */
  overlapMs: number;
  clock?: Clock;
}

/** Creates the client credential store. */
export function createClientCredentials(deps: ClientCredentialsDeps) {
  const { db } = deps;
  const clock = deps.clock ?? systemClock;

  async function issueSecret(
    agentId: string,
    actor: string,
    change: 'credentials_issued' | 'credentials_rotated',
    overlapMs: number,
  ): Promise<IssuedClientSecret> {
    const agent = await deps.registry.get(agentId);
    if (!agent) throw new AppError('not_found', `no agent "${agentId}"`);
    if (agent.status === 'decommissioned') throw new AppError('conflict', `agent "${agentId}" is decommissioned`);
    const now = clock();
    const nowIso = now.toISOString();
    const clientSecret = generateCredential(CLIENT_SECRET_PREFIX);
    const credentialId = generateId('cred');
    const validUntil = new Date(now.getTime() + overlapMs).toISOString();
    let previous = 0;
    await db.transaction().execute(async (trx) => {
      if (change === 'credentials_rotated') {
        const live = await trx
          .selectFrom('agent_credentials')
          .select(['id', 'expires_at'])
          .where('agent_id', '=', agentId)
          .where('revoked_at', 'is', null)
          .execute();
        for (const c of live) {
          // A rotation shortens an existing expiry, never extends it.
          if (c.expires_at !== null && c.expires_at <= validUntil) continue;
          await trx.updateTable('agent_credentials').set({ expires_at: validUntil }).where('id', '=', c.id).execute();
          previous += 1;
        }
      }
      await trx
        .insertInto('agent_credentials')
        .values({
          id: credentialId,
          agent_id: agentId,
          secret_hash: hashCredential(clientSecret),
          created_at: nowIso,
          created_by: actor,
          expires_at: null,
          revoked_at: null,
        })
        .execute();
      await recordAgentChange(trx, {
        agentId,
        at: nowIso,
        actor,
        change,
        details: {
          credentialId,
          ...(change === 'credentials_rotated' ? { previousValidUntil: validUntil, previousCount: previous } : {}),
        },
      });
    });
    return {
      clientId: agentId,
      clientSecret,
      credentialId,
      ...(change === 'credentials_rotated' && previous > 0 ? { previousValidUntil: validUntil } : {}),
    };
  }

  return {
    /** Issues an additional secret (the first one, at creation). */
    issue: (agentId: string, actor: string) => issueSecret(agentId, actor, 'credentials_issued', 0),
    /** Issues a new secret; the current ones stay valid for the overlap (default: the configured one), then expire. */
    rotate: (agentId: string, actor: string, overlapMs: number = deps.overlapMs) =>
      issueSecret(agentId, actor, 'credentials_rotated', overlapMs),
    /** Revokes every secret of the agent at once. */
    async revokeAll(agentId: string, actor: string): Promise<number> {
      const now = clock().toISOString();
      return db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable('agent_credentials')
          .set({ revoked_at: now })
          .where('agent_id', '=', agentId)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
        const count = Number(result.numUpdatedRows);
        await recordAgentChange(trx, { agentId, at: now, actor, change: 'credentials_revoked', details: { count } });
        return count;
      });
    },
    /** The agent's credentials, newest first, without secrets. */
    async list(agentId: string): Promise<CredentialInfo[]> {
      const now = clock().toISOString();
      const rows = await db
        .selectFrom('agent_credentials')
        .select(['id', 'created_at', 'created_by', 'expires_at', 'revoked_at'])
        .where('agent_id', '=', agentId)
        .orderBy('created_at', 'desc')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        createdAt: r.created_at,
        createdBy: r.created_by,
        ...(r.expires_at ? { expiresAt: r.expires_at } : {}),
        ...(r.revoked_at ? { revokedAt: r.revoked_at } : {}),
        active: r.revoked_at === null && (r.expires_at === null || r.expires_at > now),
      }));
    },
    /** The active agent whose live secret this is; undefined for anything else (unknown, wrong, expired, revoked). */
    async verify(clientId: string, clientSecret: string): Promise<RegisteredAgent | undefined> {
      const now = clock().toISOString();
      const presented = hashCredential(clientSecret);
      const rows = await db
        .selectFrom('agent_credentials')
        .select(['secret_hash', 'expires_at'])
        .where('agent_id', '=', clientId)
        .where('revoked_at', 'is', null)
        .execute();
      // Compare against every live hash in constant time rather than looking the hash up, so timing says nothing.
      let matched = false;
      for (const r of rows) {
        if (sameDigest(r.secret_hash, presented) && (r.expires_at === null || r.expires_at > now)) matched = true;
      }
      if (!matched) return undefined;
      const agent = await deps.registry.get(clientId);
      return agent?.status === 'active' ? agent : undefined;
    },
  };
}

export type ClientCredentials = ReturnType<typeof createClientCredentials>;
