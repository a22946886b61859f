// B3 and B3b: an approver's click in Slack. A signed block_actions "approve" is posted to /slack/events on the real
// HTTP app with the real Bolt app mounted, for requests parked in pending_approval (quorum 1, message posted to the
// local Slack Web API stand-in); measured from the POST until the connector activity starts. Beside it, on the same
// server and interleaved sample by sample: the hand-built Bolt receiver (bench/baselines.ts), whose click is signed and
// posted over HTTP the same way and signals a waiting workflow that then runs one activity (POST → activity starts);
// and the bare floor, a workflow that waits for a signal and runs one activity (signal sent → activity starts). The
// ack latency is the POST until Bolt's HTTP response. No side has a payload codec here.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { connectTemporal } from '../src/temporal/adapter';
import { NativeConnection } from '@temporalio/worker';
import { createSlackApp } from '../slack/app';
import { ACTION_IDS } from '../slack/blocks/ids';
import { createConfigAgentDirectory } from '../src/agents';
import { ActionCatalog } from '../src/catalog';
import type { CountersignConfig } from '../src/config/schema';
import type { ActionRequestState } from '../src/contracts/types';
import { createHttpApp } from '../src/http/app';
import { createApiKeyAuthenticator } from '../src/http/auth';
import { createReadiness } from '../src/http/readiness';
import { createExecutionStarts } from '../src/execution-starts';
import { createLogger } from '../src/logger';
import { createMetrics } from '../src/metrics';
import { PolicyEngine } from '../src/policy/engine';
import { createRequestService } from '../src/requests';
import { colocatedTaskQueues, createWorkers, prefixedTaskQueues } from '../src/temporal/worker';
import { testConfig } from '../test/support/config';
import { startSlackApiStub, type StoredMessage } from '../test/support/slack-api-stub';
import { blockActionsRequest, signSlackRequest, TEST_SIGNING_SECRET } from '../test/support/slack-signing';
import { startTargetServer } from '../test/support/target-server';
import {
  BENCH_CONNECTOR,
  BENCH_WORKER_TUNING,
  closeServer,
  DOWNSTREAM_TOKEN,
  HAND_BUILT_APPROVE,
  benchBundle,
  createBareWorker,
  createDownstreamActivities,
  createHandBuiltWorkers,
  describeLayout,
  handBuiltQueues,
  newRefund,
  refundCall,
  startHandBuiltBolt,
} from './baselines';
import { quantile, splitRounds } from './stats';
import { goSignal } from './workflows/bare-signal';

/** p50 and p99 per round (ms). */
export interface RoundQuantiles {
  p50ms: number[];
  p99ms: number[];
}

export interface SlackFigures {
  samples: number;
  rounds: number;
  /** Governed requests that ended `succeeded` with exactly one downstream call. */
  executedOnce: number;
  /** Hand-built approvals that ended with exactly one downstream call. */
  handBuiltExecutedOnce: number;
  /** Governed: signed POST → connector activity starts. */
  click: RoundQuantiles;
  /** Of the governed click's latency, the part before the decide update left (Bolt, state query, identification). */
  toSignal: RoundQuantiles;
  /** Hand-built Bolt receiver: signed POST → activity starts. */
  handBuiltClick: RoundQuantiles;
  /** Bare floor: signal sent → activity starts. */
  bareSignal: RoundQuantiles;
  /** Governed: POST → Bolt's HTTP answer. */
  ack: RoundQuantiles;
  /** How the governed and hand-built sides lay out their task queues (the same way). */
  layout: string;
}
const CHANNEL = 'C0BENCHAPP';
const APPROVER = 'U0ALICE01';
const SAMPLE_TIMEOUT_MS = 30_000;
// Back to back (under ~120 ms apart) the dev server answered every hop of the next workflow ~75 ms later, for the bare
// baseline as much as for Countersign; approvers' clicks are seconds apart, so each sample starts after a pause.
const SETTLE_MS = 250;

