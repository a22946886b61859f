// Who is calling. Routes only see a Caller; how it was proven (an access token, a personal operator token, an API key
// where allowed) stays behind the Authenticator interface.
import type { AgentDirectory } from '../agents';
import type { Caller } from '../requests';

export type { Caller };

/** Turns an Authorization header into a caller, or undefined when it proves nobody. */
export interface Authenticator {
  authenticate(authorizationHeader: string | undefined): Promise<Caller | undefined>;
}

/**
 * Authenticates agents by the config's static API keys only: the core issue's scheme, for embedding the pipeline
 * without the registry (benchmarks). The product uses the identity authenticator (src/identity/authenticator.ts).
 */
export function createApiKeyAuthenticator(opts: { agents: AgentDirectory }): Authenticator {
  return {
    async authenticate(header) {
      const token = bearerToken(header);
      if (!token) return undefined;
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
