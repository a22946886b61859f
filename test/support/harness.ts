// A running Countersign against the shared test Temporal server: request service, control and connector workers,
// all on task queues of the suite's own, with log lines captured for leak checks.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client } from '@temporalio/client';
import type { ExecutionStarts } from '../../src/execution-starts';
import { connectTemporal, eagerStartClient } from '../../src/temporal/adapter';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { ExecutionGuard } from '../../activities';
import { createCredentialResolver, type ConnectorDeps, type CredentialResolver } from '../../activities/connectors';
import { createConfigAgentDirectory, type AgentDirectory } from '../../src/agents';
import { ActionCatalog } from '../../src/catalog';
import type { CountersignConfig } from '../../src/config/schema';
import type { DatabaseHandle, Dialect } from '../../src/db/database';
import { createExecutionLedger } from '../../src/ledger';
import { createIdentity, type Identity, type IdentityOptions } from '../../src/identity';
import { createLogger, type Logger } from '../../src/logger';
import { combineObservers, createMetrics, type Metrics } from '../../src/metrics';
import { createLogNotifier, type Notifier } from '../../src/notifier';
import { PolicyEngine } from '../../src/policy/engine';
import { createRequestService, type RequestService } from '../../src/requests';
import { metricsOf } from '../../src/app/workers';
import { createDataConverter, EncryptionCodec } from '../../src/temporal/codec';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { colocatedTaskQueues, createWorkers, prefixedTaskQueues, type TaskQueues } from '../../src/temporal/worker';
import type { TracingRuntime } from '../../src/tracing/sdk';
import { createReceiptSigner, generateReceiptKey, type ReceiptSigner } from '../../src/receipts';
import { createExecutionRecorder, createUsagePolicy, type UsagePolicy } from '../../src/usage';
import {
  createMasterKeyring,
  createSealedParams,
  createVault,
  createVaultCredentialResolver,
  generateMasterKey,
  parseMasterKey,
  type MasterKeyring,
  type SealedParams,
  type Vault,
} from '../../src/vault';
import { createWebhookSender } from '../../src/webhooks/sender';
import { openTestDatabase } from '../identity/databases';

export interface HarnessOptions {
  config: CountersignConfig;
  notifier?: Notifier;
  agents?: AgentDirectory;
  guard?: ExecutionGuard;
  credentials?: CredentialResolver;
  /** Start without workers (to park requests with nobody polling). */
  noWorkers?: boolean;
  /** Another Temporal server than the shared one (host:port). */
  temporalAddress?: string;
  /** The payload codec (default: AES-GCM under a fresh test key); false for plain payloads. */
  codec?: EncryptionCodec | false;
  /** Run the connector workers in this process (default true); false leaves them to another process. */
  connectorWorkers?: boolean;
  /**
   * Agent identity over a fresh database, wired as the product wires it: the registry as the agent directory, the
   * kill-switch guard, usage budgets and signals, the vault and approval receipts; every person is an operator.
   */
  identity?: HarnessIdentityOptions;
  /**
   * The sealed store for secret parameters (default true): over the identity database, or without `identity` over a
   * database of its own, as the product always has one; false: none, so a submit carrying a secret is refused.
   */
  sealedParams?: boolean;
  /** Tracing on the client and the workers, as the processes wire it when an OTLP endpoint is set. */
  tracing?: TracingRuntime;
  /** Start requests eagerly on this harness's control worker, as dev mode does (API and workers in one process). */
  eagerStart?: boolean;
  /** Connectors on the control queue, run by the control worker, as dev mode lays them out (colocatedTaskQueues). */
  colocated?: boolean;
  /** Told as connector activities start, as dev mode tells its Slack app (src/execution-starts.ts). */
  executionStarts?: ExecutionStarts;
}

export interface HarnessIdentityOptions {
  /** sqlite (default) or postgres. */
  dialect?: Dialect;
  /** With postgres: reach it at this URL instead of the test default (through a proxy, say). */
  databaseUrl?: string;
  /** Overrides of the test defaults (no caches, a generous default rate, API keys allowed). */
  options?: Partial<IdentityOptions>;
  /** Vault secrets to store before the workers start (a master key is generated). */
  secrets?: Record<string, string>;
  /** The identity services' clock (default: the system's), for tokens' times. */
  clock?: () => Date;
  /** Make every person an operator with a token (default true); false leaves the first one to be bootstrapped. */
  operators?: boolean;
}

