// At most one execution against a downstream that does not de-duplicate: the ledger records each attempt before it
// is sent, a call that may have arrived is never re-sent (`idempotency: none`), refused connections and 429/503 are
// retried, and a locked SQLite database delays an execution without doubling it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ActionRequestState } from '../../src/contracts/types';
import { createExecutionLedger } from '../../src/ledger';
import { EncryptionCodec } from '../../src/temporal/codec';
import { createMasterKeyring, generateMasterKey, parseMasterKey } from '../../src/vault';
import type { Caller } from '../../src/requests';
import { TEST_AGENT_KEY, testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { call, eventually, operatorToken, startApi, type RequestList } from '../integration/http-support';

const TERMINAL = new Set(['succeeded', 'failed', 'denied', 'rejected', 'expired', 'cancelled']);
const operator: Caller = { kind: 'operator', id: 'carol' };
const WORKER_SCRIPT = fileURLToPath(new URL('../support/connector-worker-process.ts', import.meta.url));

process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_ledger_secret_5b1c';

async function submitRead(h: Harness, customerId = `c_${randomUUID().slice(0, 8)}`): Promise<ActionRequestState> {
  const agent = await h.agents.get('support-bot');
  if (!agent) throw new Error('no agent');
  const { state } = await h.service.submit(
    agent,
    { action: 'customers.read', params: { customerId }, reason: 'ledger test' },
    randomUUID(),
  );
  return state;
}

function terminal(h: Harness, id: string, timeoutMs = 60_000): Promise<ActionRequestState> {
  return eventually(
    () => h.service.get(operator, id),
    (s) => TERMINAL.has(s.status),
    timeoutMs,
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('execution ledger: idempotency none', () => {
  let target: TargetServer;
  let h: Harness;

  beforeAll(async () => {
    target = await startTargetServer();
    h = await startHarness({ config: testConfig({ targetHost: target.host, idempotency: 'none' }), identity: {} });
  });
  afterAll(async () => {
    await h?.close();
    await target?.close();
  });
  afterEach(() => target.delay(0));

  it('when the call times out after it was sent, then the request fails with outcome unknown, is not re-sent, and requests list shows it', async () => {
    target.delay(2_500); // the connector's timeout is 2 s
    const state = await submitRead(h);
    const done = await terminal(h, state.requestId);

    expect(done.status).toBe('failed');
    expect(done.outcome).toMatchObject({ ok: false, unknown: true });
    expect(done.outcome?.summary).toMatch(/^Outcome unknown/);
    await eventually(
      async () => target.callsFor(state.requestId).length,
      (n) => n === 1,
    );
    expect(
      h.logLines.some((l) => l.includes('"alert":"execution_outcome_unknown"') && l.includes(state.requestId)),
    ).toBe(true);
    const ledger = createExecutionLedger(h.identity!.database.db);
    expect((await ledger.attempts(state.requestId)).map((a) => a.outcome)).toEqual(['unknown']);

    const api = await startApi(h, { ledger });
    try {
      const list = await call<RequestList>(api, 'GET', '/v1/action-requests?status=failed', {
        token: operatorToken(h, 'carol'),
      });
      expect(list.json.items.find((i) => i.id === state.requestId)?.outcome).toBe('unknown');
      const own = await call<RequestList>(api, 'GET', '/v1/action-requests', { token: TEST_AGENT_KEY });
      expect(own.status).toBe(200);
    } finally {
      await api.close();
    }
  });

  it('when the downstream answers 500, then it is not asked again', async () => {
    target.failNext(500, 1);
    const state = await submitRead(h);
    const done = await terminal(h, state.requestId);

    expect(done.status).toBe('failed');
    expect(done.outcome).toMatchObject({ ok: false, status: 500 });
    expect(done.outcome?.unknown).toBeUndefined();
    expect(target.callsFor(state.requestId)).toHaveLength(1);
  });

  it('when the answer is 429 with Retry-After: 1, then it is retried once after at least a second and succeeds', async () => {
    target.failNext(429, 1, { 'retry-after': '1' });
    const state = await submitRead(h);
    const done = await terminal(h, state.requestId);

    expect(done.status).toBe('succeeded');
    const calls = target.callsFor(state.requestId);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(1_000);
  });
});

describe('execution ledger: connection refused before sending', () => {
  it('when the downstream refuses connections at first, then the call is retried and made once', async () => {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const h = await startHarness({ config: testConfig({ targetHost: host, idempotency: 'none' }), identity: {} });
    let target: TargetServer | undefined;
    try {
      const state = await submitRead(h);
      const ledger = createExecutionLedger(h.identity!.database.db);
      await eventually(
        () => ledger.attempts(state.requestId),
        (rows) => rows.some((r) => r.outcome === 'not_sent'),
        30_000,
      );
      target = await startTargetServer({ port });
      const done = await terminal(h, state.requestId);

      expect(done.status).toBe('succeeded');
      expect(target.callsFor(state.requestId)).toHaveLength(1);
    } finally {
      await h.close();
      await target?.close();
    }
  });
});

describe('execution ledger: a locked SQLite database', () => {
  it('when another connection holds the write lock for 25 s during execution, then each request runs exactly once', async () => {
    const target = await startTargetServer();
    const h = await startHarness({
      config: testConfig({ targetHost: target.host, idempotency: 'none' }),
      identity: {},
    });
    const locker = new SqliteDatabase(h.identity!.database.location);
    try {
      locker.exec('BEGIN IMMEDIATE');
      let released = false;
      const release = new Promise<void>((resolve) =>
        setTimeout(() => {
          locker.exec('COMMIT');
          released = true;
          resolve();
        }, 25_000),
      );
      // Heartbeat of the event loop: it must keep ticking while the database is locked.
      let ticks = 0;
      const ticker = setInterval(() => (ticks += 1), 100);
      const states = await Promise.all([submitRead(h), submitRead(h), submitRead(h)]);
      await release;
      clearInterval(ticker);
      expect(released).toBe(true);
      expect(ticks).toBeGreaterThan(100);
      const done = await Promise.all(states.map((s) => terminal(h, s.requestId, 120_000)));

      for (const s of done) {
        expect(s.status).toBe('succeeded');
        expect(target.callsFor(s.requestId)).toHaveLength(1);
      }
    } finally {
      locker.close();
      await h.close();
      await target.close();
    }
  }, 180_000);
});

for (const idempotency of ['none', 'key'] as const) {
  describe(`execution ledger: kill -9 of the connector worker, idempotency ${idempotency}`, () => {
    let target: TargetServer;
    let h: Harness;
    const children: ChildProcess[] = [];
    const payloadKey = generateMasterKey();

    beforeAll(async () => {
      target = await startTargetServer();
      h = await startHarness({
        config: testConfig({ targetHost: target.host, idempotency }),
        identity: {},
        connectorWorkers: false,
        codec: new EncryptionCodec(createMasterKeyring(parseMasterKey(payloadKey, 'payload key'))),
      });
    });
    afterAll(async () => {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
      await h?.close();
      await target?.close();
    });

    async function startConnectorWorker(): Promise<ChildProcess> {
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], {
        env: {
          ...process.env,
          CS_TEST_TEMPORAL_ADDRESS: inject('temporalAddress'),
          CS_TEST_TASK_QUEUE: h.taskQueues.connector('billing'),
          CS_TEST_SQLITE_FILE: h.identity!.database.location,
          CS_TEST_TARGET_HOST: target.host,
          CS_TEST_IDEMPOTENCY: idempotency,
          CS_TEST_PAYLOAD_KEY: payloadKey,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.stdout?.on('data', (d: Buffer) => {
          if (d.toString().includes('ready')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`connector worker exited with ${code}`)));
      });
      return child;
    }

    it('when the worker dies with 30 calls in flight, then every request ends and duplicates follow the connector’s idempotency', async () => {
      target.delay(1_500);
      const first = await startConnectorWorker();
      const states = await Promise.all(Array.from({ length: 30 }, () => submitRead(h)));
      await eventually(
        async () => target.received,
        (n) => n >= 30,
        60_000,
      );
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      target.delay(0);
      await startConnectorWorker();

      const done = await Promise.all(states.map((s) => terminal(h, s.requestId, 120_000)));
      let duplicates = 0;
      for (const s of done) {
        const calls = target.callsFor(s.requestId);
        if (idempotency === 'none') {
          expect(calls.length).toBeLessThanOrEqual(1);
          if (s.status === 'failed') expect(s.outcome?.unknown).toBe(true);
          else expect(s.status).toBe('succeeded');
        } else {
          expect(s.status).toBe('succeeded');
          expect(calls.length).toBeGreaterThanOrEqual(1);
          for (const c of calls) expect(c.headers['idempotency-key']).toBe(s.requestId);
        }
        duplicates += Math.max(0, calls.length - 1);
      }
      if (idempotency === 'none') {
        expect(duplicates).toBe(0);
        // The calls were in flight when the worker died: their requests cannot have been told they succeeded.
        expect(done.filter((s) => s.outcome?.unknown).length).toBeGreaterThan(0);
      } else {
        expect(duplicates).toBeGreaterThan(0);
      }
    }, 240_000);
  });
}
