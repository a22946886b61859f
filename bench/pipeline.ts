// B1 and B2: the governed pipeline (HTTP submit → policy → workflow → re-check → connector → outcome) against bare
// Temporal (start a workflow with one activity) on the same dev server, in the same run.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Client } from '@temporalio/client';
import { connectTemporal } from '../src/temporal/adapter';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { createConfigAgentDirectory } from '../src/agents';
import { ActionCatalog } from '../src/catalog';
import { createHttpApp } from '../src/http/app';
import { createApiKeyAuthenticator } from '../src/http/auth';
import { createReadiness } from '../src/http/readiness';
import { createLogger } from '../src/logger';
import { createMetrics } from '../src/metrics';
import { createLogNotifier } from '../src/notifier';
import { PolicyEngine } from '../src/policy/engine';
import { createRequestService } from '../src/requests';
import { createDataConverter, EncryptionCodec } from '../src/temporal/codec';
import { createMasterKeyring, generateMasterKey, parseMasterKey } from '../src/vault';
import { WORKFLOW_BUNDLE_OPTIONS, createWorkers, prefixedTaskQueues } from '../src/temporal/worker';
import { TEST_AGENT_KEY, testConfig } from '../test/support/config';
import { startTargetServer } from '../test/support/target-server';
import { pool, quantile, quiet } from './stats';

export interface PipelineFigures {
  requests: number;
  concurrency: number;
  governedPerSecond: number;
  barePerSecond: number;
  throughputRatio: number;
  submitP50ms: number;
  submitP99ms: number;
  bareStartP50ms: number;
  bareStartP99ms: number;
  governedSucceeded: number;
}

const BARE_WORKFLOWS = fileURLToPath(new URL('./workflows/bare.ts', import.meta.url));

