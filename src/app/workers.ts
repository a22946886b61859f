// The worker side of a process: the control worker (workflows, re-check, notifications) and the connector workers of
// the credential domains this process holds.
import type { DataConverter } from '@temporalio/common';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { ActivityDeps, ExecutionGuard } from '../../activities';
import { createCredentialResolver, type ConnectorDeps, type CredentialResolver } from '../../activities/connectors';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { Notifier } from '../notifier';
import type { SealedParams } from '../vault/sealed-params';
import { createWorkers, DEFAULT_TASK_QUEUES, type TaskQueues, type WorkerTracing } from '../temporal/worker';
import { createWebhookSender, type WebhookOutcome } from '../webhooks/sender';
import type { Core } from './core';

export interface StartWorkersOptions {
  core: Core;
  connection: NativeConnection;
  namespace: string;
  logger: Logger;
  notifier: Notifier;
  /** Run the control worker. */
  control: boolean;
  /** Connector credential domains to serve; all of the config's when undefined. */
  connectors?: readonly string[];
  credentials?: CredentialResolver;
  /** Resolves the webhook signing secrets (the control worker's); the connectors' resolver when absent. */
  webhookCredentials?: CredentialResolver;
  guard?: ExecutionGuard;
  /** Where agents' standing is read at the re-check; the config's agents when absent (the registry's with identity). */
  agents?: ActivityDeps['agents'];
  /** Headers bound to each downstream call (approval receipts). */
  callHeaders?: ConnectorDeps['callHeaders'];
  /** Records executions for usage budgets. */
  recorder?: ConnectorDeps['recorder'];
  /** The execution ledger (attempts before each downstream call, outcomes after). */
  ledger?: ConnectorDeps['ledger'];
  /** Told of each execution that ended with outcome unknown (the alert metric). */
  onOutcomeUnknown?: ConnectorDeps['onOutcomeUnknown'];
  taskQueues?: TaskQueues;
  /** Queues older requests may still name for their connectors (see CreateWorkersOptions.legacyConnectorQueues). */
  legacyConnectorQueues?: TaskQueues;
  /** Moved by the activities: executions by outcome, closed requests, decision times. */
  metrics?: Metrics;
  /** The payload codec's converter; the same as the client's. */
  dataConverter?: DataConverter;
  /** Secret parameters sealed at submit: opened by the re-check and the connector activity, erased at the end. */
  sealedParams?: SealedParams;
  /** How often the control worker erases sealed parameters past their expiry (default 10 minutes). */
  sealedSweepMs?: number;
  /** Tracing, when on. */
  tracing?: WorkerTracing;
  /** Told as connector activities start (the Slack app of the same process waits for them; dev mode). */
  executionStarts?: ConnectorDeps['executionStarts'];
}

export interface RunningWorkers {
  /** Task queues polled, for the banner and logs. */
  taskQueues: string[];
  /** Settles when every worker has stopped; rejects if one failed. */
  done: Promise<void>;
  /** Asks every worker to finish its current tasks and stop, then waits for them. */
  shutdown(): Promise<void>;
}