/** The identity side of a harness. */
export interface HarnessIdentity {
  identity: Identity;
  database: DatabaseHandle;
  vault: Vault;
  usage: UsagePolicy;
  receipts: ReceiptSigner;
  /** The vault's master keys (the sealed parameters use them too). */
  keyring: MasterKeyring;
  /** Each person's personal operator token. */
  operatorTokens: Record<string, string>;
}

/** Identity options for tests: nothing cached, so a change is seen by the next call; a rate no test meets by accident. */
export const TEST_IDENTITY_OPTIONS: IdentityOptions = {
  tokenTtlMs: 10 * 60_000,
  audience: 'countersign-test',
  issuer: 'countersign-test',
  signingKeyRotationMs: 30 * 24 * 3600_000,
  secretOverlapMs: 3600_000,
  agentCacheMs: 0,
  killSwitchCacheMs: 0,
  defaultRateLimit: '1000/s',
  allowApiKeys: true,
};

export interface Harness {
  config: CountersignConfig;
  client: Client;
  /** The payload codec of the client and workers (undefined with `codec: false`). */
  codec?: EncryptionCodec;
  namespace: string;
  service: RequestService;
  /** What an HTTP app over this harness needs besides the service. */
  catalog: ActionCatalog;
  /** Observes the service (a fresh registry per harness). */
  metrics: Metrics;
  taskQueues: TaskQueues;
  agents: AgentDirectory;
  /** Present when started with `identity`. */
  identity?: HarnessIdentity;
  /** Where secret parameters are sealed (absent with `sealedParams: false`). */
  sealedParams?: SealedParams;
  logger: Logger;
  logLines: string[];
  startWorkers(): Promise<void>;
  stopWorkers(): Promise<void>;
  /** Workflows the running workers hold in their cache right now. */
  cachedWorkflows(): number;
  close(): Promise<void>;
}

