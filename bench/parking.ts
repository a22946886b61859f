// B4: requests parked awaiting approval, at volume, in the product's own process: a fresh `npm start` (the compiled
// `countersign dev`: HTTP API, request service, control and connector workers in one process, the config's default
// `workers.maxCachedWorkflows`, payloads sealed by dev mode's codec, the start script's environment) on a data
// directory of its own, with its embedded Temporal dev server. The example config's large refund parks for two approvers.
// Measured: the dev-mode process's resident memory and heap (its /metrics) before and after, the dev server's SQLite
// file per parked request (WAL checkpointed first, so the figure is the database's, not the log's) split by table and
// index, one parked history's events by kind, and whether submit latency drifts as the parked set grows. Beside it, the
// floor on the same dev server: as many bare workflows parked on a signal with a timer (no memo, search attributes or
// payload codec), run by a bare worker in the bench process, and the database they add.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import proto, { type temporal } from '@temporalio/proto';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { connectTemporal } from '../src/temporal/adapter';
import { benchBundle } from './baselines';
import { startDevMode } from './dev-mode';
import { pool, quantile } from './stats';

/** The example config's demo agent key (examples/countersign.yaml; dev only). */
const DEMO_KEY = 'cs_demo_support_bot_key';

export interface HistoryEventKind {
  type: string;
  count: number;
  /** Encoded size of these events in the history (protobuf), payloads included. */
  bytes: number;
  /** Of which payload data (sealed as stored). */
  payloadBytes: number;
}

export interface ParkingFigures {
  parked: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  rssPerRequestKb: number;
  heapBeforeMb: number;
  heapAfterMb: number;
  /** The same a minute later, nothing submitted meanwhile (what the burst left has had time to be collected). */
  rssMinuteLaterMb: number;
  heapMinuteLaterMb: number;
  diskPerRequestKb: number;
  /** The floor: dev-server database per bare workflow parked on a signal (same server, after the requests). */
  bareDiskPerWorkflowKb: number;
  bareHistoryEvents: number;
  /** Bytes per parked request by table or index (SQLite dbstat), largest first. */
  diskByObject: { name: string; bytesPerRequest: number }[];
  /** The WAL's size just before the checkpoint that precedes the after-measure. */
  walBeforeCheckpointMb: number;
  freelistPagesAfter: number;
  historyEvents: number;
  historyBytes: number;
  historyPayloadBytes: number;
  historyKinds: HistoryEventKind[];
  firstSubmitP50ms: number;
  lastSubmitP50ms: number;
  firstSubmitP99ms: number;
  lastSubmitP99ms: number;
}

