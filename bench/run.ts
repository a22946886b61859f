// `npm run bench`: every figure from one run on one Temporal dev server. Countersign's paths are measured beside a
// hand-built baseline (what a team would write instead) and bare Temporal (the floor), in rounds that alternate between
// them; each figure reports its median and spread over the rounds and the 1-minute load average around it.
// Flags: `--quick` (fewer samples), `--json [path]` (machine-readable results, default bench/results/latest.json),
// `--only B1,B3,…` (run only those figures' benchmarks), `--parked N` (B4's parked count; default 10,000, quick 2,000).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { createLogger } from '../src/logger';
import { installTemporalRuntime } from '../src/temporal/runtime';
import { startLocalTemporal } from '../test/support/local-temporal';
import { runCliBench } from './cli';
import { runColdStartBench } from './cold-start';
import { runIdentityBench } from './identity';
import { runKillSwitchBench } from './kill-switch';
import { runParkingBench } from './parking';
import { runPipelineBench, type PipelineFigures } from './pipeline';
import { runPolicyBench } from './policy';
import { differences, loadNow, metric, ratios, type BenchResults, type Figure, type Metric } from './results';
import { runSlackBench } from './slack';
import { fmt } from './stats';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonAt = args.indexOf('--json');
const jsonNext = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
const jsonPath =
  jsonAt < 0 ? undefined : resolve(jsonNext && !jsonNext.startsWith('--') ? jsonNext : 'bench/results/latest.json');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? new Set((args[onlyAt + 1] ?? '').split(',').map((s) => s.trim().toUpperCase())) : undefined;
const wanted = (...ids: string[]) => !only || ids.some((id) => only.has(id));
/** Rounds per figure: at least three, so every figure has a spread. */
const ROUNDS = quick ? 3 : 5;

const startedAt = new Date().toISOString();
const runLoadStart = loadNow();
const figures: Figure[] = [];
const line = (text: string) => process.stdout.write(`${text}\n`);

/** "median unit (min – max, N rounds)". */
function show(m: Metric): string {
  const value = (v: number) => `${fmt(v, m.digits)}${m.unit === '×' || m.unit === '' ? m.unit : ` ${m.unit}`}`;
  const spread =
    m.rounds.length > 1 ? ` (${fmt(m.min, m.digits)} – ${fmt(m.max, m.digits)} over ${m.rounds.length} rounds)` : '';
  const target = [m.goal ? `goal ${m.goal.op} ${m.goal.value}` : '', m.bar ? `bar ${m.bar.op} ${m.bar.value}` : '']
    .filter(Boolean)
    .join(', ');
  return `${value(m.median)}${spread}${target ? `  [${target}]` : ''}`;
}

/** Prints a figure and keeps it for the JSON. */
function report(figure: Figure): void {
  figures.push(figure);
  line(`${figure.id} ${figure.title}  (load ${fmt(figure.load.start, 2)} → ${fmt(figure.load.end, 2)})`);
  for (const note of figure.notes) line(`  · ${note}`);
  for (const m of figure.metrics) line(`  ${m.role === 'measure' ? '' : `${m.role}: `}${m.name}: ${show(m)}`);
  line('');
  writeJson(false);
}

/** The same measure on the three sides, governed, hand-built and bare, from their per-round values. */
function sides(name: string, unit: string, rounds: [number[], number[], number[]], digits = 2): Metric[] {
  const roles = ['governed', 'hand-built', 'bare'] as const;
  return roles.map((role, i) => metric(name, unit, role, rounds[i] ?? [], { digits }));
}

async function measured<T>(task: () => Promise<T> | T): Promise<{ value: T; load: Figure['load'] }> {
  const start = loadNow();
  const value = await task();
  return { value, load: { start, end: loadNow() } };
}

function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return dirty ? `${sha}+dirty` : sha;
  } catch {
    return 'unknown';
  }
}

line(`Countersign benchmarks${quick ? ' (quick)' : ''}, ${ROUNDS} rounds per figure, Node ${process.version}`);
line('');