/** Runs B3 (signed click → execution start, against bare signal → activity start) and B4 (ack) at `address`. */
export async function runSlackBench(
  address: string,
  options: { samples: number; warmup: number; rounds: number },
): Promise<SlackFigures> {
  const logger = createLogger({ level: 'warn' });
  const target = await startTargetServer();
  const stub = await startSlackApiStub();
  const config = oneApprovalConfig(target.host);
  const connection = await connectTemporal({ address });
  const client = new Client({ connection, namespace: 'default' });
  const native = await NativeConnection.connect({ address });
  // Laid out as dev mode runs it: connectors on the control queue (see colocatedTaskQueues).
  const taskQueues = colocatedTaskQueues(prefixedTaskQueues(`bench-slack-${randomUUID().slice(0, 8)}`));
  const agents = createConfigAgentDirectory(config);
  const catalog = ActionCatalog.compile(config);
  const metrics = createMetrics();
  // As dev mode wires it: the connector workers tell the Slack app of this process when an execution starts.
  const executionStarts = createExecutionStarts();
  const service = createRequestService({
    client,
    config,
    catalog,
    policy: PolicyEngine.compile(config),
    taskQueues,
    logger,
    observer: metrics.observer,
  });
  // As `npm start` wires it: one process, the Bolt handler on the API's Express app, its notifier on the worker. The
  // stand-in has no rate limit and the set-up posts every message to one channel, so per-channel pacing is off.
  const slack = createSlackApp({
    slack: { botToken: 'xoxb-bench-bot-token', signingSecret: TEST_SIGNING_SECRET, apiUrl: stub.apiUrl },
    config,
    logger,
    temporal: client,
    namespace: 'default',
    taskQueue: taskQueues.control,
    tuning: { perChannelIntervalMs: 0 },
    executionStarts,
  });
  if (!slack.handler) throw new Error('Slack HTTP mode expected');
  const app = createHttpApp({
    service,
    authenticator: createApiKeyAuthenticator({ agents }),
    config,
    catalog,
    logger,
    metrics,
    readiness: createReadiness({ temporal: service.temporal }),
    slack: { handler: slack.handler },
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const eventsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;

  const starts = createStartBoard();

  const [governedBundle, handBuiltBundle, bareBundle] = await Promise.all([
    benchBundle('governed'),
    benchBundle('hand-built'),
    benchBundle('bare-signal'),
  ]);
  const workers = await createWorkers({
    connection: native,
    namespace: 'default',
    taskQueues,
    config,
    control: true,
    connectors: Object.keys(config.connectors),
    activityDeps: { logger, agents, notifier: slack.notifier },
    // The connector resolves its credential first thing in the activity: the moment the execution starts.
    connectorDeps: {
      executionStarts,
      credentials: {
        resolve: async (_ref, requestId) => {
          starts.mark(requestId);
          return DOWNSTREAM_TOKEN;
        },
      },
    },
    workflowBundle: governedBundle,
    tuning: BENCH_WORKER_TUNING,
  });
  const activities = createDownstreamActivities({
    timeoutMs: config.connectors[BENCH_CONNECTOR]?.timeout ?? 10_000,
    onStart: (key) => starts.mark(key),
  });
  const prefix = `bench-slack-${randomUUID().slice(0, 8)}`;
  const queues = handBuiltQueues(taskQueues, prefix);
  const handWorkers = await createHandBuiltWorkers({
    connection: native,
    queues,
    workflowBundle: handBuiltBundle,
    activities,
  });
  const handBolt = await startHandBuiltBolt({ client, signingSecret: TEST_SIGNING_SECRET, slackApiUrl: stub.apiUrl });
  const bareQueue = `${prefix}-bare-signal`;
  const bareWorker = await createBareWorker({
    connection: native,
    taskQueue: bareQueue,
    workflowBundle: bareBundle,
    activities,
  });
  const all = [...workers, ...handWorkers, bareWorker];
  const running = all.map((w) => w.run());

  try {
    const total = options.warmup + options.samples;
    // Park every request first: pending_approval with its message posted, and every bare workflow waiting.
    const agent = await agents.get('support-bot');
    if (!agent) throw new Error('support-bot missing from the bench config');
    const parked: ActionRequestState[] = [];
    for (let i = 0; i < total; i++) {
      const { state } = await service.submit(
        agent,
        {
          action: 'payments.refund',
          params: { paymentId: `pay_${randomUUID().slice(0, 8)}`, amount: 2500, currency: 'USD' },
          reason: 'benchmark',
        },
        randomUUID(),
      );
      if (state.status !== 'pending_approval') throw new Error(`parked request is ${state.status}`);
      parked.push(state);
    }
    const handBuilt: WorkflowHandle[] = [];
    const bare: WorkflowHandle[] = [];
    for (let i = 0; i < total; i++) {
      const handId = `hand-built-approval-${randomUUID()}`;
      handBuilt.push(
        await client.workflow.start('handBuiltApprovalWorkflow', {
          workflowId: handId,
          taskQueue: queues.workflow,
          args: [
            {
              activityQueue: queues.activity,
              call: refundCall(target.url, newRefund(2500), handId),
              waitMs: 10 * 60_000,
            },
          ],
        }),
      );
      const id = `bare-signal-${randomUUID()}`;
      bare.push(
        await client.workflow.start('bareSignalWorkflow', {
          workflowId: id,
          taskQueue: bareQueue,
          args: [{ ...refundCall(target.url, newRefund(2500), id), waitMs: 10 * 60_000 }],
        }),
      );
    }
    const messages = await stub.waitFor(
      () => {
        const found = parked.map((p) => stub.messages((m) => m.channel === CHANNEL && mentions(m, p.requestId))[0]);
        return found.every((m) => m !== undefined) ? found : undefined;
      },
      SAMPLE_TIMEOUT_MS + total * 200,
      'every approval message',
    );
    // A bare workflow waits on its signal once its first task ran; give the last ones that moment.
    await new Promise((r) => setTimeout(r, 500));

    const clickMs: number[] = [];
    const toSignalMs: number[] = [];
    const handMs: number[] = [];
    const bareMs: number[] = [];
    const ackMs: number[] = [];
    let executedOnce = 0;
    let handBuiltExecutedOnce = 0;
    for (let i = 0; i < total; i++) {
      const request = parked[i] as ActionRequestState;
      const message = messages[i] as StoredMessage;
      const measured = i >= options.warmup;

      // Governed: Slack signs the click on its side, so signing is outside the measurement.
      const click = blockActionsRequest({
        user: APPROVER,
        actionId: ACTION_IDS.approve,
        value: approveValue(message),
        channel: message.channel,
        messageTs: message.ts,
      });
      const headers = { 'content-type': click.contentType, ...signSlackRequest(TEST_SIGNING_SECRET, click.body) };
      const ephemeralsBefore = stub.callsOf('chat.postEphemeral').length;
      await settle();
      const wall0 = Date.now();
      const t0 = performance.now();
      const res = await fetch(eventsUrl, { method: 'POST', headers, body: click.body });
      await res.text();
      const acked = performance.now();
      if (res.status !== 200) throw new Error(`/slack/events answered ${res.status}`);
      const started = await starts.waitFor(request.requestId);
      const result = (await client.workflow.getHandle(request.requestId).result()) as ActionRequestState;
      if (result.status === 'succeeded' && target.callsFor(request.requestId).length === 1 && measured)
        executedOnce += 1;
      // The submission's `at` is stamped (ms) just before the update is sent: it splits the click in two.
      const signalAt = Date.parse(result.approvals[0]?.at ?? '');
      // The clicker's confirmation closes the click's work; the next sample starts on a quiet process.
      await stub.waitFor(
        () => stub.callsOf('chat.postEphemeral').length > ephemeralsBefore,
        SAMPLE_TIMEOUT_MS,
        'the clicker confirmation',
      );

      // Hand-built: the same kind of signed click, posted over HTTP to the hand-built Bolt receiver.
      const handHandle = handBuilt[i] as WorkflowHandle;
      const handClick = blockActionsRequest({
        user: APPROVER,
        actionId: HAND_BUILT_APPROVE,
        value: handHandle.workflowId,
        channel: message.channel,
        messageTs: message.ts,
      });
      const handHeaders = {
        'content-type': handClick.contentType,
        ...signSlackRequest(TEST_SIGNING_SECRET, handClick.body),
      };
      await settle();
      const h0 = performance.now();
      const handRes = await fetch(handBolt.url, { method: 'POST', headers: handHeaders, body: handClick.body });
      await handRes.text();
      if (handRes.status !== 200) throw new Error(`hand-built /slack/events answered ${handRes.status}`);
      const handStarted = await starts.waitFor(handHandle.workflowId);
      if ((await handHandle.result()) === 200 && target.callsFor(handHandle.workflowId).length === 1 && measured)
        handBuiltExecutedOnce += 1;

      // Floor: the bare workflow's signal, then its one activity.
      const handle = bare[i] as WorkflowHandle;
      await settle();
      const s0 = performance.now();
      await handle.signal(goSignal);
      const bareStarted = await starts.waitFor(handle.workflowId);
      await handle.result();

      if (measured) {
        clickMs.push(started - t0);
        toSignalMs.push(signalAt - wall0);
        ackMs.push(acked - t0);
        handMs.push(handStarted - h0);
        bareMs.push(bareStarted - s0);
      }
    }

    const perRound = (samples: number[]): RoundQuantiles => {
      const rounds = splitRounds(samples, options.rounds);
      return { p50ms: rounds.map((r) => quantile(r, 0.5)), p99ms: rounds.map((r) => quantile(r, 0.99)) };
    };
    return {
      samples: options.samples,
      rounds: options.rounds,
      executedOnce,
      handBuiltExecutedOnce,
      click: perRound(clickMs),
      toSignal: perRound(toSignalMs),
      handBuiltClick: perRound(handMs),
      bareSignal: perRound(bareMs),
      ack: perRound(ackMs),
      layout: describeLayout(queues),
    };
  } finally {
    for (const w of all) w.shutdown();
    await Promise.allSettled(running);
    await handBolt.close();
    await closeServer(server);
    await native.close();
    await connection.close();
    await stub.close();
    await target.close();
  }
}

/** The test config with large refunds needing one approval from finance, whose messages go to one channel. */
function oneApprovalConfig(targetHost: string): CountersignConfig {
  const config = testConfig({ targetHost });
  const finance = config.approvers.finance;
  const rule = config.policies.rules.find((r) => r.id === 'large-refunds');
  if (!finance || !rule) throw new Error('test config changed: finance group or large-refunds rule missing');
  finance.slackChannel = CHANNEL;
  rule.quorum = 1;
  return config;
}

/**
 * Activity starts by key (request id for the connector, workflow id for the baselines), stamped inside the activity; the
 * first attempt's moment is what counts. Waiting is a promise, not polling, so the workers keep both cores.
 */
function createStartBoard() {
  const stamps = new Map<string, number>();
  const waiters = new Map<string, (at: number) => void>();
  return {
    mark(key: string): void {
      if (stamps.has(key)) return;
      const at = performance.now();
      stamps.set(key, at);
      waiters.get(key)?.(at);
    },
    waitFor(key: string): Promise<number> {
      const at = stamps.get(key);
      if (at !== undefined) return Promise.resolve(at);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(key);
          reject(new Error(`no activity started for ${key}`));
        }, SAMPLE_TIMEOUT_MS);
        waiters.set(key, (stamp) => {
          clearTimeout(timer);
          waiters.delete(key);
          resolve(stamp);
        });
      });
    },
  };
}

function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, SETTLE_MS));
}

function mentions(message: StoredMessage, requestId: string): boolean {
  return JSON.stringify(message.blocks).includes(requestId);
}

/** The Approve button's value as posted, which Slack sends back with the click. */
function approveValue(message: StoredMessage): string {
  for (const block of message.blocks) {
    if (block.type !== 'actions') continue;
    for (const el of block.elements as { action_id?: string; value?: string }[]) {
      if (el.action_id === ACTION_IDS.approve && el.value) return el.value;
    }
  }
  throw new Error('approval message has no Approve button');
}
