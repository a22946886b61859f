// Records real action request workflow histories for the replay tests: runs each path on a fresh local dev server
// and writes its history as JSON to test/replay/histories/<generation>-<path>.json. Record a new generation after a
// workflow change that ships behind patched(), and keep the older ones: replay proves they still run.
//   npx tsx scripts/record-histories.ts --generation v3 [--out <dir>]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createConfigAgentDirectory, type AgentRecord } from '../src/agents';
import { ActionCatalog } from '../src/catalog';
import { getStateQuery } from '../src/contracts/messages';
import type { ActionRequestState } from '../src/contracts/types';
import { createLogger } from '../src/logger';
import { createLogNotifier } from '../src/notifier';
import { PolicyEngine } from '../src/policy/engine';
import { createRequestService, type SubmitBody } from '../src/requests';
import { installTemporalRuntime } from '../src/temporal/runtime';
import { colocatedTaskQueues, createWorkers, prefixedTaskQueues, type TaskQueues } from '../src/temporal/worker';
import { createWebhookSender } from '../src/webhooks/sender';
import { historyToJsonText } from '../test/replay/history-json';
import { testConfig } from '../test/support/config';
import { startLocalTemporal } from '../test/support/local-temporal';
import { startTargetServer } from '../test/support/target-server';
import { startReceiver } from '../test/webhooks/receiver';

/** The stand-in webhook signing secret: like the credential, the histories must show that it never reaches them. */
const RECORDING_WEBHOOK_SECRET = `whsec_${Buffer.from('recording-webhook-secret-0123456789').toString('base64')}`;

const DEFAULT_OUT = fileURLToPath(new URL('../test/replay/histories', import.meta.url));

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : undefined;
}

const outDir = argument('out') ?? DEFAULT_OUT;
const generation = argument('generation');
if (!generation || !/^v\d+$/.test(generation)) {
  process.stderr.write('usage: npx tsx scripts/record-histories.ts --generation v<N> [--out <dir>]\n');
  process.exit(2);
}
if (existsSync(join(outDir, `${generation}-allow.json`)) && !process.argv.includes('--force')) {
  process.stderr.write(`generation ${generation} exists in ${outDir}; pick a new one (or --force to re-record it)\n`);
  process.exit(2);
}

const logger = createLogger({ level: 'warn', name: 'record-histories' });
installTemporalRuntime(logger, 'WARN');

