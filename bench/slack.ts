// B3 and B4: an approver's click in Slack. A signed block_actions "approve" is posted to /slack/events on the real
// HTTP app with the real Bolt app mounted, for requests parked in pending_approval (quorum 1, message posted to the
// local Slack Web API stand-in); measured from the POST until the connector activity starts, beside a bare Temporal
// workflow that waits for a signal and runs one activity (signal sent → activity starts) on the same server, samples
// interleaved so both see the same load. The ack latency is the POST until Bolt's HTTP response.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { connectTemporal } from '../src/temporal/adapter';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { createSlackApp } from '../slack/app';
import { ACTION_IDS } from '../slack/blocks/ids';
import { createConfigAgentDirectory } from '../src/agents';
import { ActionCatalog } from '../src/catalog';
import type { CountersignConfig } from '../src/config/schema';
import type { ActionRequestState } from '../src/contracts/types';
import { createHttpApp } from '../src/http/app';
import { createApiKeyAuthenticator } from '../src/http/auth';
import { createReadiness } from '../src/http/readiness';
import { createLogger } from '../src/logger';
import { createMetrics } from '../src/metrics';
import { PolicyEngine } from '../src/policy/engine';
import { createRequestService } from '../src/requests';
import { WORKFLOW_BUNDLE_OPTIONS, createWorkers, prefixedTaskQueues } from '../src/temporal/worker';
import { testConfig } from '../test/support/config';
import { startSlackApiStub, type StoredMessage } from '../test/support/slack-api-stub';
import { blockActionsRequest, signSlackRequest, TEST_SIGNING_SECRET } from '../test/support/slack-signing';
import { startTargetServer } from '../test/support/target-server';
import { quantile, quiet } from './stats';
import { goSignal } from './workflows/bare-signal';

export interface SlackFigures {
  samples: number;
  /** Governed requests that ended `succeeded` with exactly one downstream call. */
  executedOnce: number;
  clickP50ms: number;
  clickP99ms: number;
  /** Of the click's latency, the part before the decide update left (Bolt, state query, identification). */
  toSignalP50ms: number;
  toSignalP99ms: number;
  bareSignalP50ms: number;
  bareSignalP99ms: number;
  ackP50ms: number;
  ackP99ms: number;
}

const BARE_SIGNAL_WORKFLOWS = fileURLToPath(new URL('./workflows/bare-signal.ts', import.meta.url));
const CHANNEL = 'C0BENCHAPP';
const APPROVER = 'U0ALICE01';
const SAMPLE_TIMEOUT_MS = 30_000;
// Back to back (under ~120 ms apart) the dev server answered every hop of the next workflow ~75 ms later, for the bare
// baseline as much as for Countersign; approvers' clicks are seconds apart, so each sample starts after a pause.
const SETTLE_MS = 250;

/** Runs B3 (signed click → execution start, against bare signal → activity start) and B4 (ack) at `address`. */
export async function runSlackBench(
  address: string,
  options: { samples: number; warmup: number },
): Promise<SlackFigures> {
  const logger = createLogger({ level: 'warn' });
  const target = await startTargetServer();
  const stub = await startSlackApiStub();
  const config = oneApprovalConfig(target.host);
  const connection = await connectTemporal({ address });
  const client = new Client({ connection, namespace: 'default' });
  const native = await NativeConnection.connect({ address });
  const taskQueues = prefixedTaskQueues(`bench-slack-${randomUUID().slice(0, 8)}`);
  const agents = createConfigAgentDirectory(config);
  const catalog = ActionCatalog.compile(config);
  const metrics = createMetrics();
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

  const [governedBundle, bareBundle] = await Promise.all([
    bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: quiet }),
    bundleWorkflowCode({ workflowsPath: BARE_SIGNAL_WORKFLOWS, logger: quiet }),
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
      credentials: {
        resolve: async (_ref, requestId) => {
          starts.mark(requestId);
          return 'bench-token';
        },
      },
    },
    workflowBundle: governedBundle,
  });
  const bareQueue = `${taskQueues.control}-bare-signal`;
  const bareWorker = await Worker.create({
    connection: native,
    namespace: 'default',
    taskQueue: bareQueue,
    workflowBundle: bareBundle,
    activities: {
      async callDownstream(input: { url: string; key: string }) {
        starts.mark(input.key);
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
    const bare: WorkflowHandle[] = [];
    for (let i = 0; i < total; i++) {
      const id = `bare-signal-${randomUUID()}`;
      bare.push(
        await client.workflow.start('bareSignalWorkflow', {
          workflowId: id,
          taskQueue: bareQueue,
          args: [{ url: `${target.url}/bare`, key: id, waitMs: 10 * 60_000 }],
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
    const bareMs: number[] = [];
    const ackMs: number[] = [];
    let executedOnce = 0;
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

      // Baseline: the bare workflow's signal, then its one activity.
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
        bareMs.push(bareStarted - s0);
      }
    }

    return {
      samples: options.samples,
      executedOnce,
      clickP50ms: quantile(clickMs, 0.5),
      clickP99ms: quantile(clickMs, 0.99),
      toSignalP50ms: quantile(toSignalMs, 0.5),
      toSignalP99ms: quantile(toSignalMs, 0.99),
      bareSignalP50ms: quantile(bareMs, 0.5),
      bareSignalP99ms: quantile(bareMs, 0.99),
      ackP50ms: quantile(ackMs, 0.5),
      ackP99ms: quantile(ackMs, 0.99),
    };
  } finally {
    for (const w of [...workers, bareWorker]) w.shutdown();
    await Promise.allSettled(running);
    await new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
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
 * Activity starts by key (request id for the connector, workflow id for the bare one), stamped inside the activity; the
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
