// Who is calling. Routes only see a Caller; how it was proven (API key today, OAuth2 tokens later) stays behind the
// Authenticator interface.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AgentDirectory } from '../agents';
import type { Caller } from '../requests';

export type { Caller };

/** Turns an Authorization header into a caller, or undefined when it proves nobody. */
export interface Authenticator {
  authenticate(authorizationHeader: string | undefined): Promise<Caller | undefined>;
}

/** The operator identity of the shared admin token; personal operator tokens come with their own ids. */
export const ADMIN_OPERATOR_ID = 'admin';

/** Authenticates agents by API key (through the agent directory) and operators by COUNTERSIGN_ADMIN_TOKEN. */
export function createApiKeyAuthenticator(opts: { agents: AgentDirectory; adminToken?: string }): Authenticator {
  const adminDigest = opts.adminToken ? digest(opts.adminToken) : undefined;
  return {
    async authenticate(header) {
      const token = bearerToken(header);
      if (!token) return undefined;
      // Digests have a fixed length, so the comparison time says nothing about the token.
      if (adminDigest && timingSafeEqual(digest(token), adminDigest))
        return { kind: 'operator', id: ADMIN_OPERATOR_ID };
      const agent = await opts.agents.authenticateApiKey(token);
      return agent ? { kind: 'agent', agent } : undefined;
    },
  };
}

/** The credential of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return match?.[1];
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
