// `npm run bench:topology`: B5 (recovery) and B1 (throughput, one connector worker against two) in the production
// topology: a real Temporal server over PostgreSQL, two API replicas, a control worker and connector workers as
// processes of the compiled bin (test/topology/support, the deployment the topology tests run). Figures are printed
// and, with `--json <path>`, written as JSON. `--quick` takes fewer samples. Needs DATABASE_URL (PostgreSQL).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildDist, distIsStale } from '../scripts/build';
import { defaultCacheDir, loadSettings } from '../src/config/settings';
import {
  isTerminal,
  startDeployment,
  statusOf,
  submitRefund,
  until,
  type Topology,
} from '../test/topology/support/deployment';
import { startTopologyTemporal } from '../test/topology/support/temporal';
import { fmt, pool, quantile } from './stats';

const { values: args } = parseArgs({ options: { json: { type: 'string' }, quick: { type: 'boolean' } } });
const quick = args.quick ?? false;
const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
const line = (text: string) => process.stdout.write(`${text}\n`);

/** B5 goals (the issue's): worker restart → first completed execution, Temporal back → every replica ready. */
const WORKER_GOAL_MS = 5_000;
const TEMPORAL_GOAL_MS = 3_000;

const settings = loadSettings();
if (!settings.DATABASE_URL) {
  throw new Error('the topology bench needs PostgreSQL: export DATABASE_URL="$(bash scripts/ci-postgres.sh)"');
}
if (distIsStale()) await buildDist();
const server = await startTopologyTemporal({
  databaseUrl: settings.DATABASE_URL,
  cacheDir: settings.COUNTERSIGN_CACHE_DIR ?? defaultCacheDir(),
  databasePrefix: 'cs_bench_topology_temporal',
  log,
});
let t: Topology | undefined;
try {
  t = await startDeployment(
    { temporalAddress: server.address, databaseUrl: settings.DATABASE_URL },
    { name: 'bench', env: { COUNTERSIGN_RATE_LIMIT: '1000000/h' } },
  );
  const deployment = t;
  log('deployment ready: B1, then B5');
  const figures = {
    b1: await throughput(deployment, { requests: quick ? 48 : 160, concurrency: 16, rounds: quick ? 1 : 2 }),
    b5Worker: await workerRecovery(deployment, quick ? 1 : 3),
    b5Temporal: await temporalRecovery(deployment, quick ? [5_000] : [10_000, 60_000]),
  };
  report(figures);
  if (args.json) writeFileSync(args.json, JSON.stringify({ quick, at: new Date().toISOString(), ...figures }, null, 2));
} finally {
  await t?.close();
  await server.stop();
}

/** Submits `count` allowed refunds, `concurrency` in flight, each awaited until terminal; returns requests per second. */
async function submitWave(topology: Topology, count: number, concurrency: number) {
  let succeeded = 0;
  const start = performance.now();
  await pool(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    async (i) => {
      const res = await submitRefund(topology.replicas[i % topology.replicas.length]!.url, { wait: 30 });
      if (res.requestStatus === 'succeeded') succeeded += 1;
    },
  );
  return { perSecond: count / ((performance.now() - start) / 1000), succeeded };
}

/**
 * B1 in the topology: HTTP submit (alternating replicas, `?wait` until terminal) → executed, with the `billing` domain
 * served by one connector worker and then by two, in alternating rounds so the machine's load drifts onto both alike.
 */
async function throughput(topology: Topology, options: { requests: number; concurrency: number; rounds: number }) {
  await submitWave(topology, 16, 8);
  const perRound = Math.max(1, Math.floor(options.requests / options.rounds));
  const seconds = { one: 0, two: 0 };
  const succeeded = { one: 0, two: 0 };
  for (let round = 0; round < options.rounds; round++) {
    log(`B1 round ${round + 1} of ${options.rounds}`);
    const one = await submitWave(topology, perRound, options.concurrency);
    seconds.one += perRound / one.perSecond;
    succeeded.one += one.succeeded;
    const second = await topology.startConnectorWorker('billing');
    try {
      const two = await submitWave(topology, perRound, options.concurrency);
      seconds.two += perRound / two.perSecond;
      succeeded.two += two.succeeded;
    } finally {
      await second.stop('SIGTERM', 15_000);
    }
  }
  const total = perRound * options.rounds;
  const oneWorkerPerSecond = total / seconds.one;
  const twoWorkersPerSecond = total / seconds.two;
  return {
    requests: total,
    concurrency: options.concurrency,
    oneWorkerPerSecond,
    twoWorkersPerSecond,
    ratio: twoWorkersPerSecond / oneWorkerPerSecond,
    succeeded,
  };
}

/**
 * B5, worker: the `billing` connector worker killed with SIGKILL while its calls wait at the downstream, requests
 * submitted while it is down, then the worker started again. Timed from the restart: the worker polling, the first
 * completed execution, and every request terminal (the killed attempts are retried once their start-to-close timeout
 * passes).
 */