if (wanted('B6')) {
  const iterations = quick ? 5_000 : 50_000;
  const { value, load } = await measured(() => {
    const rounds = [] as { small: ReturnType<typeof runPolicyBench>; large: ReturnType<typeof runPolicyBench> }[];
    for (let r = 0; r < ROUNDS; r++)
      rounds.push({ small: runPolicyBench(10, iterations), large: runPolicyBench(1000, iterations) });
    return rounds;
  });
  report({
    id: 'B6',
    title: 'policy decision per call',
    notes: [`${iterations} decisions per rule set per round; rules indexed by action, 10 can match in both sets`],
    load,
    metrics: [
      metric(
        '10 rules p50',
        'µs',
        'measure',
        value.map((r) => r.small.p50us),
      ),
      metric(
        '10 rules p99',
        'µs',
        'measure',
        value.map((r) => r.small.p99us),
      ),
      metric(
        '1,000 rules p50',
        'µs',
        'measure',
        value.map((r) => r.large.p50us),
      ),
      metric(
        '1,000 rules p99',
        'µs',
        'measure',
        value.map((r) => r.large.p99us),
        {
          goal: { op: '<=', value: 10 },
          bar: { op: '<=', value: 50 },
        },
      ),
      metric(
        'p50 1,000 rules / 10 rules',
        '×',
        'comparison',
        value.map((r) => r.large.p50us / r.small.p50us),
      ),
    ],
  });
}

if (wanted('B12')) {
  const samples = quick ? 4 : 10;
  const { value, load } = await measured(async () => {
    const rounds = [];
    for (let r = 0; r < ROUNDS; r++) rounds.push(await runCliBench({ samples }));
    return rounds;
  });
  report({
    id: 'B12',
    title: 'CLI cold start (compiled bin, spawn → exit)',
    notes: [`${samples} sequential samples per command per round, after one warm-up each`],
    load,
    metrics: [
      metric(
        'countersign --help p50',
        'ms',
        'measure',
        value.map((r) => r.helpP50ms),
        {
          digits: 0,
          goal: { op: '<=', value: 300 },
        },
      ),
      metric(
        'countersign --help p99',
        'ms',
        'measure',
        value.map((r) => r.helpP99ms),
        { digits: 0 },
      ),
      metric(
        'countersign requests list p50',
        'ms',
        'measure',
        value.map((r) => r.listP50ms),
        {
          digits: 0,
          goal: { op: '<=', value: 500 },
        },
      ),
      metric(
        'countersign requests list p99',
        'ms',
        'measure',
        value.map((r) => r.listP99ms),
        { digits: 0 },
      ),
    ],
  });
}

