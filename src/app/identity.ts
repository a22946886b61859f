// Agent identity in a process: the database (SQLite in the data directory, PostgreSQL with DATABASE_URL), migrated;
// the registry, tokens, operators, kill switches and rate limits over it; the credential vault; usage budgets and
// signals; and the approval receipt key. The API takes the authenticator, the operator API and the policy extras; the
// workers take the registry's agent directory, the kill-switch guard, the vault resolver, receipts and the recorder.
import type { ActivityDeps } from '../../activities';
import { createCredentialResolver, type ConnectorDeps, type CredentialResolver } from '../../activities/connectors';
import type { Settings } from '../config/settings';
import { AppError } from '../errors';
import { openDatabase, type DatabaseHandle } from '../db/database';
import { createIdentity, identityOptionsFromSettings, type Identity } from '../identity';
import type { Logger } from '../logger';
import { createReceiptSigner, loadReceiptKey, type ReceiptSigner } from '../receipts';
import { createReplicaState, type ReplicaState } from '../replica-state';
import type { RequestServiceDeps } from '../requests';
import { createExecutionRecorder, createUsagePolicy, type UsagePolicy } from '../usage';
import {
  createVault,
  createVaultCredentialResolver,
  createVaultKeyProtector,
  loadMasterKeyring,
  masterKeyConfigured,
  secretIdsFor,
  webhookSecretIds,
  type MasterKeyring,
  type Vault,
} from '../vault';
import type { Core } from './core';
import { ensureDevMasterKey } from './dev-identity';

export interface IdentityRuntime {
  database: DatabaseHandle;
  identity: Identity;
  vault: Vault;
  /** True when a master key is configured (or dev mode made one): vault secrets can be read. */
  vaultUnlocked: boolean;
  usage: UsagePolicy;
  receipts: ReceiptSigner;
  /** Rate limits, Slack replay memory and channel pacing, shared through the database with every other replica. */
  replicaState: ReplicaState;
  /** For the request service: the agent's usage and the request's signals, read by `usage.*` and `signals.*`. */
  policyExtras: NonNullable<RequestServiceDeps['policyExtras']>;
  /** The worker dependencies for the connector domains `connectors` (their vault secrets only). */
  workerDeps(options: { connectors: readonly string[]; fallback?: CredentialResolver }): {
    agents: ActivityDeps['agents'];
    guard: NonNullable<ActivityDeps['guard']>;
    credentials: CredentialResolver;
    /** The control worker's: the webhook signing secrets only. */
    webhookCredentials: CredentialResolver;
    callHeaders: NonNullable<ConnectorDeps['callHeaders']>;
    recorder: NonNullable<ConnectorDeps['recorder']>;
  };
  close(): Promise<void>;
}

/**
 * Opens the database and assembles identity, vault, budgets and receipts. Dev mode generates a master key into the
 * data directory when none is set; elsewhere the vault stays locked without one, and only reading a secret fails.
 */
export async function openIdentityRuntime(options: {
  settings: Settings;
  core: Core;
  logger: Logger;
  devMode: boolean;
}): Promise<IdentityRuntime> {
  const { settings, core, logger, devMode } = options;
  const keyring = await masterKeyring(settings, devMode);
  const receiptKey = await loadReceiptKey(settings);
  const database = await openDatabase({
    databaseUrl: settings.DATABASE_URL,
    dataDir: settings.COUNTERSIGN_DATA_DIR,
    logger,
  });
  try {
    const identityOptions = identityOptionsFromSettings(settings, devMode);
    const replicaState = createReplicaState(database.db);
    const usage = createUsagePolicy({ config: core.config, db: database.db, logger });
    const identity = await createIdentity({
      db: database.db,
      rateLimitStore: replicaState.rateLimits,
      config: core.config,
      logger,
      ...identityOptions,
      onScopeRefused: (agentId, scopes) => usage.refusals.record(agentId, 'scope_refused', scopes.join(' ')),
      // Token signing keys are sealed under the master key where there is one; see the README on setting it early.
      ...(keyring ? { keyProtector: createVaultKeyProtector(keyring) } : {}),
    });
    await prepareSigningKeys(identity, keyring ? 'vault' : 'none', logger);
    const vault = createVault({ db: database.db, ...(keyring ? { keyring } : {}) });
    const receipts = createReceiptSigner({
      key: receiptKey,
      issuer: identityOptions.issuer,
      ttlSeconds: settings.COUNTERSIGN_RECEIPT_TTL_SECONDS,
    });
    logger.info(
      { database: database.dialect, location: database.location, vault: keyring ? 'unlocked' : 'locked' },
      'identity database ready',
    );
    return {
      database,
      identity,
      vault,
      vaultUnlocked: Boolean(keyring),
      usage,
      receipts,
      replicaState,
      policyExtras: (agent, body) => usage.policyExtras(agent, body),
      workerDeps({ connectors, fallback }) {
        return {
          agents: identity.directory,
          guard: identity.killSwitches.guard,
          credentials: createVaultCredentialResolver({
            vault,
            fallback: fallback ?? createCredentialResolver(),
            allowedSecrets: secretIdsFor(core.config, connectors),
          }),
          webhookCredentials: createVaultCredentialResolver({
            vault,
            fallback: fallback ?? createCredentialResolver(),
            allowedSecrets: webhookSecretIds(core.config),
          }),
          callHeaders: (input, call) => receipts.callHeaders(input, call),
          recorder: createExecutionRecorder(usage.store),
        };
      },
      close: () => database.close(),
    };
  } catch (err) {
    await database.close();
    throw err;
  }
}

/**
 * A signing key is read only by the protector that sealed it. A process without the master key never replaces a key
 * sealed with it (the replicas that have the key would lose theirs): it refuses to start. A process that has the
 * master key where the current key is not sealed with it yet seals a fresh one; tokens signed with the old one still
 * verify with its public half until they expire. Then a current and a next key exist, both in the JWKS.
 */
async function prepareSigningKeys(identity: Identity, protection: 'vault' | 'none', logger: Logger): Promise<void> {
  const current = await identity.signingKeys.currentProtection();
  if (current?.protection === 'vault' && protection === 'none') {
    throw new AppError('config_invalid', 'the token signing key is sealed with the master key, and none is set here', {
      errors: [
        {
          path: 'COUNTERSIGN_MASTER_KEY',
          message:
            'set it (or COUNTERSIGN_MASTER_KEY_FILE) to the master key the other Countersign processes on this ' +
            'database use; without it this process can neither sign tokens nor replace the key',
        },
      ],
    });
  }
  if (current && current.protection !== protection) {
    const kid = await identity.signingKeys.rotate();
    logger.warn(
      { previous: current.kid, previousProtection: current.protection, kid, protection },
      'token signing key replaced: it is sealed with the master key from now on',
    );
  }
  await identity.signingKeys.ensure();
}

async function masterKeyring(settings: Settings, devMode: boolean): Promise<MasterKeyring | undefined> {
  if (masterKeyConfigured(settings)) return loadMasterKeyring(settings);
  if (!devMode) return undefined;
  return loadMasterKeyring({
    ...settings,
    COUNTERSIGN_MASTER_KEY_FILE: ensureDevMasterKey(settings.COUNTERSIGN_DATA_DIR),
  });
}
