// One Slack test environment: the loopback target, the Slack Web API stand-in, Countersign's workers (with the Slack
// notifier) on the shared Temporal server, and the real Bolt app mounted on an Express server at /slack/events.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Client } from '@temporalio/client';
import express from 'express';
import { createSlackApp, createSlackWorkerNotifier, type SlackApp, type SlackTuning } from '../../slack/app';
import { ACTION_IDS } from '../../slack/blocks/ids';
import { createRequestFactsCache } from '../../slack/request-facts';
import type { CountersignConfig } from '../../src/config/schema';
import { isTerminal, type ActionRequestState } from '../../src/contracts/types';
import { createExecutionStarts, type ExecutionStarts } from '../../src/execution-starts';
import { createLogger } from '../../src/logger';
import type { SubmitBody } from '../../src/requests';
import { testConfig, type TestConfigOptions } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startSlackApiStub, type SlackApiStub, type StoredMessage } from '../support/slack-api-stub';
import {
  blockActionsRequest,
  postToSlackEndpoint,
  TEST_SIGNING_SECRET,
  type SlackRequest,
} from '../support/slack-signing';
import { startTargetServer, type TargetServer } from '../support/target-server';

export const TEST_BILLING_TOKEN = 'tok_test_billing_secret_value';

/** Slack user ids of the test config's people. */
export const SLACK = {
  carol: 'U0CAROL01',
  alice: 'U0ALICE01',
  bob: 'U0BOB0001',
  dana: 'U0DANA001',
  erin: 'U0ERIN001',
} as const;

export const FAST_SLACK: SlackTuning = {
  retryConfig: { retries: 2, factor: 1, minTimeout: 100, maxTimeout: 200, randomize: false },
  timeoutMs: 2_000,
  perChannelIntervalMs: 30,
  usergroupTtlMs: 1_000,
  confirmTimeoutMs: 10_000,
  // The product's own query deadline: a shorter one reads a slow workflow task on a loaded machine as "no worker".
  queryTimeoutMs: 5_000,
};

export interface SlackEnvOptions {
  config?: Omit<TestConfigOptions, 'targetHost'>;
  /** Adjusts the parsed config before anything starts (channels, user groups, secret params). */
  configure?: (config: CountersignConfig) => void;
  tuning?: SlackTuning;
  /** The Temporal client the Slack app uses (default: the harness's), to observe its calls. */
  /** The Slack app's own Temporal client, made from the harness (its data converter seals as the workers do). */
  slackTemporal?: (h: Harness) => Client;
  /**
   * As one process (`npm start`): the worker's notifier keeps each request's fixed facts for the Slack app's clicks.
   * Default: as separate processes, where a click finds the facts in the request's start memo.
   */
  oneProcess?: boolean;
}

export interface SlackEnv {
  h: Harness;
  /** Log lines of the Slack app and the Slack notifier (the harness keeps its own in h.logLines). */
  logLines: string[];
  stub: SlackApiStub;
  target: TargetServer;
  slack: SlackApp;
  /** URL of POST /slack/events. */
  eventsUrl: string;
  submit(body: SubmitBody, agentId?: string): Promise<ActionRequestState>;
  state(requestId: string): Promise<ActionRequestState>;
  waitForState(
    requestId: string,
    check: (s: ActionRequestState) => boolean,
    timeoutMs?: number,
  ): Promise<ActionRequestState>;
  /** Top-level approval messages of a request. */
  messagesOf(requestId: string): StoredMessage[];
  waitForMessages(requestId: string, count: number, timeoutMs?: number): Promise<StoredMessage[]>;
  /** Posts a signed request to /slack/events. */
  post(
    request: SlackRequest,
    options?: { timestamp?: number; headers?: Record<string, string> },
  ): ReturnType<typeof postToSlackEndpoint>;
  /** A signed click of a message's button. */
  click(slackUser: string, actionId: string, message: StoredMessage): ReturnType<typeof postToSlackEndpoint>;
  /** The click request itself (for replays and forgeries). */
  clickRequest(slackUser: string, actionId: string, message: StoredMessage): SlackRequest;
  /** One process: what the execution-starts board was told and answered, in order (src/execution-starts.ts). */
  executionStarts: ExecutionStartEvent[];
  close(): Promise<void>;
}

export type ExecutionStartEvent =
  | { event: 'started'; requestId: string; at: number }
  | { event: 'waited'; requestId: string; started: boolean; at: number };