const needsServer = wanted('B1', 'B2', 'B3', 'B9', 'B10');
if (needsServer) {
  installTemporalRuntime(createLogger({ level: 'warn' }), 'ERROR');
  const env = await startLocalTemporal();
  try {
    if (wanted('B1', 'B2')) {
      const pipeline = {
        requests: (quick ? 32 : 64) * ROUNDS,
        concurrency: 16,
        latencySamples: (quick ? 20 : 60) * ROUNDS,
        rounds: ROUNDS,
      };
      const sealed = await measured(() => runPipelineBench(env.address, { ...pipeline, sealed: true }));
      const plain = await measured(() => runPipelineBench(env.address, { ...pipeline, sealed: false }));
      reportPipeline(sealed.value, plain.value, { start: sealed.load.start, end: plain.load.end });
    }
    if (wanted('B3')) {
      const samples = (quick ? 5 : 10) * ROUNDS;
      const { value, load } = await measured(() =>
        runSlackBench(env.address, { samples, warmup: quick ? 3 : 5, rounds: ROUNDS }),
      );
      report({
        id: 'B3',
        title: 'Slack approval, signed click → execution start',
        notes: [
          `sequential, ${value.samples} samples per side (${value.samples / value.rounds} per round) after warm-ups, quorum 1; the three sides interleaved sample by sample`,
          'governed: signed POST /slack/events on the product app → connector activity starts; hand-built: the same signed POST to a Bolt 5 ExpressReceiver that acks and signals a waiting workflow → its activity starts; bare: signal sent → activity starts',
          `payload codec: off on all three sides; task queues: ${value.layout}; bare: one task queue`,
          `${value.executedOnce} governed and ${value.handBuiltExecutedOnce} hand-built measured approvals executed exactly once`,
        ],
        load,
        metrics: [
          ...sides('p50', 'ms', [value.click.p50ms, value.handBuiltClick.p50ms, value.bareSignal.p50ms]),
          ...sides('p99', 'ms', [value.click.p99ms, value.handBuiltClick.p99ms, value.bareSignal.p99ms]),
          metric('of which POST → decision sent, p50', 'ms', 'governed', value.toSignal.p50ms, { digits: 0 }),
          metric(
            'governed / hand-built, p50',
            '×',
            'comparison',
            ratios(value.click.p50ms, value.handBuiltClick.p50ms),
            {
              goal: { op: '<=', value: 1.05 },
              bar: { op: '<=', value: 1.2 },
            },
          ),
          metric(
            'governed / hand-built, p99',
            '×',
            'comparison',
            ratios(value.click.p99ms, value.handBuiltClick.p99ms),
          ),
          metric('governed / bare, p50', '×', 'comparison', ratios(value.click.p50ms, value.bareSignal.p50ms)),
        ],
      });
      report({
        id: 'B3b',
        title: 'Slack ack latency (POST /slack/events → HTTP answer, Bolt acks first)',
        notes: ['the governed clicks of B3'],
        load,
        metrics: [
          metric('p50', 'ms', 'governed', value.ack.p50ms),
          metric('p99', 'ms', 'governed', value.ack.p99ms, { bar: { op: '<=', value: 50 } }),
        ],
      });
    }
    if (wanted('B9')) {
      const { value, load } = await measured(() => runIdentityBench(env.address, { samples: quick ? 150 : 1000 }));
      report({
        id: 'B9',
        title: 'identity overhead on submit latency',
        notes: [
          `sequential, alternating, ${value.samples} samples per path; API key (core path) against access token + registry + kill switch + rate limit`,
          `in-process: token first use p50 ${fmt(value.firstUseP50us, 0)} µs; reused token p50 ${fmt(value.verifyP50us, 0)} µs; all submit checks p50 ${fmt(value.submitChecksP50us, 0)} µs, p99 ${fmt(value.submitChecksP99us, 0)} µs`,
        ],
        load,
        metrics: [
          metric('API key p50', 'ms', 'measure', [value.apiKeyP50ms]),
          metric('API key p99', 'ms', 'measure', [value.apiKeyP99ms]),
          metric('access token p50', 'ms', 'measure', [value.tokenP50ms]),
          metric('access token p99', 'ms', 'measure', [value.tokenP99ms]),
          metric('p99 difference (token − API key)', 'ms', 'comparison', value.roundP99DifferencesMs, {
            bar: { op: '<=', value: 1 },
          }),
          metric('all submit checks in-process p99', 'µs', 'measure', [value.submitChecksP99us], { digits: 0 }),
        ],
      });
    }
    if (wanted('B10')) {
      const { value, load } = await measured(() => runKillSwitchBench(env.address, { parked: quick ? 500 : 2_000 }));
      report({
        id: 'B10',
        title: 'kill switch over parked requests',
        notes: [`${value.parked} parked, ${value.inScope} in scope, one switch covering them all; one round`],
        load,
        metrics: [
          metric('time to answer', 'ms', 'measure', [value.answerMs], { digits: 0 }),
          metric('time to drain (every one cancelled)', 's', 'measure', [value.drainMs / 1000], { digits: 1 }),
        ],
      });
    }
  } finally {
    await env.teardown();
  }
}