/** Creates and runs the workers; `shutdown()` drains them. */
export async function startWorkers(options: StartWorkersOptions): Promise<RunningWorkers> {
  const connectors = options.connectors ?? Object.keys(options.core.config.connectors);
  const taskQueues = options.taskQueues ?? DEFAULT_TASK_QUEUES;
  const credentials = options.credentials ?? createCredentialResolver();
  if (!options.control && connectors.length === 0)
    throw new Error('nothing to run: no control worker and no connectors');
  const workers: Worker[] = await createWorkers({
    connection: options.connection,
    namespace: options.namespace,
    taskQueues,
    config: options.core.config,
    control: options.control,
    connectors,
    ...(options.legacyConnectorQueues ? { legacyConnectorQueues: options.legacyConnectorQueues } : {}),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    activityDeps: {
      logger: options.logger,
      agents: options.agents ?? options.core.agents,
      notifier: options.notifier,
      ...(options.guard ? { guard: options.guard } : {}),
      ...(options.metrics ? { observeClosed: metricsOf(options.metrics).observeClosed } : {}),
      ...(options.sealedParams
        ? { sealedParams: options.sealedParams, secretRetentionMs: options.core.config.execution.secretRetention }
        : {}),
      webhooks: createWebhookSender({
        config: options.core.config.webhooks,
        credentials: options.webhookCredentials ?? credentials,
        logger: options.logger.child({ component: 'webhooks' }),
        ...(options.metrics ? { observe: metricsOf(options.metrics).observeWebhook } : {}),
      }),
    },
    connectorDeps: {
      credentials,
      ...(options.callHeaders ? { callHeaders: options.callHeaders } : {}),
      ...(options.recorder ? { recorder: options.recorder } : {}),
      ...(options.metrics ? { observeExecution: metricsOf(options.metrics).observeExecution } : {}),
      ...(options.ledger ? { ledger: options.ledger } : {}),
      ...(options.onOutcomeUnknown ? { onOutcomeUnknown: options.onOutcomeUnknown } : {}),
      ...(options.sealedParams ? { sealedParams: options.sealedParams } : {}),
      ...(options.executionStarts ? { executionStarts: options.executionStarts } : {}),
    },
    ...(options.tracing ? { tracing: options.tracing } : {}),
  });
  const sweeper =
    options.control && options.sealedParams
      ? startSealedSweep(options.sealedParams, options.sealedSweepMs ?? SEALED_SWEEP_MS, options.logger)
      : undefined;
  const done = Promise.all(workers.map((w) => w.run()))
    .then(() => undefined)
    .finally(() => sweeper?.stop());
  const polled = [
    ...new Set([
      ...(options.control ? [taskQueues.control] : []),
      ...connectors.map((c) => taskQueues.connector(c)),
      ...(options.legacyConnectorQueues ? connectors.map((c) => options.legacyConnectorQueues!.connector(c)) : []),
    ]),
  ];
  options.logger.info({ taskQueues: polled }, 'workers running');
  return {
    taskQueues: polled,
    done,
    async shutdown() {
      // The SDK's runtime may already have begun shutting workers down on SIGINT; only running ones need asking.
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
    },
  };
}

const SEALED_SWEEP_MS = 10 * 60_000;

/**
 * Erases sealed parameters past their absolute expiry, now and then every `everyMs`: the values of requests that never
 * reported their end (terminated from Temporal) and of submits that never started a workflow.
 */
export function startSealedSweep(store: SealedParams, everyMs: number, logger: Logger): { stop(): void } {
  let running: Promise<void> | undefined;
  const sweep = () => {
    if (running) return;
    running = store
      .sweep()
      .then((erased) => {
        if (erased > 0) logger.info({ erased }, 'expired sealed parameters erased');
      })
      .catch((err: unknown) => {
        logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'sealed parameters sweep failed');
      })
      .finally(() => {
        running = undefined;
      });
  };
  sweep();
  const timer = setInterval(sweep, everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
    },
  };
}

/** The activities' hooks into the process metrics. */
export function metricsOf(metrics: Metrics): {
  observeClosed: NonNullable<ActivityDeps['observeClosed']>;
  observeExecution: NonNullable<ConnectorDeps['observeExecution']>;
  observeWebhook: (outcome: WebhookOutcome) => void;
} {
  return {
    observeClosed: (state) => metrics.requestClosed(state),
    observeWebhook: (outcome) => metrics.webhookDelivery(outcome),
    observeExecution: (connector, action, outcome) => metrics.executions.inc({ connector, action, outcome }),
  };
}

/** A credential resolver that answers some environment references from values this process made up (dev mode). */
export function createOverlayCredentialResolver(
  overrides: Readonly<Record<string, string>>,
  fallback: CredentialResolver = createCredentialResolver(),
): CredentialResolver {
  return {
    async resolve(ref, requestId) {
      if ('env' in ref) {
        const value = overrides[ref.env];
        if (value !== undefined) return value;
      }
      return fallback.resolve(ref, requestId);
    },
  };
}
