// End to end through the real Temporal server and SQLite: a vault credential resolved inside the connector activity,
// a receipt on the downstream call that the downstream can verify, the execution counted toward the next decision's
// budget, and the credential nowhere in logs, workflow histories or API answers.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client, type Connection } from '@temporalio/client';
import { connectTemporal } from '../../src/temporal/adapter';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createConfigAgentDirectory, type AgentRecord } from '../../src/agents';
import { ActionCatalog } from '../../src/catalog';
import { parseConfig } from '../../src/config/load';
import type { CountersignConfig } from '../../src/config/schema';
import type { DatabaseHandle } from '../../src/db/database';
import { createLogger } from '../../src/logger';
import { createLogNotifier } from '../../src/notifier';
import { PolicyEngine } from '../../src/policy/engine';
import { createRequestService, type RequestService } from '../../src/requests';
import {
  RECEIPT_HEADER,
  createReceiptSigner,
  createReceiptVerifier,
  generateReceiptKey,
  receiptParamsHash,
} from '../../src/receipts';
import { installTemporalRuntime } from '../../src/temporal/runtime';
import { createWorkers, prefixedTaskQueues } from '../../src/temporal/worker';
import { createExecutionRecorder, createUsagePolicy, type UsagePolicy } from '../../src/usage';
import {
  createMasterKeyring,
  createVault,
  createVaultCredentialResolver,
  generateMasterKey,
  parseMasterKey,
  secretIdsFor,
  type Vault,
} from '../../src/vault';
import { createCredentialResolver } from '../../activities/connectors';
import { openTestDatabase } from '../identity/databases';
import { startTargetServer, type TargetServer } from '../support/target-server';

const CANARY = 'cs_canary_credential_7d1e0b6a9f42';

function pipelineConfig(targetHost: string): CountersignConfig {
  return parseConfig(`
people:
  carol: { email: carol@example.com }
  alice: { email: alice@example.com }
agents:
  - { id: support-bot, owner: carol, allowedActions: [payments.refund] }
approvers:
  finance: { members: [alice] }
connectors:
  billing:
    type: http
    allowedHosts: ['${targetHost}']
    timeout: 2s
    credential: { secret: billing-token }
actions:
  payments.refund:
    description: Refund a payment.
    risk: high
    connector: billing
    http: { method: POST, url: 'http://${targetHost}/v1/payments/{paymentId}/refunds' }
    params:
      type: object
      required: [paymentId, amount]
      properties: { paymentId: { type: string }, amount: { type: number } }
policies:
  rules:
    - { id: refunds, match: { actions: [payments.refund] }, effect: allow }
    - id: refunds-over-5000-a-day
      match: { actions: [payments.refund] }
      when: usage.sum('payments.refund', 'amount', '24h') + params.amount > 5000
      effect: require_approval
      approvers: finance
`);
}

const signer = createReceiptSigner({ key: await generateReceiptKey(), issuer: 'countersign-test' });
const verify = createReceiptVerifier({ jwks: signer.jwks() });