/** Runs B1 and B2 against a Temporal server at `address`. */
export async function runPipelineBench(
  address: string,
  options: { requests: number; concurrency: number; latencySamples: number; sealed?: boolean },
): Promise<PipelineFigures> {
  const logger = createLogger({ level: 'warn' });
  const target = await startTargetServer();
  const config = testConfig({ targetHost: target.host });
  // Sealed: every payload through the codec, as the product runs by default; plain: the codec off.
  const dataConverter = createDataConverter(
    options.sealed
      ? new EncryptionCodec(createMasterKeyring(parseMasterKey(generateMasterKey(), 'bench master key')))
      : undefined,
  );
  const connection = await connectTemporal({ address });
  const client = new Client({ connection, namespace: 'default', dataConverter });
  // The baseline stays bare: no codec on its client or worker.
  const bareClient = new Client({ connection, namespace: 'default' });
  const native = await NativeConnection.connect({ address });
  const taskQueues = prefixedTaskQueues(`bench-${randomUUID().slice(0, 8)}`);
  const agents = createConfigAgentDirectory(config);
  const metrics = createMetrics();
  const service = createRequestService({
    client,
    config,
    catalog: ActionCatalog.compile(config),
    policy: PolicyEngine.compile(config),
    taskQueues,
    logger,
    observer: metrics.observer,
  });
  const app = createHttpApp({
    service,
    authenticator: createApiKeyAuthenticator({ agents }),
    config,
    catalog: ActionCatalog.compile(config),
    logger,
    metrics,
    readiness: createReadiness({ temporal: service.temporal }),
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const [governedBundle, bareBundle] = await Promise.all([
    bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: quiet }),
    bundleWorkflowCode({ workflowsPath: BARE_WORKFLOWS, logger: quiet }),
  ]);
  const workers = await createWorkers({
    connection: native,
    namespace: 'default',
    taskQueues,
    config,
    control: true,
    connectors: Object.keys(config.connectors),
    activityDeps: { logger, agents, notifier: createLogNotifier(logger) },
    connectorDeps: { credentials: { resolve: async () => 'bench-token' } },
    workflowBundle: governedBundle,
    dataConverter,
  });
  const bareQueue = `${taskQueues.control}-bare`;
  const bareWorker = await Worker.create({
    connection: native,
    namespace: 'default',
    taskQueue: bareQueue,
    workflowBundle: bareBundle,
    activities: {
      async callDownstream(input: { url: string; key: string }) {
        const res = await fetch(input.url, {
          method: 'POST',
          headers: { 'Idempotency-Key': input.key, 'Content-Type': 'application/json' },
          body: '{}',
        });
        await res.text();
        return res.status;
      },
    },
  });
  const running = [...workers, bareWorker].map((w) => w.run());

  const submit = async (wait: number) => {
    const res = await fetch(`${apiUrl}/v1/action-requests${wait ? `?wait=${wait}` : ''}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TEST_AGENT_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        action: 'payments.refund',
        params: { paymentId: `pay_${randomUUID().slice(0, 8)}`, amount: 25, currency: 'USD' },
        reason: 'benchmark',
      }),
    });
    const body = (await res.json()) as { status?: string };
    if (res.status !== 201) throw new Error(`submit answered ${res.status}`);
    return body.status;
  };
  const bare = (id: string) =>
    bareClient.workflow.execute('bareWorkflow', {
      workflowId: id,
      taskQueue: bareQueue,
      args: [{ url: `${target.url}/bare`, key: id }],
    });

  // Warm both paths (bundles cached, connections open).
  await pool(
    Array.from({ length: 10 }, (_, i) => i),
    5,
    async () => {
      await submit(30);
      await bare(`bare-warm-${randomUUID()}`);
    },
  );

  // B1: governed throughput (HTTP submit with ?wait until terminal) against the bare baseline, in alternating rounds so
  // that drift in the machine's load falls on both sides alike.
  const rounds = 4;
  const perRound = Math.max(1, Math.floor(options.requests / rounds));
  const ids = Array.from({ length: perRound }, (_, i) => i);
  let succeeded = 0;
  let governedSeconds = 0;
  let bareSeconds = 0;
  for (let round = 0; round < rounds; round++) {
    let start = performance.now();
    await pool(ids, options.concurrency, async () => {
      if ((await submit(30)) === 'succeeded') succeeded += 1;
    });
    governedSeconds += (performance.now() - start) / 1000;
    start = performance.now();
    await pool(ids, options.concurrency, async () => {
      await bare(`bare-${randomUUID()}`);
    });
    bareSeconds += (performance.now() - start) / 1000;
  }

  // B2: submit latency (no wait) beside bare workflow.start latency, sequential samples.
  const submitMs: number[] = [];
  const startMs: number[] = [];
  for (let i = 0; i < options.latencySamples; i++) {
    let t = performance.now();
    await submit(0);
    submitMs.push(performance.now() - t);
    t = performance.now();
    await bareClient.workflow.start('bareWorkflow', {
      workflowId: `bare-start-${randomUUID()}`,
      taskQueue: bareQueue,
      args: [{ url: `${target.url}/bare`, key: randomUUID() }],
    });
    startMs.push(performance.now() - t);
  }
  // Let the started ones finish before shutting down.
  await new Promise((r) => setTimeout(r, 2000));

  for (const w of [...workers, bareWorker]) w.shutdown();
  await Promise.allSettled(running);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await native.close();
  await connection.close();
  await target.close();

  const governedPerSecond = (perRound * rounds) / governedSeconds;
  const barePerSecond = (perRound * rounds) / bareSeconds;
  return {
    requests: perRound * rounds,
    concurrency: options.concurrency,
    governedPerSecond,
    barePerSecond,
    throughputRatio: governedPerSecond / barePerSecond,
    submitP50ms: quantile(submitMs, 0.5),
    submitP99ms: quantile(submitMs, 0.99),
    bareStartP50ms: quantile(startMs, 0.5),
    bareStartP99ms: quantile(startMs, 0.99),
    governedSucceeded: succeeded,
  };
}
