// `npm run bench`: every figure from one run on one Temporal dev server, each as a ratio against its baseline.
import { createLogger } from '../src/logger';
import { installTemporalRuntime } from '../src/temporal/runtime';
import { startLocalTemporal } from '../test/support/local-temporal';
import { runCliBench } from './cli';
import { runIdentityBench } from './identity';
import { runKillSwitchBench } from './kill-switch';
import { runParkingBench } from './parking';
import { runPipelineBench } from './pipeline';
import { runPolicyBench } from './policy';
import { runSlackBench } from './slack';
import { fmt } from './stats';

const quick = process.argv.includes('--quick');
const out: string[] = [];
const line = (text: string) => {
  out.push(text);
  process.stdout.write(`${text}\n`);
};

line('Countersign benchmarks' + (quick ? ' (quick)' : ''));
line('');
const p10 = runPolicyBench(10, quick ? 5_000 : 50_000);
const p1000 = runPolicyBench(1000, quick ? 5_000 : 50_000);
line('B6 policy decision per call (rules indexed by action; 10 rules can match the action in both sets)');
line(`   10 rules: p50 ${fmt(p10.p50us, 2)} µs, p99 ${fmt(p10.p99us, 2)} µs`);
line(` 1000 rules: p50 ${fmt(p1000.p50us, 2)} µs, p99 ${fmt(p1000.p99us, 2)} µs  (bar: p99 ≤ 50 µs)`);
line(`  ratio p50 1000/10: ${fmt(p1000.p50us / p10.p50us, 2)}`);
line('');

const cli = await runCliBench({ samples: quick ? 10 : 30 });
line(`B12 CLI cold start (compiled bin, spawn → exit, sequential, ${cli.samples} samples each)`);
line(`  countersign --help: p50 ${fmt(cli.helpP50ms, 0)} ms, p99 ${fmt(cli.helpP99ms, 0)} ms  (goal: ≤ 300 ms)`);
line(
  `  countersign requests list (one HTTP call to a loopback stand-in): p50 ${fmt(cli.listP50ms, 0)} ms, p99 ${fmt(cli.listP99ms, 0)} ms  (goal: ≤ 500 ms)`,
);
line('');

