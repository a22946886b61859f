// B1 and B2: the governed pipeline (HTTP submit → policy → workflow → re-check → connector → outcome) against a
// hand-built gateway (Express, API key, one workflow with one activity: bench/baselines.ts) and bare Temporal (start a
// workflow with one activity) on the same dev server, in the same run, in rounds that alternate between the three.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Client } from '@temporalio/client';
import { connectTemporal, eagerStartClient } from '../src/temporal/adapter';
import { NativeConnection } from '@temporalio/worker';
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
import { colocatedTaskQueues, createWorkers, prefixedTaskQueues } from '../src/temporal/worker';
import { TEST_AGENT_KEY, testConfig } from '../test/support/config';
import { startTargetServer } from '../test/support/target-server';
import {
  BENCH_CONNECTOR,
  BENCH_WORKER_TUNING,
  closeServer,
  DOWNSTREAM_TOKEN,
  benchBundle,
  createBareWorker,
  createDownstreamActivities,
  createHandBuiltWorkers,
  describeLayout,
  handBuiltQueues,
  newRefund,
  refundCall,
  startHandBuiltGateway,
} from './baselines';
import { pool, quantile, splitRounds } from './stats';

/** Per-round values of one side. */
export interface SideRounds {
  /** B1: requests per second, submit until executed, per round. */
  perSecond: number[];
  /** B2: submit latency p50 and p99 per round (ms). */
  submitP50ms: number[];
  submitP99ms: number[];
}

export interface PipelineFigures {
  sealed: boolean;
  rounds: number;
  /** B1 requests per side per round. */
  requestsPerRound: number;
  concurrency: number;
  /** B2 sequential samples per side per round. */
  latencyPerRound: number;
  governed: SideRounds;
  handBuilt: SideRounds;
  bare: SideRounds;
  governedSucceeded: number;
  handBuiltSucceeded: number;
  /** How the governed and hand-built sides lay out their task queues (the same way). */
  layout: string;
}