describe('vault, receipts and budgets in the pipeline', () => {
  let target: TargetServer;
  let database: DatabaseHandle;
  let vault: Vault;
  let usage: UsagePolicy;
  let service: RequestService;
  let client: Client;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let workers: Worker[] = [];
  let running: Promise<unknown>[] = [];
  let agent: AgentRecord;
  const logLines: string[] = [];

  beforeAll(async () => {
    target = await startTargetServer();
    database = await openTestDatabase('sqlite');
    const config = pipelineConfig(target.host);
    const masterKey = generateMasterKey();
    vault = createVault({ db: database.db, keyring: createMasterKeyring(parseMasterKey(masterKey, 'test')) });
    await vault.put({ id: 'billing-token', value: CANARY, by: 'alice' });
    usage = createUsagePolicy({ config, db: database.db });

    const logger = createLogger(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          logLines.push(chunk.toString());
          done();
        },
      }),
    );
    installTemporalRuntime(logger, 'WARN');
    const address = inject('temporalAddress');
    connection = await connectTemporal({ address });
    client = new Client({ connection, namespace: 'default' });
    nativeConnection = await NativeConnection.connect({ address });
    const taskQueues = prefixedTaskQueues(`t-${randomUUID().slice(0, 8)}`);
    const agents = createConfigAgentDirectory(config);
    agent = (await agents.get('support-bot'))!;

    service = createRequestService({
      client,
      config,
      catalog: ActionCatalog.compile(config),
      policy: PolicyEngine.compile(config, { extend: (env) => usage.extend(env) }),
      taskQueues,
      logger,
      policyExtras: (a, body) => usage.policyExtras(a, body),
    });
    workers = await createWorkers({
      connection: nativeConnection,
      namespace: 'default',
      taskQueues,
      config,
      control: true,
      connectors: ['billing'],
      activityDeps: { logger, agents, notifier: createLogNotifier(logger) },
      connectorDeps: {
        credentials: createVaultCredentialResolver({
          vault,
          fallback: createCredentialResolver(),
          allowedSecrets: secretIdsFor(config, ['billing']),
        }),
        callHeaders: (input, call) => signer.callHeaders(input, call),
        recorder: createExecutionRecorder(usage.store),
      },
      workflowBundle: { codePath: inject('workflowBundlePath') },
    });
    running = workers.map((w) => w.run());
  });

  afterAll(async () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(running);
    await nativeConnection?.close();
    await connection?.close();
    await database?.close();
    await target?.close();
  });

  /** What the billing service would check: the receipt matches the call it received. */
  async function checkAsDownstream(requestId: string, paymentId: string) {
    const [call] = target.callsFor(requestId);
    expect(call, 'one downstream call').toBeDefined();
    const body = JSON.parse(call!.body) as Record<string, unknown>;
    return verify(call!.headers[RECEIPT_HEADER.toLowerCase()] as string, {
      action: 'payments.refund',
      requestId: call!.headers['idempotency-key'] as string,
      paramsHash: receiptParamsHash({ paymentId, ...body }),
      audience: target.url,
    });
  }

  it('when a refund within budget is allowed, then it runs with the vault credential and a verifiable receipt, and counts', async () => {
    const { state } = await service.submit(agent, {
      action: 'payments.refund',
      params: { paymentId: 'pay_first', amount: 3000 },
      reason: 'customer asked',
    });
    expect(state.decision.effect).toBe('allow');
    expect(state.decision.signals).toMatchObject({
      firstUse: true,
      raised: expect.arrayContaining(['firstUse']) as unknown,
    });
    const final = await service.get({ kind: 'agent', agent }, state.requestId, 20);
    expect(final.status).toBe('succeeded');

    const [call] = target.callsFor(state.requestId);
    expect(call?.headers.authorization).toBe(`Bearer ${CANARY}`);
    const receipt = await checkAsDownstream(state.requestId, 'pay_first');
    expect(receipt).toMatchObject({
      valid: true,
      receipt: { sub: 'support-bot', approvers: [], policy_version: state.decision.policyVersion },
    });

    expect(await vault.accessLog({ requestId: state.requestId })).toEqual([
      expect.objectContaining({ secret_id: 'billing-token', outcome: 'granted', version: 1 }),
    ]);
    expect(
      await usage.store.sum({ agentId: 'support-bot', action: 'payments.refund', since: new Date(0) }, 'amount'),
    ).toBe(3000);
  });

  it('when the executed refunds push the day over $5,000, then the next one needs approval, and once approved its receipt names the approver', async () => {
    const { state } = await service.submit(agent, {
      action: 'payments.refund',
      params: { paymentId: 'pay_second', amount: 2500 },
      reason: 'customer asked again',
    });
    expect(state.decision.effect).toBe('require_approval');
    expect(state.decision.rules).toContain('refunds-over-5000-a-day');
    expect(state.decision.signals).toMatchObject({ firstUse: false });
    expect(target.callsFor(state.requestId)).toHaveLength(0);

    await service.decide(state.requestId, { decision: 'approve', approver: 'alice' });
    const final = await service.get({ kind: 'agent', agent }, state.requestId, 20);
    expect(final.status).toBe('succeeded');
    await expect(checkAsDownstream(state.requestId, 'pay_second')).resolves.toMatchObject({
      valid: true,
      receipt: { approvers: ['alice'], params_hash: state.paramsHash },
    });
    // A receipt replayed for other parameters is refused by the downstream.
    const [call] = target.callsFor(state.requestId);
    await expect(
      verify(call!.headers[RECEIPT_HEADER.toLowerCase()] as string, {
        paramsHash: receiptParamsHash({ paymentId: 'pay_second', amount: 25000 }),
      }),
    ).resolves.toMatchObject({ valid: false, code: 'mismatch' });
  });

  it('when the downstream refuses an execution for good, then it does not count toward the budget', async () => {
    target.failNext(422);
    const { state } = await service.submit(agent, {
      action: 'payments.refund',
      params: { paymentId: 'pay_third', amount: 10 },
      reason: 'refused downstream',
    });
    expect(state.decision.effect).toBe('require_approval');
    await service.decide(state.requestId, { decision: 'approve', approver: 'alice' });
    const final = await service.get({ kind: 'agent', agent }, state.requestId, 20);
    expect(final.status).toBe('failed');
    expect(await usage.store.count({ agentId: 'support-bot', action: 'payments.refund', since: new Date(0) })).toBe(2);
  });

  it('when requests have run, then the credential appears in no log line, workflow history or API answer', async () => {
    const ids = target.calls.map((c) => c.headers['idempotency-key'] as string);
    expect(ids.length).toBeGreaterThanOrEqual(3);
    const histories: string[] = [];
    const answers: string[] = [];
    for (const id of new Set(ids)) {
      histories.push(readable(await client.workflow.getHandle(id).fetchHistory()));
      answers.push(JSON.stringify(await service.get({ kind: 'agent', agent }, id)));
    }
    // The search can see what is there: the parameters are in the histories, requests in the logs.
    expect(histories.join('\n')).toContain('pay_first');
    expect(logLines.join('\n')).toContain(ids[0]);
    for (const text of [logLines.join('\n'), ...histories, ...answers]) expect(text).not.toContain(CANARY);
  });
});

/** A history as text, with every payload's bytes decoded (JSON.stringify would show them as numbers). */
function readable(value: unknown): string {
  const parts: string[] = [];
  const walk = (v: unknown) => {
    if (v instanceof Uint8Array) parts.push(Buffer.from(v).toString('utf8'));
    else if (typeof v === 'string') parts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return parts.join('\n');
}