const env = await startLocalTemporal();
const target = await startTargetServer();
// Every request names a callback (from v4 on, requests deliver completion webhooks through child workflows).
const receiver = await startReceiver();
const nativeConnection = await NativeConnection.connect({ address: env.address });
let workers: Worker[] = [];
let running: Promise<unknown>[] = [];
try {
  // Timers short enough to record expiry, reminders and escalation in seconds.
  const config = testConfig({
    targetHost: target.host,
    remindAfter: '1s',
    escalateAfter: '2s',
    expireAfter: '4s',
    extraYaml: `
webhooks:
  secret: { secret: recording-webhook }
  allowedHosts: ['${receiver.host}']
  firstRetryAfter: 1s
`,
  });
  const taskQueues = prefixedTaskQueues('record');
  // Dev mode's layout (connectors on the control queue, the re-check inside the connector's activity), from v5 on.
  const colocatedQueues = colocatedTaskQueues(prefixedTaskQueues('record-colocated'));
  const agents = createConfigAgentDirectory(config);
  const client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
  const service = createRequestService({
    client,
    config,
    catalog: ActionCatalog.compile(config),
    policy: PolicyEngine.compile(config),
    taskQueues,
    logger,
  });
  const colocatedService = createRequestService({
    client,
    config,
    catalog: ActionCatalog.compile(config),
    policy: PolicyEngine.compile(config),
    taskQueues: colocatedQueues,
    logger,
  });
  const workersOn = (queues: TaskQueues) =>
    createWorkers({
      connection: nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueues: queues,
      config,
      control: true,
      connectors: Object.keys(config.connectors),
      // A fixed stand-in credential: the recorded histories must show that none reaches them.
      connectorDeps: { credentials: { resolve: () => Promise.resolve('recording-credential') } },
      activityDeps: {
        logger,
        agents,
        notifier: createLogNotifier(logger),
        webhooks: createWebhookSender({
          config: config.webhooks,
          credentials: { resolve: () => Promise.resolve(RECORDING_WEBHOOK_SECRET) },
          logger,
        }),
      },
    });
  workers = [...(await workersOn(taskQueues)), ...(await workersOn(colocatedQueues))];
  running = workers.map((w) => w.run());

  const agent = (await agents.get('support-bot')) as AgentRecord;
  const refund = (amount: number): SubmitBody => ({
    action: 'payments.refund',
    params: { paymentId: 'pay_replay0001', amount, currency: 'USD' },
    reason: `refund of ${amount} for a replay history`,
    callbackUrl: receiver.urlFor('replay'),
  });
  const email: SubmitBody = {
    action: 'email.send_external',
    params: { to: 'customer@example.org', subject: 'About your refund' },
    reason: 'tell the customer',
    callbackUrl: receiver.urlFor('replay'),
  };
  const waitFor = async (id: string, predicate: (s: ActionRequestState) => boolean) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const state = await client.workflow.getHandle(id).query(getStateQuery);
      if (predicate(state)) return state;
      if (Date.now() > deadline) throw new Error(`${id}: timed out in status ${state.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const scenarios: Record<string, () => Promise<string>> = {
    async allow() {
      const { state } = await service.submit(agent, refund(25), 'replay-allow');
      return state.requestId;
    },
    async deny() {
      const { state } = await service.submit(
        agent,
        {
          action: 'customers.delete',
          params: { customerId: 'cus_replay01' },
          reason: 'cleanup',
          target: { environment: 'production' },
          callbackUrl: receiver.urlFor('replay'),
        },
        'replay-deny',
      );
      return state.requestId;
    },
    async 'quorum-approval'() {
      const { state } = await service.submit(agent, refund(5000), 'replay-quorum');
      await waitFor(state.requestId, (s) => s.timeline.length > 0);
      await service.decide(state.requestId, { decision: 'approve', approver: 'alice', reason: 'checked the ticket' });
      // Refused attempts belong in the record too: the owner, and a duplicate.
      await service.decide(state.requestId, { decision: 'approve', approver: 'carol' }).catch(() => undefined);
      await service.decide(state.requestId, { decision: 'approve', approver: 'alice' }).catch(() => undefined);
      await service.decide(state.requestId, { decision: 'approve', approver: 'bob' });
      return state.requestId;
    },
    async rejection() {
      const { state } = await service.submit(agent, refund(2500), 'replay-rejection');
      await waitFor(state.requestId, (s) => s.timeline.length > 0);
      await service.decide(state.requestId, { decision: 'approve', approver: 'alice' });
      await service.decide(state.requestId, { decision: 'reject', approver: 'bob', reason: 'already refunded' });
      return state.requestId;
    },
    async expiry() {
      const { state } = await service.submit(agent, refund(3000), 'replay-expiry');
      return state.requestId;
    },
    async escalation() {
      const { state } = await service.submit(agent, email, 'replay-escalation');
      await waitFor(state.requestId, (s) => s.timeline.some((t) => t.event === 'escalated'));
      await service.decide(state.requestId, { decision: 'approve', approver: 'erin', reason: 'on call' });
      return state.requestId;
    },
    async 'allow-colocated'() {
      const { state } = await colocatedService.submit(agent, refund(25), 'replay-allow-colocated');
      return state.requestId;
    },
    async cancellation() {
      const { state } = await service.submit(agent, email, 'replay-cancellation');
      await waitFor(state.requestId, (s) => s.timeline.length > 0);
      await service.cancel({ kind: 'agent', agent }, state.requestId, 'customer withdrew');
      return state.requestId;
    },
  };

  mkdirSync(outDir, { recursive: true });
  const ids = await Promise.all(Object.entries(scenarios).map(async ([name, run]) => [name, await run()] as const));
  for (const [name, id] of ids) {
    const handle = client.workflow.getHandle(id);
    const result = (await handle.result()) as ActionRequestState;
    const history = await handle.fetchHistory();
    const file = join(outDir, `${generation}-${name}.json`);
    writeFileSync(file, historyToJsonText(history));
    process.stdout.write(`${name}: ${result.status}, ${history.events?.length ?? 0} events → ${file}\n`);
  }
} finally {
  for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  await Promise.allSettled(running);
  await nativeConnection.close();
  await target.close();
  await receiver.close();
  await env.teardown();
}
