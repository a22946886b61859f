// A running Countersign against the shared test Temporal server: request service, control and connector workers,
// all on task queues of the suite's own, with log lines captured for leak checks.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { ExecutionGuard } from '../../activities';
import type { CredentialResolver } from '../../activities/connectors';
import { createConfigAgentDirectory, type AgentDirectory } from '../../src/agents';
import { ActionCatalog } from '../../src/catalog';
import type { CountersignConfig } from '../../src/config/schema';
import { createLogger, type Logger } from '../../src/logger';
import { createMetrics, type Metrics } from '../../src/metrics';
import { createLogNotifier, type Notifier } from '../../src/notifier';
import { PolicyEngine } from '../../src/policy/engine';
import { createRequestService, type RequestService } from '../../src/requests';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { createWorkers, prefixedTaskQueues, type TaskQueues } from '../../src/temporal/worker';

export interface HarnessOptions {
  config: CountersignConfig;
  notifier?: Notifier;
  agents?: AgentDirectory;
  guard?: ExecutionGuard;
  credentials?: CredentialResolver;
  /** Start without workers (to park requests with nobody polling). */
  noWorkers?: boolean;
}

export interface Harness {
  config: CountersignConfig;
  client: Client;
  namespace: string;
  service: RequestService;
  /** What an HTTP app over this harness needs besides the service. */
  catalog: ActionCatalog;
  /** Observes the service (a fresh registry per harness). */
  metrics: Metrics;
  taskQueues: TaskQueues;
  agents: AgentDirectory;
  logger: Logger;
  logLines: string[];
  startWorkers(): Promise<void>;
  stopWorkers(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a harness; each call gets fresh task queues. */
export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const address = inject('temporalAddress');
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
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const nativeConnection = await NativeConnection.connect({ address });
  const taskQueues = prefixedTaskQueues(`t-${randomUUID().slice(0, 8)}`);
  const agents = options.agents ?? createConfigAgentDirectory(options.config);
  const catalog = ActionCatalog.compile(options.config);
  const policy = PolicyEngine.compile(options.config);
  const metrics = createMetrics();
  const service = createRequestService({
    client,
    config: options.config,
    catalog,
    policy,
    taskQueues,
    logger,
    observer: metrics.observer,
  });

  let workers: Worker[] = [];
  let running: Promise<unknown>[] = [];
  const startWorkers = async () => {
    workers = await createWorkers({
      connection: nativeConnection,
      namespace: 'default',
      taskQueues,
      config: options.config,
      control: true,
      connectors: Object.keys(options.config.connectors),
      activityDeps: {
        logger,
        agents,
        notifier: options.notifier ?? createLogNotifier(logger),
        ...(options.guard ? { guard: options.guard } : {}),
      },
      connectorDeps: options.credentials ? { credentials: options.credentials } : {},
      workflowBundle: { codePath: bundlePath },
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
    namespace: 'default',
    service,
    catalog,
    metrics,
    taskQueues,
    agents,
    logger,
    logLines,
    startWorkers,
    stopWorkers,
    async close() {
      await stopWorkers();
      await nativeConnection.close();
      await connection.close();
    },
  };
}