/** Starts the environment. */
export async function startSlackEnv(options: SlackEnvOptions = {}): Promise<SlackEnv> {
  process.env.COUNTERSIGN_TEST_BILLING_TOKEN = TEST_BILLING_TOKEN;
  const target = await startTargetServer();
  const stub = await startSlackApiStub();
  const config = testConfig({ targetHost: target.host, ...options.config });
  options.configure?.(config);
  const tuning = { ...FAST_SLACK, ...options.tuning };
  const slackSettings = {
    botToken: 'xoxb-test-bot-token',
    signingSecret: TEST_SIGNING_SECRET,
    apiUrl: stub.apiUrl,
    temporalUiUrl: 'http://localhost:8233',
  };

  const logLines: string[] = [];
  const logger = createLogger(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  );
  // The worker side gets its own notifier, as when the API and the workers run as separate processes; in one process
  // it shares the Slack app's cache of request facts.
  const facts = options.oneProcess ? createRequestFactsCache() : undefined;
  // In one process the connector workers also tell the Slack app when an execution starts, as dev mode wires them.
  const startEvents: ExecutionStartEvent[] = [];
  const executionStarts = options.oneProcess ? recordedExecutionStarts(startEvents) : undefined;
  const notifier = createSlackWorkerNotifier({
    slack: slackSettings,
    config,
    logger,
    namespace: 'default',
    tuning,
    ...(facts ? { facts } : {}),
  });
  const h = await startHarness({ config, notifier, ...(executionStarts ? { executionStarts } : {}) });
  const slack = createSlackApp({
    slack: slackSettings,
    config,
    logger,
    temporal: options.slackTemporal?.(h) ?? h.client,
    namespace: 'default',
    taskQueue: h.taskQueues.control,
    tuning,
    ...(facts ? { facts } : {}),
    ...(executionStarts ? { executionStarts } : {}),
  });
  const app = express();
  if (!slack.handler) throw new Error('HTTP mode expected');
  app.post('/slack/events', slack.handler);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const eventsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;

  const operator = { kind: 'operator' as const, id: 'tests' };
  const messagesOf = (requestId: string) => stub.messages((m) => JSON.stringify(m.blocks).includes(requestId));
  const clickRequest = (slackUser: string, actionId: string, message: StoredMessage) => {
    // The button as first posted: a click may come from a client that has not shown the latest edit yet.
    const posted = { blocks: message.versions[0]?.blocks ?? message.blocks };
    const value = buttonValue(posted, actionId === ACTION_IDS.reject ? ACTION_IDS.reject : ACTION_IDS.approve);
    return blockActionsRequest({ user: slackUser, actionId, value, channel: message.channel, messageTs: message.ts });
  };

  return {
    h,
    logLines,
    stub,
    target,
    slack,
    eventsUrl,
    async submit(body, agentId = 'support-bot') {
      const agent = await h.agents.get(agentId);
      if (!agent) throw new Error(`no agent ${agentId}`);
      return (await h.service.submit(agent, body, randomUUID())).state;
    },
    state: (id) => h.service.get(operator, id),
    async waitForState(id, check, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await h.service.get(operator, id);
        if (check(s)) return s;
        if (Date.now() > deadline) throw new Error(`request ${id} stayed ${s.status}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    messagesOf,
    waitForMessages: (id, count, timeoutMs) =>
      stub.waitFor(
        () => {
          const m = messagesOf(id);
          return m.length >= count ? m : undefined;
        },
        timeoutMs,
        `${count} approval message(s) for ${id}`,
      ),
    post: (request, o = {}) => postToSlackEndpoint(eventsUrl, request, o),
    click: (slackUser, actionId, message) => postToSlackEndpoint(eventsUrl, clickRequest(slackUser, actionId, message)),
    clickRequest,
    executionStarts: startEvents,
    async close() {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await h.close();
      await stub.close();
      await target.close();
    },
  };
}

/** The value of a message's button, as Slack would send it back. */
export function buttonValue(message: { blocks: Record<string, unknown>[] }, actionId: string): string {
  for (const block of message.blocks) {
    if (block.type !== 'actions') continue;
    for (const el of block.elements as { action_id?: string; value?: string }[]) {
      if (el.action_id === actionId && el.value) return el.value;
    }
  }
  throw new Error(`message has no ${actionId} button`);
}

/** Whether a message still offers the decision buttons. */
export function hasDecisionButtons(message: { blocks: Record<string, unknown>[] }): boolean {
  return JSON.stringify(message.blocks).includes(ACTION_IDS.approve);
}

/** The message's whole text as an approver would read it (blocks flattened). */
export function blockText(message: { blocks: Record<string, unknown>[] }): string {
  const out: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'text' && typeof v === 'string') out.push(v);
        else walk(v);
      }
    }
  };
  walk(message.blocks);
  return out.join('\n');
}

export { isTerminal };

/** A board that records what it is told and what its waiters get. */
function recordedExecutionStarts(events: ExecutionStartEvent[]): ExecutionStarts {
  const board = createExecutionStarts();
  return {
    started(requestId) {
      events.push({ event: 'started', requestId, at: Date.now() });
      board.started(requestId);
    },
    async whenStarted(requestId, timeoutMs) {
      const started = await board.whenStarted(requestId, timeoutMs);
      events.push({ event: 'waited', requestId, started, at: Date.now() });
      return started;
    },
  };
}
