// The baselines Countersign is measured against, in the same run on the same Temporal server:
// - hand-built: what a team would write instead. A minimal Express 5 gateway (API-key bearer auth with a constant-time
//   compare, JSON parsing) that starts a workflow with one activity making the same downstream call as the governed
//   connector; and a minimal Bolt 5 receiver (signature verification, ack) that signals a waiting workflow which then
//   runs that activity. Same worker settings, same task-queue layout as the governed side, same payload codec state.
// - bare: Temporal alone (workflow + 1 activity, one task queue, no codec): the floor nothing can beat.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { App, ExpressReceiver, LogLevel } from '@slack/bolt';
import type { Client } from '@temporalio/client';
import {
  Worker,
  bundleWorkflowCode,
  type NativeConnection,
  type WorkflowBundle,
  type WorkerOptions,
} from '@temporalio/worker';
import express from 'express';
import { bearerToken } from '../src/http/auth';
import { WORKFLOW_BUNDLE_OPTIONS, type TaskQueues } from '../src/temporal/worker';
import { quiet } from './stats';
import { goSignal } from './workflows/bare-signal';
import type { DownstreamCall } from './workflows/hand-built';

export type { DownstreamCall };

/** Worker settings every side runs with (the governed workers get them as `tuning`). */
export const BENCH_WORKER_TUNING = {
  maxCachedWorkflows: 1_000,
  maxConcurrentWorkflowTaskExecutions: 40,
  maxConcurrentActivityTaskExecutions: 100,
} as const satisfies Pick<
  WorkerOptions,
  'maxCachedWorkflows' | 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions'
>;

/** The credential the governed connector resolves and the baselines' activity sends. */
export const DOWNSTREAM_TOKEN = 'bench-token';
/** The action the governed path runs and the connector it goes through (test config). */
export const BENCH_CONNECTOR = 'billing';

const HAND_BUILT_WORKFLOWS = fileURLToPath(new URL('./workflows/hand-built.ts', import.meta.url));
const BARE_WORKFLOWS = fileURLToPath(new URL('./workflows/bare.ts', import.meta.url));
const BARE_SIGNAL_WORKFLOWS = fileURLToPath(new URL('./workflows/bare-signal.ts', import.meta.url));

/** The refund the governed path submits, as parameters. */
export interface Refund {
  paymentId: string;
  amount: number;
  currency: string;
}

/** A fresh refund of `amount`. */
export function newRefund(amount: number): Refund {
  return { paymentId: `pay_${randomUUID().slice(0, 8)}`, amount, currency: 'USD' };
}

/**
 * The call the governed connector sends for `payments.refund` (test config: POST /v1/payments/{paymentId}/refunds,
 * the other parameters as the JSON body, the request's key as Idempotency-Key).
 */
export function refundCall(downstreamUrl: string, refund: Refund, key: string): DownstreamCall {
  return {
    url: `${downstreamUrl}/v1/payments/${encodeURIComponent(refund.paymentId)}/refunds`,
    key,
    body: JSON.stringify({ amount: refund.amount, currency: refund.currency }),
  };
}

/**
 * The baselines' one activity: the same HTTP call as the governed connector (bearer credential, Idempotency-Key, JSON
 * body, the connector's timeout). `onStart` is told the key the moment it starts (B3 measures up to there).
 */