async function workerRecovery(topology: Topology, samples: number) {
  const runs: { pollingMs: number; firstLogMs: number; firstCompletedMs: number; allTerminalMs: number }[] = [];
  for (let s = 0; s < samples; s++) {
    log(`B5 worker kill ${s + 1} of ${samples}`);
    topology.target.delay(1_000);
    const inFlight: string[] = [];
    for (let i = 0; i < 4; i++) inFlight.push((await submitRefund(topology.replicas[i % 2]!.url)).id!);
    await until(async () => topology.target.inFlight === inFlight.length, 60_000);
    await topology.connector.stop('SIGKILL', 0);
    topology.target.delay(0);
    const queued: string[] = [];
    for (let i = 0; i < 4; i++) queued.push((await submitRefund(topology.replicas[i % 2]!.url)).id!);

    const restartedAt = performance.now();
    let firstCompletedMs: number | undefined;
    const done = new Set<string>();
    const watch = until(
      async () => {
        for (const id of [...inFlight, ...queued]) {
          if (done.has(id)) continue;
          const status = await statusOf(topology.replicas[0]!.url, topology.operator, id);
          if (!isTerminal(status)) continue;
          done.add(id);
          if (status === 'succeeded') firstCompletedMs ??= performance.now() - restartedAt;
        }
        return done.size === inFlight.length + queued.length;
      },
      120_000,
      25,
    );
    const spawnedAt = Date.now();
    topology.connector = await topology.startConnectorWorker('billing');
    const pollingMs = performance.now() - restartedAt;
    await watch;
    runs.push({
      pollingMs,
      firstLogMs: firstLogAfter(topology.connector.output().stdout, spawnedAt),
      firstCompletedMs: firstCompletedMs ?? Number.NaN,
      allTerminalMs: performance.now() - restartedAt,
    });
  }
  return {
    samples: runs,
    firstCompletedP50Ms: quantile(
      runs.map((r) => r.firstCompletedMs),
      0.5,
    ),
    firstCompletedMaxMs: Math.max(...runs.map((r) => r.firstCompletedMs)),
    goalMs: WORKER_GOAL_MS,
  };
}

/**
 * B5, Temporal: the server stopped for each of `outagesMs` while a load balancer probes `/readyz` once a second, then
 * started again. Timed from the server answering its health check again: every replica's `/readyz` 200, and the first
 * request submitted then completed.
 */
async function temporalRecovery(topology: Topology, outagesMs: number[]) {
  const runs: { outageMs: number; serverStartMs: number; readyMs: number; firstCompletedMs: number }[] = [];
  const urls = topology.replicas.map((r) => r.url);
  const readyz = async (url: string) =>
    (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined))?.status;
  for (const outageMs of outagesMs) {
    log(`B5 Temporal outage of ${outageMs / 1000} s`);
    await server.stop();
    const stoppedAt = Date.now();
    while (Date.now() - stoppedAt < outageMs) {
      await Promise.all(urls.map(readyz));
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const startedAt = performance.now();
    await server.restart();
    const backAt = performance.now();
    await Promise.all(urls.map((url) => until(async () => (await readyz(url)) === 200, 120_000, 25)));
    const readyMs = performance.now() - backAt;
    const submitted = await submitRefund(urls[0]!, { wait: 30 });
    runs.push({
      outageMs,
      serverStartMs: backAt - startedAt,
      readyMs,
      firstCompletedMs: submitted.requestStatus === 'succeeded' ? performance.now() - backAt : Number.NaN,
    });
  }
  return { samples: runs, readyMaxMs: Math.max(...runs.map((r) => r.readyMs)), goalMs: TEMPORAL_GOAL_MS };
}

/** Milliseconds from `spawnedAt` to a process's first log line (its boot: Node, modules, settings and config). */
function firstLogAfter(stdout: string, spawnedAt: number): number {
  const first = /"time":(\d+)/.exec(stdout);
  return first ? Number(first[1]) - spawnedAt : Number.NaN;
}

function report(figures: {
  b1: Awaited<ReturnType<typeof throughput>>;
  b5Worker: Awaited<ReturnType<typeof workerRecovery>>;
  b5Temporal: Awaited<ReturnType<typeof temporalRecovery>>;
}) {
  const { b1, b5Worker, b5Temporal } = figures;
  const met = (ms: number, goal: number) => (ms <= goal ? 'met' : 'NOT met');
  line('Countersign topology benchmarks' + (quick ? ' (quick)' : ''));
  line('');
  line(`B1 allowed-request throughput in the topology, ${b1.requests} requests per side, ${b1.concurrency} in flight`);
  line(`  one billing connector worker: ${fmt(b1.oneWorkerPerSecond)} req/s (${b1.succeeded.one} succeeded)`);
  line(`  two billing connector workers: ${fmt(b1.twoWorkersPerSecond)} req/s (${b1.succeeded.two} succeeded)`);
  line(`  ratio two/one: ${fmt(b1.ratio, 2)}`);
  line('');
  line('B5 recovery after a connector worker kill -9 (4 calls in flight, 4 queued), timed from the restart');
  for (const r of b5Worker.samples) {
    line(
      `  first log line ${fmt(r.firstLogMs, 0)} ms, polling ${fmt(r.pollingMs, 0)} ms, first completed execution ${fmt(r.firstCompletedMs, 0)} ms, all terminal ${fmt(r.allTerminalMs, 0)} ms`,
    );
  }
  line(
    `  first completed: p50 ${fmt(b5Worker.firstCompletedP50Ms, 0)} ms, max ${fmt(b5Worker.firstCompletedMaxMs, 0)} ms  (goal: ≤ ${b5Worker.goalMs} ms: ${met(b5Worker.firstCompletedMaxMs, b5Worker.goalMs)})`,
  );
  line('');
  line('B5 recovery after a Temporal server restart, timed from its frontend answering again');
  for (const r of b5Temporal.samples) {
    line(
      `  outage ${fmt(r.outageMs / 1000, 0)} s: server start ${fmt(r.serverStartMs, 0)} ms, every replica ready ${fmt(r.readyMs, 0)} ms, first request completed ${fmt(r.firstCompletedMs, 0)} ms`,
    );
  }
  line(
    `  ready: max ${fmt(b5Temporal.readyMaxMs, 0)} ms  (goal: ≤ ${b5Temporal.goalMs} ms: ${met(b5Temporal.readyMaxMs, b5Temporal.goalMs)})`,
  );
}