if (wanted('B4')) {
  const parkedAt = args.indexOf('--parked');
  const parked = parkedAt >= 0 ? Number(args[parkedAt + 1]) : quick ? 2_000 : 10_000;
  // The floor's bare worker runs in this process.
  installTemporalRuntime(createLogger({ level: 'warn' }), 'ERROR');
  const { value, load } = await measured(() => runParkingBench({ parked, concurrency: 8 }));
  const kb = (bytes: number) => fmt(bytes / 1024, 1);
  report({
    id: 'B4',
    title: 'requests parked awaiting approval (a fresh `npm start` process)',
    notes: [
      `${value.parked} parked through POST /v1/action-requests (example config, large refund, 8 in flight); npm start (the compiled countersign dev, the start script's environment) in a child process of its own: API, request service, control and connector workers, default workers.maxCachedWorkflows, payloads sealed; one round`,
      `the floor: ${value.parked} bare workflows parked on a signal with a timer (${value.bareHistoryEvents} events, no memo, search attributes or codec) on the same dev server, by a bare worker in the bench process`,
      `memory from the process's /metrics (no forced GC) 5 s after the last request parked, and again a minute later with nothing submitted meanwhile; disk: the dev server's SQLite file after a WAL checkpoint (WAL before it ${fmt(value.walBeforeCheckpointMb, 1)} MB, ${value.freelistPagesAfter} free pages after)`,
      `disk per parked request by table/index: ${value.diskByObject
        .slice(0, 6)
        .map((o) => `${o.name} ${kb(o.bytesPerRequest)} KB`)
        .join(', ')}, ${value.diskByObject.length - 6} more ${kb(
        value.diskByObject.slice(6).reduce((sum, o) => sum + o.bytesPerRequest, 0),
      )} KB (of which executions_visibility's indexes ${kb(
        value.diskByObject
          .filter((o) => /^by_|^sqlite_autoindex_executions_visibility/.test(o.name))
          .reduce((sum, o) => sum + o.bytesPerRequest, 0),
      )} KB)`,
      `one parked history: ${value.historyEvents} events, ${kb(value.historyBytes)} KB encoded, ${kb(value.historyPayloadBytes)} KB of payloads; by kind: ${value.historyKinds
        .map((k) => `${k.type}${k.count > 1 ? ` ×${k.count}` : ''} ${k.bytes} B`)
        .join(', ')}`,
      `submit p50 first 100 → last 100: ${fmt(value.firstSubmitP50ms, 1)} → ${fmt(value.lastSubmitP50ms, 1)} ms, p99 ${fmt(value.firstSubmitP99ms, 1)} → ${fmt(value.lastSubmitP99ms, 1)} ms`,
    ],
    load,
    metrics: [
      metric('process RSS before', 'MB', 'measure', [value.rssBeforeMb], { digits: 0 }),
      metric('process RSS parked', 'MB', 'measure', [value.rssAfterMb], {
        digits: 0,
        goal: { op: '<=', value: 250 },
        bar: { op: '<=', value: 400 },
      }),
      metric('RSS growth per parked request', 'KB', 'measure', [value.rssPerRequestKb], { digits: 1 }),
      metric('process RSS a minute later', 'MB', 'measure', [value.rssMinuteLaterMb], { digits: 0 }),
      metric('heap before', 'MB', 'measure', [value.heapBeforeMb], { digits: 0 }),
      metric('heap parked', 'MB', 'measure', [value.heapAfterMb], { digits: 0 }),
      metric('heap a minute later', 'MB', 'measure', [value.heapMinuteLaterMb], { digits: 0 }),
      metric('dev-server database per parked request', 'KB', 'measure', [value.diskPerRequestKb], {
        digits: 1,
        goal: { op: '<=', value: 10 },
        bar: { op: '<=', value: 15 },
      }),
      metric('dev-server database per parked workflow', 'KB', 'bare', [value.bareDiskPerWorkflowKb], {
        digits: 1,
      }),
      metric('one parked history, events', '', 'measure', [value.historyEvents], { digits: 0 }),
      metric('one parked history, payload bytes', 'B', 'measure', [value.historyPayloadBytes], { digits: 0 }),
    ],
  });
}

if (wanted('B7')) {
  /** `npm start` → ready, with the CLI cached: goal 3 s, bar 4 s. */
  const READY_TARGET = { goal: { op: '<=', value: 3 }, bar: { op: '<=', value: 4 } } as const;
  const rounds = Math.max(3, quick ? 3 : ROUNDS);
  const { value, load } = await measured(() => runColdStartBench({ rounds }));
  report({
    id: 'B7',
    title: 'dev mode cold start, `npm start` → GET /readyz 200',
    notes: [
      `Temporal CLI cached, dist/ built (one uncounted warm-up start); each start on its own ports, stopped with SIGINT; ${value.rounds} rounds`,
      'fresh: a new data directory (dev server database, search attributes, master key, operator tokens made); kept: the same directory started again',
      'countersign dev: the compiled CLI spawned directly, without npm and the prestart stale check',
    ],
    load,
    metrics: [
      metric(
        'npm start, fresh data directory',
        's',
        'measure',
        value.freshMs.map((ms) => ms / 1000),
        READY_TARGET,
      ),
      metric(
        'npm start, data directory kept',
        's',
        'measure',
        value.keptMs.map((ms) => ms / 1000),
        READY_TARGET,
      ),
      metric(
        'countersign dev, fresh',
        's',
        'measure',
        value.devFreshMs.map((ms) => ms / 1000),
      ),
      metric(
        'countersign dev, kept',
        's',
        'measure',
        value.devKeptMs.map((ms) => ms / 1000),
      ),
    ],
  });
}