export function createDownstreamActivities(options: { timeoutMs: number; onStart?: (key: string) => void }) {
  return {
    async callDownstream(input: DownstreamCall): Promise<number> {
      options.onStart?.(input.key);
      const res = await fetch(input.url, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${DOWNSTREAM_TOKEN}`,
          'Idempotency-Key': input.key,
          'Content-Type': 'application/json',
          'User-Agent': 'hand-built',
        },
        body: input.body ?? '{}',
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await res.text();
      if (!res.ok) throw new Error(`downstream answered ${res.status}`);
      return res.status;
    },
  };
}

/** The hand-built side's task queues, laid out like the governed side's: the activity on its own queue iff the connector is. */
export function handBuiltQueues(governed: TaskQueues, prefix: string): { workflow: string; activity: string } {
  const separate = governed.connector(BENCH_CONNECTOR) !== governed.control;
  return {
    workflow: `${prefix}-hand-built`,
    activity: separate ? `${prefix}-hand-built-activities` : `${prefix}-hand-built`,
  };
}

const BUNDLE_OPTIONS = {
  governed: WORKFLOW_BUNDLE_OPTIONS,
  'hand-built': { workflowsPath: HAND_BUILT_WORKFLOWS },
  bare: { workflowsPath: BARE_WORKFLOWS },
  'bare-signal': { workflowsPath: BARE_SIGNAL_WORKFLOWS },
} as const;
const bundles = new Map<keyof typeof BUNDLE_OPTIONS, Promise<WorkflowBundle>>();

/** A workflow bundle, built once per bench run and shared by every benchmark that runs those workflows. */
export function benchBundle(kind: keyof typeof BUNDLE_OPTIONS): Promise<WorkflowBundle> {
  let bundle = bundles.get(kind);
  if (!bundle) {
    bundle = bundleWorkflowCode({ ...BUNDLE_OPTIONS[kind], logger: quiet });
    bundles.set(kind, bundle);
  }
  return bundle;
}

/** The hand-built side's workers: workflows on one queue, the activity on the other (or the same) queue. */
export async function createHandBuiltWorkers(options: {
  connection: NativeConnection;
  queues: { workflow: string; activity: string };
  workflowBundle: WorkerOptions['workflowBundle'];
  activities: ReturnType<typeof createDownstreamActivities>;
  dataConverter?: WorkerOptions['dataConverter'];
}): Promise<Worker[]> {
  const common = {
    connection: options.connection,
    namespace: 'default',
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    ...BENCH_WORKER_TUNING,
  };
  const shared = options.queues.activity === options.queues.workflow;
  const workers = [
    await Worker.create({
      ...common,
      taskQueue: options.queues.workflow,
      workflowBundle: options.workflowBundle,
      ...(shared ? { activities: options.activities } : {}),
    }),
  ];
  if (!shared) {
    workers.push(
      await Worker.create({ ...common, taskQueue: options.queues.activity, activities: options.activities }),
    );
  }
  return workers;
}

/** The bare floor's one worker: workflow and activity on one queue, no codec. */
export function createBareWorker(options: {
  connection: NativeConnection;
  taskQueue: string;
  workflowBundle: WorkerOptions['workflowBundle'];
  activities: ReturnType<typeof createDownstreamActivities>;
}): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: 'default',
    taskQueue: options.taskQueue,
    workflowBundle: options.workflowBundle,
    activities: options.activities,
    ...BENCH_WORKER_TUNING,
  });
}

/** A loopback HTTP server and how to stop it. */
export interface Listening {
  url: string;
  close(): Promise<void>;
}

async function listen(app: express.Application): Promise<{ server: Server; url: string }> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Closes a loopback server and its kept-alive sockets. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * The hand-built gateway: `POST /v1/refunds` with `Authorization: Bearer <key>` (compared in constant time) and a JSON
 * refund starts `handBuiltWorkflow`; it answers 201 once started, or with `?wait=1` once the workflow completed.
 */
export async function startHandBuiltGateway(options: {
  client: Client;
  apiKey: string;
  queues: { workflow: string; activity: string };
  downstreamUrl: string;
}): Promise<Listening> {
  const expected = sha256(options.apiKey);
  const app = express();
  app.disable('x-powered-by');
  app.post('/v1/refunds', express.json({ limit: '64kb' }), async (req, res, next) => {
    try {
      const token = bearerToken(req.get('authorization'));
      if (!token || !timingSafeEqual(sha256(token), expected)) {
        res.status(401).json({ error: 'unauthorized' });
        return;
      }
      const body = req.body as Partial<Refund> | undefined;
      if (typeof body?.paymentId !== 'string' || typeof body.amount !== 'number' || typeof body.currency !== 'string') {
        res.status(400).json({ error: 'invalid refund' });
        return;
      }
      const id = `refund-${req.get('idempotency-key') ?? randomUUID()}`;
      const handle = await options.client.workflow.start('handBuiltWorkflow', {
        workflowId: id,
        taskQueue: options.queues.workflow,
        args: [{ activityQueue: options.queues.activity, call: refundCall(options.downstreamUrl, body as Refund, id) }],
      });
      if (req.query.wait) {
        const status = (await handle.result()) as number;
        res.status(201).json({ id, status: 'succeeded', downstreamStatus: status });
        return;
      }
      res.status(201).json({ id, status: 'started' });
    } catch (err) {
      next(err);
    }
  });
  const { server, url } = await listen(app);
  return { url, close: () => closeServer(server) };
}

/** The action id of the hand-built receiver's Approve button; its value is the waiting workflow's id. */
export const HAND_BUILT_APPROVE = 'hand_built_approve';

/**
 * The hand-built Bolt receiver: Bolt 5's ExpressReceiver (signature verification) on its own loopback server; the
 * Approve listener acks, then signals the waiting workflow named by the button's value.
 */
export async function startHandBuiltBolt(options: {
  client: Client;
  signingSecret: string;
  slackApiUrl: string;
}): Promise<Listening> {
  const receiver = new ExpressReceiver({
    signingSecret: options.signingSecret,
    processBeforeResponse: false,
    logLevel: LogLevel.ERROR,
  });
  const app = new App({
    token: 'xoxb-hand-built-token',
    receiver,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: options.slackApiUrl },
  });
  app.action(HAND_BUILT_APPROVE, async ({ ack, action }) => {
    await ack();
    if (action.type !== 'button' || !action.value) return;
    await options.client.workflow.getHandle(action.value).signal(goSignal);
  });
  const { server, url } = await listen(receiver.app);
  return { url: `${url}/slack/events`, close: () => closeServer(server) };
}

/** The task-queue layout both the governed and the hand-built side run with, in words. */
export function describeLayout(queues: { workflow: string; activity: string }): string {
  return queues.activity === queues.workflow
    ? 'workflow and activity on one task queue per side'
    : 'a workflow task queue and an activity task queue per side';
}
