// The connector credential resolver backed by the vault: `{ secret: id }` references are decrypted inside the executing
// activity, just before the downstream call; `env` and `file` references go to the default resolver.
import { ApplicationFailure } from '@temporalio/common';
import type { CredentialResolver } from '../../activities/connectors';
import type { CountersignConfig } from '../config/schema';
import { AppError } from '../errors';
import type { Vault } from './vault';

export interface VaultResolverDeps {
  vault: Vault;
  /** Resolves `env` and `file` references (the connectors' default resolver). */
  fallback: CredentialResolver;
  /**
   * Secret ids this worker may read (those of the credential domains it serves); undefined: any.
   * A worker that does not serve a domain cannot read that domain's secret even if asked.
   */
  allowedSecrets?: ReadonlySet<string>;
}

/** A CredentialResolver that reads vault secrets for the request being executed. */
export function createVaultCredentialResolver(deps: VaultResolverDeps): CredentialResolver {
  return {
    async resolve(ref, requestId) {
      if (!('secret' in ref)) return deps.fallback.resolve(ref, requestId);
      if (deps.allowedSecrets && !deps.allowedSecrets.has(ref.secret)) {
        throw unavailable(`vault secret ${ref.secret} is not held by this worker's credential domains`);
      }
      try {
        return await deps.vault.read(ref.secret, { requestId });
      } catch (err) {
        // Vault refusals (locked, unknown secret, integrity) will not heal by retrying; database errors may.
        if (err instanceof AppError) throw unavailable(err.message);
        throw err;
      }
    },
  };
}

/** The vault secret ids the given connectors reference: the `allowedSecrets` of a worker serving them. */
export function secretIdsFor(config: CountersignConfig, connectors: readonly string[]): Set<string> {
  const ids = new Set<string>();
  for (const name of connectors) {
    const credential = config.connectors[name]?.credential;
    if (credential && 'secret' in credential) ids.add(credential.secret);
  }
  return ids;
}

/** The vault secret ids the control worker may read: the completion webhooks' signing secrets. */
export function webhookSecretIds(config: CountersignConfig): Set<string> {
  const ids = new Set<string>();
  for (const ref of [config.webhooks.secret, ...Object.values(config.webhooks.agentSecrets)]) {
    if (ref && 'secret' in ref) ids.add(ref.secret);
  }
  return ids;
}

function unavailable(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'CredentialUnavailable', message, nonRetryable: true });
}
