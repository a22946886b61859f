// The Authenticator of the HTTP API over the identity modules: agent access tokens (JWT), personal operator tokens,
// tokens of the config's trusted identity providers (agents' and operators' sign-in), and the config's static API keys
// only when explicitly allowed (dev mode by default). The shared admin token is no
// caller here: it only bootstraps the first operator (OperatorService.bootstrap).
import { decodeJwt } from 'jose';
import type { Authenticator } from '../http/auth';
import type { Logger } from '../logger';
import type { Caller } from '../requests';
import type { RegistryAgentDirectory } from './directory';
import type { Federation } from './federation';
import { OPERATOR_TOKEN_PREFIX, type OperatorService } from './operators';
import type { AgentRegistry } from './registry';
import { systemClock, type Clock } from './secrets';
import { looksLikeJwt, TokenError, type TokenService } from './tokens';

export interface IdentityAuthenticatorDeps {
  tokens: TokenService;
  operators: OperatorService;
  directory: RegistryAgentDirectory;
  /** Accept the config's static agent API keys (off by default outside dev mode). */
  allowApiKeys: boolean;
  /** The `iss` of Countersign's own access tokens: any other issuer must be a trusted one. */
  issuer?: string;
  /** Tokens of the config's trusted identity providers (agents) and its OpenID provider (operators); optional. */
  federation?: Federation;
  /** Records "last activity" in the inventory; optional. */
  activity?: ActivityRecorder;
}

/** Authenticates agents by access token (or API key when allowed) and operators by personal token. */
export function createIdentityAuthenticator(deps: IdentityAuthenticatorDeps): Authenticator {
  return {
    async authenticate(header: string | undefined): Promise<Caller | undefined> {
      const credential = bearerCredential(header);
      if (!credential) return undefined;
      if (credential.startsWith(`${OPERATOR_TOKEN_PREFIX}_`)) {
        const operator = await deps.operators.authenticate(credential);
        return operator ? { kind: 'operator', id: operator.id } : undefined;
      }
      if (looksLikeJwt(credential)) {
        // A recognisable but refused token throws (401 with the reason), rather than looking like no credential.
        const federated = deps.federation?.kindOf(credential);
        if (federated === 'operator') {
          const signedIn = await deps.federation!.verifyOperator(credential);
          return { kind: 'operator', id: signedIn.person };
        }
        if (federated === 'agent') {
          const agent = await deps.federation!.verifyAgent(credential);
          deps.activity?.seen(agent.agent.id);
          return { kind: 'agent', agent: agent.record };
        }
        if (deps.federation && deps.issuer !== undefined && issuerOf(credential) !== deps.issuer) {
          throw new TokenError('wrong_issuer', 'token is from an untrusted issuer');
        }
        const verified = await deps.tokens.verify(credential);
        deps.activity?.seen(verified.agent.id);
        return { kind: 'agent', agent: verified.record };
      }
      if (!deps.allowApiKeys) return undefined;
      const agent = await deps.directory.authenticateApiKey(credential);
      if (agent) deps.activity?.seen(agent.id);
      return agent ? { kind: 'agent', agent } : undefined;
    },
  };
}

function issuerOf(token: string): unknown {
  try {
    return decodeJwt(token).iss;
  } catch {
    return undefined;
  }
}

/** Whether static API keys are accepted: the explicit setting when given, else only in dev mode. */
export function apiKeysAllowed(setting: boolean | undefined, devMode: boolean): boolean {
  return setting ?? devMode;
}

/** The credential of `Authorization: Bearer <credential>`, or undefined. */
export function bearerCredential(header: string | undefined): string | undefined {
  return /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '')?.[1];
}

/** Writes agents' last activity at most once a minute per agent, off the request path. */
export interface ActivityRecorder {
  seen(agentId: string): void;
}

/** Creates the activity recorder over the registry; write failures are logged, never thrown at a request. */
export function createActivityRecorder(deps: {
  registry: AgentRegistry;
  logger: Logger;
  intervalMs?: number;
  clock?: Clock;
}): ActivityRecorder {
  const clock = deps.clock ?? systemClock;
  const intervalMs = deps.intervalMs ?? 60_000;
  const lastWritten = new Map<string, number>();
  return {
    seen(agentId) {
      const now = clock();
      const last = lastWritten.get(agentId);
      if (last !== undefined && now.getTime() - last < intervalMs) return;
      lastWritten.set(agentId, now.getTime());
      deps.registry.recordActivity(agentId, now).catch((err: unknown) => {
        lastWritten.delete(agentId);
        deps.logger.warn(
          { agent: agentId, err: err instanceof Error ? err.message : String(err) },
          'last activity not recorded',
        );
      });
    },
  };
}
