// B10: the kill switch over N parked requests. Requests needing approval are parked (workers running, so each one
// waits in pending_approval); then one switch covering them all is pulled: the time until the caller is answered
// (switch recorded, requests in scope counted, the cancelling operation started), and the time until every one of them
// reads `cancelled` in Temporal's visibility (the drain).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { connectTemporal } from '../src/temporal/adapter';
import { NativeConnection } from '@temporalio/worker';
import { createConfigAgentDirectory, type AgentRecord } from '../src/agents';
import { ActionCatalog } from '../src/catalog';
import { openDatabase } from '../src/db/database';
import { createKillSwitches } from '../src/identity/kill-switch';
import { createLogger } from '../src/logger';
import { createLogNotifier } from '../src/notifier';
import { PolicyEngine } from '../src/policy/engine';
import { createRequestService } from '../src/requests';
import { createWorkers, prefixedTaskQueues } from '../src/temporal/worker';
import { testConfig } from '../test/support/config';
import { benchBundle } from './baselines';

export interface KillSwitchFigures {
  parked: number;
  inScope: number;
  answerMs: number;
  drainMs: number;
}

/** Runs B10 at `address` over `parked` requests. */
export async function runKillSwitchBench(address: string, options: { parked: number }): Promise<KillSwitchFigures> {
  const logger = createLogger({ level: 'silent' });
  const config = testConfig({ targetHost: '127.0.0.1:9' });
  const taskQueues = prefixedTaskQueues(`b10-${randomUUID().slice(0, 8)}`);
  const agents = createConfigAgentDirectory(config);
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-b10-'));
  const database = await openDatabase({ dataDir });
  const connection = await connectTemporal({ address });
  const client = new Client({ connection, namespace: 'default' });
  const native = await NativeConnection.connect({ address });
  const service = createRequestService({
    client,
    config,
    catalog: ActionCatalog.compile(config),
    policy: PolicyEngine.compile(config),
    taskQueues,
    logger,
  });
  const killSwitches = createKillSwitches({ db: database.db, cacheMs: 0 });
  const workers = await createWorkers({
    connection: native,
    namespace: 'default',
    taskQueues,
    config,
    control: true,
    connectors: [],
    activityDeps: { logger, agents, notifier: createLogNotifier(logger), guard: killSwitches.guard },
    workflowBundle: await benchBundle('governed'),
  });
  const running = workers.map((w) => w.run());
  const count = async (clause: string) =>
    (await client.workflow.count(`TaskQueue = '${taskQueues.control}' AND ${clause}`)).count;
  try {
    const agent = (await agents.get('support-bot')) as AgentRecord;
    for (let i = 0; i < options.parked; i += 32) {
      await Promise.all(
        Array.from({ length: Math.min(32, options.parked - i) }, (_, j) =>
          service.submit(
            agent,
            {
              action: 'payments.refund',
              params: { paymentId: `pay_b10${String(i + j).padStart(5, '0')}`, amount: 5000, currency: 'EUR' },
              reason: 'parked for B10',
            },
            randomUUID(),
          ),
        ),
      );
    }
    while ((await count(`CsStatus = 'pending_approval'`)) < options.parked) await sleep(250);

    const t0 = performance.now();
    const scope = { agentId: 'support-bot' };
    const { killSwitch } = await killSwitches.engage(scope, { reason: 'B10', by: 'operator:bench' });
    const { inScope, operationId } = await killSwitches.cancelInScope(service.temporal, scope, {
      by: 'operator:bench',
      reason: killSwitch.reason,
      switchId: killSwitch.id,
    });
    const answerMs = performance.now() - t0;
    for (;;) {
      const progress = await service.temporal.operation(operationId);
      if (progress?.state !== 'running' && (await count(`CsStatus = 'cancelled'`)) >= options.parked) break;
      await sleep(200);
    }
    const drainMs = performance.now() - t0;
    return { parked: options.parked, inScope, answerMs, drainMs };
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.allSettled(running);
    await native.close();
    await connection.close();
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
