// Agent identity in a process: the database (SQLite in the data directory, PostgreSQL with DATABASE_URL), migrated;
// the registry, tokens, operators, kill switches and rate limits over it; the credential vault; usage budgets and
// signals; and the approval receipt key. The API takes the authenticator, the operator API and the policy extras; the
// workers take the registry's agent directory, the kill-switch guard, the vault resolver, receipts and the recorder.
import type { ActivityDeps } from '../../activities';
import { createCredentialResolver, type ConnectorDeps, type CredentialResolver } from '../../activities/connectors';
import type { DataConverter } from '@temporalio/common';
import type { Settings } from '../config/settings';
import { AppError } from '../errors';
import { createDataConverter, EncryptionCodec } from '../temporal/codec';
import { openDatabase, type DatabaseHandle } from '../db/database';
import { createIdentity, identityOptionsFromSettings, type Identity } from '../identity';
import { createExecutionLedger, type ExecutionLedger } from '../ledger';
import type { Logger } from '../logger';
import { createReceiptSigner, loadReceiptKey, type ReceiptSigner } from '../receipts';
import { createReplicaState, type ReplicaState } from '../replica-state';
import type { RequestServiceDeps } from '../requests';
import { createExecutionRecorder, createUsagePolicy, type UsagePolicy } from '../usage';
import {
  createSealedParams,
  createVault,
  createVaultCredentialResolver,
  createVaultKeyProtector,
  loadMasterKeyring,
  masterKeyConfigured,
  secretIdsFor,
  webhookSecretIds,
  type MasterKeyring,
  type SealedParams,
  type Vault,
} from '../vault';
import type { Core } from './core';
import { ensureDevMasterKey, existingDevMasterKey } from './dev-identity';

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
  /** The payload codec (absent only with COUNTERSIGN_PAYLOAD_ENCRYPTION=off); the API serves it at /codec. */
  codec?: EncryptionCodec;
  /** The data converter of every Temporal client and worker of this process. */
  dataConverter: DataConverter;
  /** Attempts and outcomes of connector calls; the API reads which requests ended with outcome unknown. */
  ledger: ExecutionLedger;
  /** Secret parameters sealed at submit (locked without a master key: submits carrying one are refused). */
  sealedParams: SealedParams;
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
    ledger: NonNullable<ConnectorDeps['ledger']>;
    sealedParams: SealedParams;
    dataConverter: DataConverter;
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
  const codec = payloadCodec(settings, keyring, logger);
  const dataConverter = createDataConverter(codec);
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
    const ledger = createExecutionLedger(database.db);
    const sealedParams = createSealedParams({ db: database.db, ...(keyring ? { keyring } : {}) });
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
      ledger,
      sealedParams,
      ...(codec ? { codec } : {}),
      dataConverter,
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
          ledger,
          sealedParams,
          dataConverter,
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

/**
 * The data converter for a command that reads Temporal directly (evidence export, policy replay): the master key of
 * the settings, else the one `countersign dev` keeps in the data directory; without either, encryption fails closed.
 */
export async function commandDataConverter(settings: Settings, logger: Logger): Promise<DataConverter> {
  const devKey = existingDevMasterKey(settings.COUNTERSIGN_DATA_DIR);
  const keyring = masterKeyConfigured(settings)
    ? await loadMasterKeyring(settings)
    : devKey
      ? await loadMasterKeyring({ ...settings, COUNTERSIGN_MASTER_KEY_FILE: devKey })
      : undefined;
  return createDataConverter(payloadCodec(settings, keyring, logger));
}

/** The codec, or undefined when encryption is off; `on` without a master key refuses to start (fail closed). */
function payloadCodec(
  settings: Settings,
  keyring: MasterKeyring | undefined,
  logger: Logger,
): EncryptionCodec | undefined {
  if (settings.COUNTERSIGN_PAYLOAD_ENCRYPTION === 'off') {
    logger.warn('COUNTERSIGN_PAYLOAD_ENCRYPTION=off: parameters, reasons and outcomes are stored in clear in Temporal');
    return undefined;
  }
  if (!keyring) {
    throw new AppError('config_invalid', 'payload encryption needs the vault master key', {
      errors: [
        {
          path: 'COUNTERSIGN_MASTER_KEY',
          message:
            'set COUNTERSIGN_MASTER_KEY (or _FILE), or COUNTERSIGN_PAYLOAD_ENCRYPTION=off to store payloads in clear',
        },
      ],
    });
  }
  return new EncryptionCodec(keyring);
}

async function masterKeyring(settings: Settings, devMode: boolean): Promise<MasterKeyring | undefined> {
  if (masterKeyConfigured(settings)) return loadMasterKeyring(settings);
  if (!devMode) return undefined;
  return loadMasterKeyring({
    ...settings,
    COUNTERSIGN_MASTER_KEY_FILE: ensureDevMasterKey(settings.COUNTERSIGN_DATA_DIR),
  });
}