installTemporalRuntime(createLogger({ level: 'warn' }), 'ERROR');
const env = await startLocalTemporal();
try {
  const pipeline = { requests: quick ? 40 : 200, concurrency: 16, latencySamples: quick ? 20 : 100 };
  const figures = await runPipelineBench(env.address, { ...pipeline, sealed: true });
  const plain = await runPipelineBench(env.address, { ...pipeline, sealed: false });
  line(`B1 allowed-request throughput, ${figures.requests} requests, ${figures.concurrency} in flight`);
  line(
    `  governed (HTTP submit → executed): ${fmt(figures.governedPerSecond)} req/s (${figures.governedSucceeded} succeeded)`,
  );
  line(`  bare Temporal (workflow + 1 activity): ${fmt(figures.barePerSecond)} req/s`);
  line(`  ratio: ${fmt(figures.throughputRatio, 2)}  (bar: ≥ 0.8)`);
  line('');
  line('B2 submit latency (sequential)');
  line(`  HTTP submit: p50 ${fmt(figures.submitP50ms, 2)} ms, p99 ${fmt(figures.submitP99ms, 2)} ms`);
  line(`  bare workflow.start: p50 ${fmt(figures.bareStartP50ms, 2)} ms, p99 ${fmt(figures.bareStartP99ms, 2)} ms`);
  line(`  ratio p50: ${fmt(figures.submitP50ms / figures.bareStartP50ms, 2)}`);
  line('');
  line('B1/B2 payload codec cost (governed path, codec on against off, same run)');
  line(
    `  throughput: ${fmt(figures.governedPerSecond)} req/s sealed, ${fmt(plain.governedPerSecond)} req/s plain (ratio ${fmt(figures.governedPerSecond / plain.governedPerSecond, 2)})`,
  );
  line(
    `  submit p50: ${fmt(figures.submitP50ms, 2)} ms sealed, ${fmt(plain.submitP50ms, 2)} ms plain; p99 ${fmt(figures.submitP99ms, 2)} against ${fmt(plain.submitP99ms, 2)} ms`,
  );
  line('');
  const slack = await runSlackBench(env.address, { samples: quick ? 15 : 50, warmup: quick ? 3 : 5 });
  line(`B3 Slack approval, signed click → execution start (sequential, ${slack.samples} samples, quorum 1)`);
  line(
    `  governed (POST /slack/events → connector activity starts): p50 ${fmt(slack.clickP50ms, 2)} ms, p99 ${fmt(slack.clickP99ms, 2)} ms (${slack.executedOnce} executed once)`,
  );
  line(
    `    of which POST → decision update sent: p50 ${fmt(slack.toSignalP50ms, 0)} ms, p99 ${fmt(slack.toSignalP99ms, 0)} ms`,
  );
  line(
    `  bare Temporal (signal → activity starts): p50 ${fmt(slack.bareSignalP50ms, 2)} ms, p99 ${fmt(slack.bareSignalP99ms, 2)} ms`,
  );
  line(
    `  ratio p50: ${fmt(slack.clickP50ms / slack.bareSignalP50ms, 2)}, p99: ${fmt(slack.clickP99ms / slack.bareSignalP99ms, 2)}  (bar: ≤ 1.5)`,
  );
  line('');
  line('B3b Slack ack latency (POST /slack/events → HTTP response, Bolt acks first)');
  line(`  p50 ${fmt(slack.ackP50ms, 2)} ms, p99 ${fmt(slack.ackP99ms, 2)} ms  (bar: p99 ≤ 50 ms)`);
  line('');
  const id = await runIdentityBench(env.address, { samples: quick ? 150 : 1000 });
  line(`B9 identity overhead on submit latency (sequential, alternating, ${id.samples} samples per path)`);
  line(`  API key (core path): p50 ${fmt(id.apiKeyP50ms, 2)} ms, p99 ${fmt(id.apiKeyP99ms, 2)} ms`);
  line(
    `  access token + registry + kill switch + rate limit: p50 ${fmt(id.tokenP50ms, 2)} ms, p99 ${fmt(id.tokenP99ms, 2)} ms`,
  );
  line(`  difference: p50 ${fmt(id.p50DifferenceMs, 2)} ms, p99 ${fmt(id.p99DifferenceMs, 2)} ms  (bar: p99 ≤ 1 ms)`);
  line(
    `  p99 difference per round: ${id.roundP99DifferencesMs.map((d) => fmt(d, 2)).join(', ')} ms (the spread is noise)`,
  );
  line(
    `  in-process: a token's first use (signature) p50 ${fmt(id.firstUseP50us, 0)} µs, p99 ${fmt(id.firstUseP99us, 0)} µs; ` +
      `reused p50 ${fmt(id.verifyP50us, 0)} µs, p99 ${fmt(id.verifyP99us, 0)} µs; ` +
      `all submit checks p50 ${fmt(id.submitChecksP50us, 0)} µs, p99 ${fmt(id.submitChecksP99us, 0)} µs`,
  );
  line('');
  const kill = await runKillSwitchBench(env.address, { parked: quick ? 500 : 2_000 });
  line(`B10 kill switch over ${kill.parked} parked requests (one switch covering them all)`);
  line(`  time to answer (switch recorded, ${kill.inScope} in scope, operation started): ${fmt(kill.answerMs, 0)} ms`);
  line(`  time to drain (every one reads cancelled): ${fmt(kill.drainMs / 1000, 1)} s`);
} finally {
  await env.teardown();
}
line('');
const parking = await runParkingBench({ parked: quick ? 2_000 : 10_000, concurrency: 8 });
line(
  `B4 ${parking.parked} requests parked awaiting approval (payloads sealed; API service and control worker in one process)`,
);
line(
  `  process RSS: ${fmt(parking.rssBeforeMb, 0)} MB before, ${fmt(parking.rssAfterMb, 0)} MB parked (heap ${fmt(parking.heapAfterMb, 0)} MB)  (goal: ≤ 250 MB)`,
);
line(`  dev-server database per parked request: ${fmt(parking.diskPerRequestKb, 1)} KB  (goal: ≤ 10 KB)`);
line(
  `  one parked history: ${parking.historyEvents} events, ${fmt(parking.historyPayloadBytes / 1024, 1)} KB of payloads`,
);
line(
  `  submit latency, first 100 against last 100: p50 ${fmt(parking.firstSubmitP50ms, 1)} → ${fmt(parking.lastSubmitP50ms, 1)} ms, p99 ${fmt(parking.firstSubmitP99ms, 1)} → ${fmt(parking.lastSubmitP99ms, 1)} ms`,
);