writeJson(true);

/** Writes the results so far (after every figure, so a run that fails late keeps what it measured). */
function writeJson(complete: boolean): void {
  if (!jsonPath) return;
  const results: BenchResults = {
    version: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    complete,
    quick,
    node: process.version,
    commit: gitCommit(),
    machine: { platform: process.platform, arch: process.arch, cpus: cpus().length },
    load: { start: runLoadStart, end: loadNow() },
    figures,
  };
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  if (complete) line(`results written to ${jsonPath} (npm run bench:table -- ${jsonPath} rewrites the docs' table)`);
}

function reportPipeline(sealed: PipelineFigures, plain: PipelineFigures, load: Figure['load']): void {
  const s = sealed;
  const layout = `task queues: ${s.layout}; bare: one task queue`;
  report({
    id: 'B1',
    title: 'allowed-request throughput, submit → executed',
    notes: [
      `${s.requestsPerRound} requests per side per round, ${s.concurrency} in flight, rounds alternate governed, hand-built, bare`,
      'governed: POST /v1/action-requests?wait → succeeded, laid out as dev mode runs it (eager workflow start, connector in the control worker); hand-built: POST to an Express 5 gateway (bearer API key, JSON) that starts a workflow with one activity making the same downstream call and answers once it completed; bare: workflow.start + result',
      `payload codec: governed and hand-built sealed (same EncryptionCodec), bare none; ${layout}; same worker settings`,
      `${s.governedSucceeded} governed and ${s.handBuiltSucceeded} hand-built requests succeeded`,
    ],
    load,
    metrics: [
      ...sides('req/s', 'req/s', [s.governed.perSecond, s.handBuilt.perSecond, s.bare.perSecond], 1),
      metric('governed / hand-built', '×', 'comparison', ratios(s.governed.perSecond, s.handBuilt.perSecond), {
        goal: { op: '>=', value: 0.97 },
        bar: { op: '>=', value: 0.9 },
      }),
      metric('governed / bare', '×', 'comparison', ratios(s.governed.perSecond, s.bare.perSecond)),
    ],
  });
  report({
    id: 'B2',
    title: 'submit latency, sequential (answered once the workflow started)',
    notes: [
      `${s.latencyPerRound} samples per side per round, the three interleaved sample by sample`,
      'governed: POST /v1/action-requests; hand-built: POST to the Express gateway; bare: client.workflow.start',
      `payload codec: governed and hand-built sealed, bare none; ${layout}`,
    ],
    load,
    metrics: [
      ...sides('p50', 'ms', [s.governed.submitP50ms, s.handBuilt.submitP50ms, s.bare.submitP50ms]),
      ...sides('p99', 'ms', [s.governed.submitP99ms, s.handBuilt.submitP99ms, s.bare.submitP99ms]),
      metric(
        'p99 difference governed − hand-built',
        'ms',
        'comparison',
        differences(s.governed.submitP99ms, s.handBuilt.submitP99ms),
        {
          goal: { op: '<=', value: 1 },
          bar: { op: '<=', value: 5 },
        },
      ),
      metric(
        'p50 difference governed − hand-built',
        'ms',
        'comparison',
        differences(s.governed.submitP50ms, s.handBuilt.submitP50ms),
      ),
      metric(
        'p99 difference governed − bare',
        'ms',
        'comparison',
        differences(s.governed.submitP99ms, s.bare.submitP99ms),
      ),
    ],
  });
  report({
    id: 'B1c',
    title: 'payload codec cost (a second B1/B2 run with the codec off on every side)',
    notes: ['round i of the sealed run against round i of the plain run'],
    load,
    metrics: [
      metric('req/s plain', 'req/s', 'governed', plain.governed.perSecond, { digits: 1 }),
      metric('sealed / plain throughput', '×', 'governed', ratios(s.governed.perSecond, plain.governed.perSecond)),
      metric('sealed / plain throughput', '×', 'hand-built', ratios(s.handBuilt.perSecond, plain.handBuilt.perSecond)),
      metric(
        'governed / hand-built, both plain',
        '×',
        'comparison',
        ratios(plain.governed.perSecond, plain.handBuilt.perSecond),
      ),
      metric(
        'submit p99 sealed − plain',
        'ms',
        'governed',
        differences(s.governed.submitP99ms, plain.governed.submitP99ms),
      ),
    ],
  });
}
