// The production topology when what it depends on goes away: the Temporal server stopped for a while (one minute by
// default; COUNTERSIGN_TOPOLOGY_TEMPORAL_OUTAGE_MS shortens it) and started again, and the registry's PostgreSQL
// unreachable and back (through a proxy that drops every connection, as a restart does, without disturbing the
// shared PostgreSQL the Temporal server itself uses).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadSettings } from '../../src/config/settings';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import {
  startTopology,
  statusOf,
  submitRefund,
  until,
  waitAllTerminal,
  waitUntilReady,
  type Topology,
} from './support/topology';

const OUTAGE_MS = loadSettings().COUNTERSIGN_TOPOLOGY_TEMPORAL_OUTAGE_MS;
/** Ready again this soon after Temporal is back (the bound). */
const READY_AFTER_MS = 5_000;
/** How long a refusal may take while a dependency is down. */
const FAST_MS = 3_000;

describe('topology: Temporal and PostgreSQL outages', () => {
  let t: Topology;
  let proxy: TcpProxy;

  beforeAll(async () => {
    const db = new URL(inject('topologyDatabaseUrl'));
    proxy = await startTcpProxy({ host: db.hostname, port: Number(db.port || 5432) });
    t = await startTopology({
      name: 'outages',
      env: { COUNTERSIGN_RATE_LIMIT: '10000/h' },
      databaseUrl: (url) => {
        const u = new URL(url);
        u.port = String(proxy.port);
        return u.toString();
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.close();
  });

  const temporal = async (action: 'stop' | 'start') => {
    const res = await fetch(`${inject('topologyControlUrl')}/temporal/${action}`, { method: 'POST' });
    if (res.status !== 204) throw new Error(`temporal ${action}: ${res.status} ${await res.text()}`);
  };
  const timed = async <T>(fn: () => Promise<T>) => {
    const start = Date.now();
    const value = await fn();
    return { value, ms: Date.now() - start };
  };
  const readyz = async (url: string) => (await fetch(url + '/readyz', { signal: AbortSignal.timeout(10_000) })).status;

  it(`when the Temporal server is down for ${OUTAGE_MS / 1000} s, then submits get 503 fast, and within 5 s of its return every replica is ready and parked requests are intact`, async () => {
    const parked: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await submitRefund(t.replicas[i % 2]!.url, { amount: 5_000 });
      expect(res.requestStatus).toBe('pending_approval');
      parked.push(res.id!);
    }
    await temporal('stop');
    const stoppedAt = Date.now();
    const slow: number[] = [];
    const answers = new Set<number>();
    // Probe both replicas through the outage, as agents and a load balancer would.
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      for (const r of t.replicas) {
        const submit = await timed(() => submitRefund(r.url));
        const ready = await timed(() => readyz(r.url));
        answers.add(submit.value.status).add(ready.value);
        if (submit.ms > FAST_MS) slow.push(submit.ms);
        if (ready.ms > FAST_MS) slow.push(ready.ms);
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect([...answers]).toEqual([503]);
    expect(slow).toEqual([]);

    await temporal('start');
    const back = Date.now();
    await waitUntilReady(
      t.replicas.map((r) => r.url),
      30_000,
    );
    const readyAfterMs = Date.now() - back;
    process.stderr.write(`ready ${readyAfterMs} ms after a ${OUTAGE_MS} ms Temporal outage\n`);
    expect(readyAfterMs).toBeLessThanOrEqual(READY_AFTER_MS);

    for (const id of parked) {
      await until(async () => (await statusOf(t.replicas[1]!.url, t.operator, id)) === 'pending_approval', 30_000);
    }
    const decided = await fetch(`${t.replicas[1]!.url}/v1/action-requests/${parked[0]}/decisions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${t.operator}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ decision: 'approve', reason: 'after the outage' }),
    });
    expect(decided.status, await decided.clone().text()).toBe(200);
    const final = await waitAllTerminal(t.replicas[0]!.url, t.operator, [parked[0]!], 60_000);
    expect(final.get(parked[0]!)).toBe('succeeded');
    expect(t.target.callsFor(parked[0]!)).toHaveLength(1);
    const after = await submitRefund(t.replicas[0]!.url);
    expect(after.status).toBe(201);
  });

  // A pg client checked out of the pool when its connection is cut (a query in flight) used to emit an unhandled
  // 'error' event that ended the replica: the submit's connection closed without an answer. Every client now has a
  // listener of its own (src/db/database.ts; test/integration/postgres-connection-loss.test.ts).
  it('when the registry database drops every connection and refuses new ones, then submits fail closed with 503 and the replicas recover when it is back', async () => {
    const parked = await submitRefund(t.replicas[0]!.url, { amount: 5_000 });
    expect(parked.requestStatus).toBe('pending_approval');
    await proxy.stop();
    try {
      for (const r of t.replicas) {
        const submit = await timed(() => submitRefund(r.url));
        expect(submit.value.status).toBe(503);
        expect(submit.ms).toBeLessThanOrEqual(FAST_MS + 2_000);
        await until(async () => (await readyz(r.url)) === 503, 30_000);
      }
      expect(t.target.calls.filter((c) => c.headers['idempotency-key'] === parked.id)).toEqual([]);
    } finally {
      await proxy.start();
    }
    await waitUntilReady(
      t.replicas.map((r) => r.url),
      30_000,
    );
    for (const r of t.replicas) expect((await submitRefund(r.url)).status).toBe(201);
    expect(await statusOf(t.replicas[1]!.url, t.operator, parked.id!)).toBe('pending_approval');
  });
});