/** Starts a harness; each call gets fresh task queues. */
/** The payload codec a process given `masterKey` (COUNTERSIGN_MASTER_KEY) seals with: share the key with a CLI run. */
export function payloadCodecFor(masterKey: string): EncryptionCodec {
  return new EncryptionCodec(createMasterKeyring(parseMasterKey(masterKey, 'test master key')));
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const address = options.temporalAddress ?? inject('temporalAddress');
  const bundlePath = inject('workflowBundlePath');
  const logLines: string[] = [];
  const logger = createLogger(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  );
  installTemporalRuntime(logger, 'WARN');
  const connection = await connectTemporal({ address });
  // Payloads are sealed as the product seals them, unless a test asks for plain ones.
  const codec = options.codec === false ? undefined : (options.codec ?? payloadCodecFor(generateMasterKey()));
  const dataConverter = createDataConverter(codec);
  const client = new Client({
    connection,
    namespace: 'default',
    dataConverter,
    ...(options.tracing ? { interceptors: { workflow: options.tracing.clientInterceptors } } : {}),
  });
  const nativeConnection = await NativeConnection.connect({ address });
  const prefixed = prefixedTaskQueues(`t-${randomUUID().slice(0, 8)}`);
  const taskQueues = options.colocated ? colocatedTaskQueues(prefixed) : prefixed;
  const identity = options.identity ? await startIdentity(options.config, options.identity, logger) : undefined;
  const sealedDatabase = options.sealedParams !== false && !identity ? await openTestDatabase('sqlite') : undefined;
  const sealedDb = options.sealedParams === false ? undefined : (identity?.database.db ?? sealedDatabase?.db);
  const sealedParams = sealedDb
    ? createSealedParams({
        db: sealedDb,
        keyring: identity?.keyring ?? createMasterKeyring(parseMasterKey(generateMasterKey(), 'test master key')),
      })
    : undefined;
  const agents = options.agents ?? identity?.identity.directory ?? createConfigAgentDirectory(options.config);
  const guard = options.guard ?? identity?.identity.killSwitches.guard;
  const catalog = ActionCatalog.compile(options.config);
  const policy = PolicyEngine.compile(options.config, identity ? { extend: (env) => identity.usage.extend(env) } : {});
  const metrics = createMetrics();
  identity?.usage.refusals.listen((kind) => metrics.agentRefusals.inc({ kind }));
  const hooks = metricsOf(metrics);
  const service = createRequestService({
    client,
    config: options.config,
    catalog,
    policy,
    taskQueues,
    logger,
    observer: identity ? combineObservers(metrics.observer, identity.usage.refusals.observer) : metrics.observer,
    ...(identity ? { policyExtras: (a, body) => identity.usage.policyExtras(a, body) } : {}),
    ...(sealedParams ? { sealedParams } : {}),
    ...(options.eagerStart
      ? {
          eagerStarter: eagerStartClient(nativeConnection, {
            namespace: 'default',
            dataConverter,
            ...(options.tracing ? { interceptors: options.tracing.clientInterceptors } : {}),
          }),
        }
      : {}),
  });
  const connectorDeps: Omit<ConnectorDeps, 'config' | 'logger'> = identity
    ? {
        credentials: createVaultCredentialResolver({
          vault: identity.vault,
          fallback: options.credentials ?? createCredentialResolver(),
        }),
        callHeaders: (input, call) => identity.receipts.callHeaders(input, call),
        recorder: createExecutionRecorder(identity.usage.store),
        ledger: createExecutionLedger(identity.database.db),
      }
    : options.credentials
      ? { credentials: options.credentials }
      : {};

  let workers: Worker[] = [];
  let running: Promise<unknown>[] = [];
  const startWorkers = async () => {
    workers = await createWorkers({
      connection: nativeConnection,
      namespace: 'default',
      taskQueues,
      config: options.config,
      control: true,
      connectors: options.connectorWorkers === false ? [] : Object.keys(options.config.connectors),
      activityDeps: {
        logger,
        agents,
        notifier: options.notifier ?? createLogNotifier(logger),
        ...(guard ? { guard } : {}),
        observeClosed: hooks.observeClosed,
        webhooks: createWebhookSender({
          config: options.config.webhooks,
          credentials: connectorDeps.credentials ?? createCredentialResolver(),
          logger,
          observe: hooks.observeWebhook,
        }),
        ...(sealedParams ? { sealedParams, secretRetentionMs: options.config.execution.secretRetention } : {}),
      },
      connectorDeps: {
        ...connectorDeps,
        observeExecution: hooks.observeExecution,
        ...(sealedParams ? { sealedParams } : {}),
        ...(options.executionStarts ? { executionStarts: options.executionStarts } : {}),
      },
      workflowBundle: { codePath: bundlePath },
      dataConverter,
      ...(options.tracing ? { tracing: options.tracing.worker } : {}),
    });
    running = workers.map((w) => w.run());
  };
  const stopWorkers = async () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(running);
    workers = [];
    running = [];
  };
  if (!options.noWorkers) await startWorkers();

  return {
    config: options.config,
    client,
    ...(codec ? { codec } : {}),
    namespace: 'default',
    service,
    catalog,
    metrics,
    taskQueues,
    agents,
    ...(identity ? { identity } : {}),
    ...(sealedParams ? { sealedParams } : {}),
    logger,
    logLines,
    startWorkers,
    stopWorkers,
    cachedWorkflows: () => workers.reduce((sum, w) => sum + w.getStatus().numCachedWorkflows, 0),
    async close() {
      await stopWorkers();
      await nativeConnection.close();
      await connection.close();
      await identity?.database.close();
      await sealedDatabase?.close();
    },
  };
}

async function startIdentity(
  config: CountersignConfig,
  options: HarnessIdentityOptions,
  logger: Logger,
): Promise<HarnessIdentity> {
  const database = await openTestDatabase(options.dialect ?? 'sqlite', options.databaseUrl);
  const usage = createUsagePolicy({ config, db: database.db, logger });
  const identity = await createIdentity({
    db: database.db,
    config,
    logger,
    onScopeRefused: (agentId, scopes) => usage.refusals.record(agentId, 'scope_refused', scopes.join(' ')),
    ...TEST_IDENTITY_OPTIONS,
    ...options.options,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const keyring = createMasterKeyring(parseMasterKey(generateMasterKey(), 'test master key'));
  const vault = createVault({ db: database.db, keyring });
  for (const [id, value] of Object.entries(options.secrets ?? {})) await vault.put({ id, value, by: 'test' });
  const operatorTokens: Record<string, string> = {};
  if (options.operators ?? true) {
    for (const person of Object.keys(config.people)) {
      operatorTokens[person] = (await identity.operators.create({ id: person }, 'test')).token;
    }
  }
  return {
    identity,
    database,
    vault,
    usage,
    keyring,
    receipts: createReceiptSigner({ key: await generateReceiptKey(), issuer: 'countersign-test' }),
    operatorTokens,
  };
}