/** The process's resident set and V8 heap in use, read from its /metrics (prom-client's default metrics). */
async function processMemory(apiUrl: string): Promise<{ rss: number; heap: number }> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const read = (name: string) => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)`, 'm').exec(text);
    if (!match?.[1]) throw new Error(`/metrics has no ${name}`);
    return Number(match[1]);
  };
  return { rss: read('process_resident_memory_bytes'), heap: read('nodejs_heap_size_used_bytes') };
}

/** The database after a WAL checkpoint: its size, free pages and bytes per table/index (the server keeps running). */
function databaseSize(file: string): {
  bytes: number;
  walBytes: number;
  freelist: number;
  byObject: Map<string, number>;
} {
  const walBytes = existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0;
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 10000');
    // TRUNCATE waits for the server's writers and readers; PASSIVE at least folds in what it can.
    const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    if (result?.busy) db.pragma('wal_checkpoint(PASSIVE)');
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pages = db.pragma('page_count', { simple: true }) as number;
    const freelist = db.pragma('freelist_count', { simple: true }) as number;
    const rows = db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all() as {
      name: string;
      bytes: number;
    }[];
    return { bytes: pageSize * pages, walBytes, freelist, byObject: new Map(rows.map((r) => [r.name, r.bytes])) };
  } finally {
    db.close();
  }
}

/** Payload data bytes anywhere in a message (sealed payloads as stored). */
function payloadBytes(value: unknown): number {
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return value.reduce((sum: number, v) => sum + payloadBytes(v), 0);
  if (value && typeof value === 'object') {
    return Object.values(value as Record<string, unknown>).reduce((sum: number, v) => sum + payloadBytes(v), 0);
  }
  return 0;
}

/** One history's events grouped by kind, in order of first appearance. */
export function historyKinds(events: temporal.api.history.v1.IHistoryEvent[]): HistoryEventKind[] {
  const kinds = new Map<string, HistoryEventKind>();
  for (const event of events) {
    const type = proto.temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? String(event.eventType);
    const kind = kinds.get(type) ?? { type: type.replace(/^EVENT_TYPE_/, ''), count: 0, bytes: 0, payloadBytes: 0 };
    kind.count += 1;
    kind.bytes += proto.temporal.api.history.v1.HistoryEvent.encode(event).finish().byteLength;
    kind.payloadBytes += payloadBytes(event);
    kinds.set(type, kind);
  }
  return [...kinds.values()];
}

/** Runs B4: parks `parked` requests in a fresh dev-mode process and measures it. */
export async function runParkingBench(options: { parked: number; concurrency: number }): Promise<ParkingFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-b4-'));
  const dbFile = join(dataDir, 'temporal.sqlite');
  // The default per-agent rate would refuse a bench's burst; nothing else is changed.
  const dev = await startDevMode({ command: 'npm', dataDir, env: { COUNTERSIGN_RATE_LIMIT: '100000/s' } });
  const connection = await connectTemporal({ address: dev.temporalAddress });
  // No codec: the history is read as stored, sealed payloads included.
  const client = new Client({ connection, namespace: 'default' });
  const count = async () => (await client.workflow.count(`CsStatus = 'pending_approval'`)).count;
  const submit = async (i: number): Promise<string> => {
    const response = await fetch(`${dev.apiUrl}/v1/action-requests`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${DEMO_KEY}`,
        'Content-Type': 'application/json',
        'Idempotency-Key': randomUUID(),
      },
      body: JSON.stringify({
        action: 'payments.refund',
        params: { paymentId: `pay_b4${String(i).padStart(8, '0')}`, amount: 2500, currency: 'USD' },
        reason: 'Service outage credit for enterprise customer',
      }),
    });
    const body = (await response.json()) as { id?: string; status?: string };
    if (response.status >= 300 || body.status !== 'pending_approval' || !body.id) {
      throw new Error(`submit ${i} answered ${response.status}: ${JSON.stringify(body)}`);
    }
    return body.id;
  };
  const waitForParked = async (n: number) => {
    while ((await count()) < n) await sleep(250);
  };
  try {
    // A few to warm the process (workflow bundle, connections, JIT), not counted.
    for (let i = 0; i < 5; i++) await submit(99_999_990 + i);
    await waitForParked(5);
    await sleep(2000);
    const before = await processMemory(dev.apiUrl);
    const diskBefore = databaseSize(dbFile);
    const latencies = new Array<number>(options.parked);
    let firstId = '';
    await pool(
      Array.from({ length: options.parked }, (_, i) => i),
      options.concurrency,
      async (i) => {
        const t = performance.now();
        const id = await submit(i);
        latencies[i] = performance.now() - t;
        if (i === 0) firstId = id;
      },
    );
    await waitForParked(options.parked + 5);
    // Let the last workflow tasks and timers settle before reading memory.
    await sleep(5000);
    const after = await processMemory(dev.apiUrl);
    const diskAfter = databaseSize(dbFile);
    await sleep(60_000);
    const minuteLater = await processMemory(dev.apiUrl);
    const events = (await client.workflow.getHandle(firstId).fetchHistory()).events ?? [];
    const bare = await parkBare(dev.temporalAddress, client, options, dbFile);
    const kinds = historyKinds(events);
    const first = latencies.slice(0, 100);
    const last = latencies.slice(-100);
    const perRequest = (bytes: number) => bytes / options.parked;
    const names = new Set([...diskBefore.byObject.keys(), ...diskAfter.byObject.keys()]);
    return {
      parked: options.parked,
      rssBeforeMb: before.rss / 2 ** 20,
      rssAfterMb: after.rss / 2 ** 20,
      rssPerRequestKb: perRequest(after.rss - before.rss) / 1024,
      heapBeforeMb: before.heap / 2 ** 20,
      heapAfterMb: after.heap / 2 ** 20,
      rssMinuteLaterMb: minuteLater.rss / 2 ** 20,
      heapMinuteLaterMb: minuteLater.heap / 2 ** 20,
      diskPerRequestKb: perRequest(diskAfter.bytes - diskBefore.bytes) / 1024,
      bareDiskPerWorkflowKb: bare.diskPerWorkflowKb,
      bareHistoryEvents: bare.historyEvents,
      diskByObject: [...names]
        .map((name) => ({
          name,
          bytesPerRequest: perRequest((diskAfter.byObject.get(name) ?? 0) - (diskBefore.byObject.get(name) ?? 0)),
        }))
        .filter((o) => o.bytesPerRequest > 0)
        .sort((a, b) => b.bytesPerRequest - a.bytesPerRequest),
      walBeforeCheckpointMb: diskAfter.walBytes / 2 ** 20,
      freelistPagesAfter: diskAfter.freelist,
      historyEvents: events.length,
      historyBytes: kinds.reduce((sum, k) => sum + k.bytes, 0),
      historyPayloadBytes: kinds.reduce((sum, k) => sum + k.payloadBytes, 0),
      historyKinds: kinds,
      firstSubmitP50ms: quantile(first, 0.5),
      lastSubmitP50ms: quantile(last, 0.5),
      firstSubmitP99ms: quantile(first, 0.99),
      lastSubmitP99ms: quantile(last, 0.99),
    };
  } finally {
    await connection.close();
    await dev.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The floor: `parked` bare workflows that wait for a signal (with a timeout, as a request waits with its expiry), run by
 * a bare worker in this process on the same dev server; the database they add per workflow.
 */
async function parkBare(
  address: string,
  client: Client,
  options: { parked: number; concurrency: number },
  dbFile: string,
): Promise<{ diskPerWorkflowKb: number; historyEvents: number }> {
  const connection = await NativeConnection.connect({ address });
  const taskQueue = `bench-b4-bare-${randomUUID().slice(0, 8)}`;
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue,
    workflowBundle: await benchBundle('bare-signal'),
    activities: { callDownstream: async () => 0 },
  });
  const running = worker.run();
  try {
    const before = databaseSize(dbFile);
    const ids = Array.from({ length: options.parked }, (_, i) => `${taskQueue}-${i}`);
    await pool(ids, options.concurrency, async (workflowId) => {
      await client.workflow.start('bareSignalWorkflow', {
        taskQueue,
        workflowId,
        args: [{ url: 'http://127.0.0.1:9/', key: workflowId, waitMs: 86_400_000 }],
      });
    });
    // Parked once every first workflow task has completed and started its timer (start, three task events, timer).
    const parkedOnTimer = async (id: string) =>
      ((await client.workflow.getHandle(id).fetchHistory()).events ?? []).some((e) => e.timerStartedEventAttributes);
    for (const id of ids) while (!(await parkedOnTimer(id))) await sleep(100);
    await sleep(5000);
    const after = databaseSize(dbFile);
    const events = (await client.workflow.getHandle(ids[0] ?? '').fetchHistory()).events ?? [];
    return { diskPerWorkflowKb: (after.bytes - before.bytes) / options.parked / 1024, historyEvents: events.length };
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