/** Runs B1 and B2 against a Temporal server at `address`. */
export async function runPipelineBench(
  address: string,
  options: { requests: number; concurrency: number; latencySamples: number; rounds: number; sealed: boolean },
): Promise<PipelineFigures> {
  const logger = createLogger({ level: 'warn' });
  const target = await startTargetServer();
  const config = testConfig({ targetHost: target.host });
  // Sealed: every payload through the codec, as the product runs by default; plain: the codec off. The hand-built
  // side runs with the same codec state as the governed one; the bare floor never has a codec.
  const dataConverter = createDataConverter(
    options.sealed
      ? new EncryptionCodec(createMasterKeyring(parseMasterKey(generateMasterKey(), 'bench master key')))
      : undefined,
  );
  const connection = await connectTemporal({ address });
  const client = new Client({ connection, namespace: 'default', dataConverter });
  const bareClient = new Client({ connection, namespace: 'default' });
  const native = await NativeConnection.connect({ address });
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  // Laid out as dev mode runs it: connectors on the control queue (see colocatedTaskQueues).
  const taskQueues = colocatedTaskQueues(prefixedTaskQueues(prefix));
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
    // As dev mode runs it: the API and the control worker share a process, so starts are eager.
    eagerStarter: eagerStartClient(native, { namespace: 'default', dataConverter }),
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

  const [governedBundle, handBuiltBundle, bareBundle] = await Promise.all([
    benchBundle('governed'),
    benchBundle('hand-built'),
    benchBundle('bare'),
  ]);
  const connector = config.connectors[BENCH_CONNECTOR];
  const activities = createDownstreamActivities({ timeoutMs: connector?.timeout ?? 10_000 });
  const workers = await createWorkers({
    connection: native,
    namespace: 'default',
    taskQueues,
    config,
    control: true,
    connectors: Object.keys(config.connectors),
    activityDeps: { logger, agents, notifier: createLogNotifier(logger) },
    connectorDeps: { credentials: { resolve: async () => DOWNSTREAM_TOKEN } },
    workflowBundle: governedBundle,
    dataConverter,
    tuning: BENCH_WORKER_TUNING,
  });
  const queues = handBuiltQueues(taskQueues, prefix);
  const handWorkers = await createHandBuiltWorkers({
    connection: native,
    queues,
    workflowBundle: handBuiltBundle,
    activities,
    dataConverter,
  });
  const gateway = await startHandBuiltGateway({ client, apiKey: TEST_AGENT_KEY, queues, downstreamUrl: target.url });
  const bareQueue = `${prefix}-bare`;
  const bareWorker = await createBareWorker({
    connection: native,
    taskQueue: bareQueue,
    workflowBundle: bareBundle,
    activities,
  });
  const all = [...workers, ...handWorkers, bareWorker];
  const running = all.map((w) => w.run());
  // Every submission, on every side, ends in one downstream call: the run waits for them all before closing.
  let expectedCalls = 0;

  // Both HTTP sides get the same request: the same JSON body and bearer key, over the same kind of loopback socket.
  const post = async (url: string, body: unknown) => {
    expectedCalls += 1;
    const res = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TEST_AGENT_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await res.json()) as { status?: string };
    if (res.status !== 201) throw new Error(`${url} answered ${res.status}`);
    return answer.status;
  };
  const governed = (wait: boolean) =>
    post(`${apiUrl}/v1/action-requests${wait ? '?wait=30' : ''}`, {
      action: 'payments.refund',
      params: newRefund(25),
      reason: 'benchmark',
    });
  const handBuilt = (wait: boolean) => post(`${gateway.url}/v1/refunds${wait ? '?wait=1' : ''}`, newRefund(25));
  const bareStart = () => {
    expectedCalls += 1;
    const id = `bare-${randomUUID()}`;
    return bareClient.workflow.start('bareWorkflow', {
      workflowId: id,
      taskQueue: bareQueue,
      args: [refundCall(target.url, newRefund(25), id)],
    });
  };
  const bare = async (wait: boolean) => {
    const handle = await bareStart();
    if (wait) await handle.result();
  };

  try {
    // Warm all three alike (bundles cached, connections open, the HTTP paths' code hot).
    await pool(
      Array.from({ length: 12 }, (_, i) => i),
      4,
      async () => {
        await governed(true);
        await handBuilt(true);
        await bare(true);
      },
    );

    // B1: throughput, submit until executed, rounds alternating governed, hand-built, bare, so that drift in the
    // machine's load falls on all three alike. The HTTP sides are timed the same way: the POST until its answer, which
    // comes once the workflow completed.
    const perRound = Math.max(1, Math.floor(options.requests / options.rounds));
    const ids = Array.from({ length: perRound }, (_, i) => i);
    const b1 = { governed: [] as number[], handBuilt: [] as number[], bare: [] as number[] };
    let governedSucceeded = 0;
    let handBuiltSucceeded = 0;
    const throughput = async (task: () => Promise<void>) => {
      const start = performance.now();
      await pool(ids, options.concurrency, task);
      return perRound / ((performance.now() - start) / 1000);
    };
    for (let round = 0; round < options.rounds; round++) {
      b1.governed.push(
        await throughput(async () => {
          if ((await governed(true)) === 'succeeded') governedSucceeded += 1;
        }),
      );
      b1.handBuilt.push(
        await throughput(async () => {
          if ((await handBuilt(true)) === 'succeeded') handBuiltSucceeded += 1;
        }),
      );
      b1.bare.push(await throughput(() => bare(true)));
    }

    // B2: submit latency (answered once the workflow started), sequential, the three interleaved sample by sample.
    const latencyPerRound = Math.max(1, Math.floor(options.latencySamples / options.rounds));
    const b2 = { governed: [] as number[], handBuilt: [] as number[], bare: [] as number[] };
    const time = async (samples: number[], task: () => Promise<unknown>) => {
      const t = performance.now();
      await task();
      samples.push(performance.now() - t);
    };
    for (let i = 0; i < latencyPerRound * options.rounds; i++) {
      await time(b2.governed, () => governed(false));
      await time(b2.handBuilt, () => handBuilt(false));
      await time(b2.bare, bareStart);
    }
    await waitFor(() => target.calls.length >= expectedCalls, 60_000, 'every started workflow to call downstream');

    const side = (perSecond: number[], submits: number[]): SideRounds => {
      const rounds = splitRounds(submits, options.rounds);
      return {
        perSecond,
        submitP50ms: rounds.map((r) => quantile(r, 0.5)),
        submitP99ms: rounds.map((r) => quantile(r, 0.99)),
      };
    };
    return {
      sealed: options.sealed,
      rounds: options.rounds,
      requestsPerRound: perRound,
      concurrency: options.concurrency,
      latencyPerRound,
      governed: side(b1.governed, b2.governed),
      handBuilt: side(b1.handBuilt, b2.handBuilt),
      bare: side(b1.bare, b2.bare),
      governedSucceeded,
      handBuiltSucceeded,
      layout: describeLayout(queues),
    };
  } finally {
    for (const w of all) w.shutdown();
    await Promise.allSettled(running);
    await gateway.close();
    await closeServer(server);
    await native.close();
    await connection.close();
    await target.close();
  }
}

/** Resolves once `ready()` holds, checking every 50 ms; rejects after `timeoutMs`. */
async function waitFor(ready: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!ready()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
