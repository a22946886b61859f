// B4: requests parked awaiting approval, at volume: the process's resident memory (API service and control worker in
// one process), the dev server's database per parked request, what one parked request's history holds, and whether
// submit latency drifts as the parked set grows (the last 100 against the first 100). Payloads are sealed by the
// codec, as the product runs by default.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createConfigAgentDirectory, type AgentRecord } from '../src/agents';
import { ActionCatalog } from '../src/catalog';
import { createLogger } from '../src/logger';
import { createLogNotifier } from '../src/notifier';
import { PolicyEngine } from '../src/policy/engine';
import { createRequestService } from '../src/requests';
import { connectTemporal } from '../src/temporal/adapter';
import { createDataConverter, EncryptionCodec } from '../src/temporal/codec';
import { createWorkers, prefixedTaskQueues } from '../src/temporal/worker';
import { createMasterKeyring, generateMasterKey, parseMasterKey } from '../src/vault';
import { testConfig } from '../test/support/config';
import { startLocalTemporal } from '../test/support/local-temporal';
import { benchBundle } from './baselines';
import { pool, quantile } from './stats';

export interface ParkingFigures {
  parked: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  heapAfterMb: number;
  diskPerRequestKb: number;
  historyEvents: number;
  historyPayloadBytes: number;
  firstSubmitP50ms: number;
  lastSubmitP50ms: number;
  firstSubmitP99ms: number;
  lastSubmitP99ms: number;
}

/** Runs B4 on a dev server of its own (its SQLite file is what is measured). */
export async function runParkingBench(options: { parked: number; concurrency: number }): Promise<ParkingFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-b4-'));
  const dbFile = join(dir, 'temporal.db');
  const env = await startLocalTemporal({ dbFilename: dbFile });
  const logger = createLogger({ level: 'silent' });
  const config = testConfig({ targetHost: '127.0.0.1:9' });
  const taskQueues = prefixedTaskQueues(`b4-${randomUUID().slice(0, 8)}`);
  const agents = createConfigAgentDirectory(config);
  const dataConverter = createDataConverter(
    new EncryptionCodec(createMasterKeyring(parseMasterKey(generateMasterKey(), 'bench master key'))),
  );
  const connection = await connectTemporal({ address: env.address });
  const client = new Client({ connection, namespace: 'default', dataConverter });
  const native = await NativeConnection.connect({ address: env.address });
  const service = createRequestService({
    client,
    config,
    catalog: ActionCatalog.compile(config),
    policy: PolicyEngine.compile(config),
    taskQueues,
    logger,
  });
  const workers = await createWorkers({
    connection: native,
    namespace: 'default',
    taskQueues,
    config,
    control: true,
    connectors: [],
    activityDeps: { logger, agents, notifier: createLogNotifier(logger) },
    workflowBundle: await benchBundle('governed'),
    dataConverter,
  });
  const running = workers.map((w) => w.run());
  const count = async () =>
    (await client.workflow.count(`TaskQueue = '${taskQueues.control}' AND CsStatus = 'pending_approval'`)).count;
  const diskBytes = () =>
    [dbFile, `${dbFile}-wal`, `${dbFile}-shm`].reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0);
  try {
    const agent = (await agents.get('support-bot')) as AgentRecord;
    const submit = (i: number) =>
      service.submit(
        agent,
        {
          action: 'payments.refund',
          params: { paymentId: `pay_b4${String(i).padStart(6, '0')}`, amount: 5000, currency: 'EUR' },
          reason: 'parked for B4',
        },
        randomUUID(),
      );
    // A few to warm the bundle and the connections, not counted.
    for (let i = 0; i < 5; i++) await submit(999_990 + i);
    while ((await count()) < 5) await sleep(100);
    gc();
    const rssBefore = process.memoryUsage().rss;
    const diskBefore = diskBytes();
    const latencies = new Array<number>(options.parked);
    let firstId = '';
    await pool(
      Array.from({ length: options.parked }, (_, i) => i),
      options.concurrency,
      async (i) => {
        const t = performance.now();
        const { state } = await submit(i);
        latencies[i] = performance.now() - t;
        if (i === 0) firstId = state.requestId;
      },
    );
    while ((await count()) < options.parked + 5) await sleep(250);
    gc();
    const memory = process.memoryUsage();
    const diskAfter = diskBytes();
    const events = (await client.workflow.getHandle(firstId).fetchHistory()).events ?? [];
    const first = latencies.slice(0, 100);
    const last = latencies.slice(-100);
    return {
      parked: options.parked,
      rssBeforeMb: rssBefore / 2 ** 20,
      rssAfterMb: memory.rss / 2 ** 20,
      heapAfterMb: memory.heapUsed / 2 ** 20,
      diskPerRequestKb: (diskAfter - diskBefore) / options.parked / 1024,
      historyEvents: events.length,
      historyPayloadBytes: payloadBytes(events),
      firstSubmitP50ms: quantile(first, 0.5),
      lastSubmitP50ms: quantile(last, 0.5),
      firstSubmitP99ms: quantile(first, 0.99),
      lastSubmitP99ms: quantile(last, 0.99),
    };
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.allSettled(running);
    await native.close();
    await connection.close();
    await env.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bytes of every payload's data in a history (sealed payloads as stored). */
function payloadBytes(value: unknown): number {
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return value.reduce((sum: number, v) => sum + payloadBytes(v), 0);
  if (value && typeof value === 'object') {
    return Object.values(value as Record<string, unknown>).reduce((sum: number, v) => sum + payloadBytes(v), 0);
  }
  return 0;
}

/** A full collection when the process runs with --expose-gc, so resident memory is measured after garbage. */
function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
