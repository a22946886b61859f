// The production topology losing processes: a worker killed with SIGKILL in the middle of executions and started
// again, and the API replicas restarted one after the other under a steady submit load.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  requestOf,
  startTopology,
  submitCredit,
  submitRefund,
  until,
  waitAllTerminal,
  waitUntilReady,
  type Replica,
  type Submitted,
  type Topology,
} from './support/topology';

describe('topology: workers and replicas lost and restarted', () => {
  let t: Topology;

  beforeAll(async () => {
    // The downstream takes a while to answer, so a kill lands while attempts are in flight.
    t = await startTopology({ name: 'workers', env: { COUNTERSIGN_RATE_LIMIT: '10000/h' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('when both workers are killed with SIGKILL mid-execution and started again, then every request ends and none executes twice under different keys', async () => {
    t.target.delay(1_500);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await submitRefund(t.replicas[i % 2]!.url);
      expect(res.status, JSON.stringify(res)).toBe(201);
      ids.push(res.id!);
    }
    await until(async () => t.target.inFlight > 0, 60_000);
    const inFlightAtKill = t.target.inFlight;
    await Promise.all([t.connector.stop('SIGKILL', 0), t.control.stop('SIGKILL', 0)]);
    t.target.delay(0);
    [t.control, t.connector] = await Promise.all([t.startControlWorker(), t.startConnectorWorker()]);

    const final = await waitAllTerminal(t.replicas[0]!.url, t.operator, ids, 120_000);
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect([...final.values()].every((s) => s === 'succeeded' || s === 'failed')).toBe(true);
    const submitted = new Set(ids);
    // Every downstream call carries its request's id as the Idempotency-Key: a retry of a killed attempt reaches the
    // downstream under the same key (which it dedupes), never as a second, different operation.
    for (const call of t.target.calls) expect(submitted.has(String(call.headers['idempotency-key']))).toBe(true);
    for (const id of ids) {
      const calls = t.target.callsFor(id);
      if (final.get(id) === 'succeeded') expect(calls.length).toBeGreaterThanOrEqual(1);
      expect(new Set(calls.map((c) => c.body)).size).toBeLessThanOrEqual(1);
    }
  });

  it('when a connector with idempotency: none loses its worker mid-attempt, then the downstream sees at most one call per request and the attempts that may have arrived end failed with outcome unknown', async () => {
    // `accounts.credit` through the `ledger` credential domain, whose downstream ignores Idempotency-Key.
    let worker = await t.startConnectorWorker('ledger');
    const accountOf = new Map<string, string>();
    const submit = async (replica: Replica) => {
      const account = `acct_${randomUUID().replaceAll('-', '')}`;
      const res = await submitCredit(replica.url, account);
      expect(res.status, JSON.stringify(res)).toBe(201);
      accountOf.set(res.id!, account);
      return res.id!;
    };
    const callsTo = (id: string) =>
      t.target.calls.filter((c) => c.path === `/v1/accounts/${accountOf.get(id)}/credits`);
    try {
      // Arrived: the downstream holds every one of these calls, unanswered, when the worker dies.
      t.target.delay(1_500);
      const arrived: string[] = [];
      for (let i = 0; i < 4; i++) arrived.push(await submit(t.replicas[i % 2]!));
      await until(async () => t.target.inFlight === arrived.length, 60_000);
      await worker.stop('SIGKILL', 0);
      t.target.delay(0);
      // Queued: submitted while no worker of the domain runs, so no attempt of theirs has begun.
      const queued: string[] = [];
      for (let i = 0; i < 3; i++) queued.push(await submit(t.replicas[i % 2]!));
      worker = await t.startConnectorWorker('ledger');

      const ids = [...arrived, ...queued];
      const final = await waitAllTerminal(t.replicas[0]!.url, t.operator, ids, 120_000);
      // The killed attempts' calls are answered (to a closed socket) after the delay; count once none is left.
      await until(async () => t.target.inFlight === 0, 10_000);
      for (const id of ids) expect(callsTo(id).length, id).toBeLessThanOrEqual(1);
      for (const id of arrived) {
        expect(final.get(id), id).toBe('failed');
        const request = await requestOf(t.replicas[1]!.url, t.operator, id);
        expect(request?.outcome, id).toMatchObject({ ok: false, unknown: true });
        expect(callsTo(id), id).toHaveLength(1);
        // The restarted worker's next attempt found the killed one open in the ledger and sent nothing.
        await worker.waitForStdout(new RegExp(`"requestId":"${id}"[^\n]*"alert":"execution_outcome_unknown"`), 10_000);
      }
      for (const id of queued) {
        expect(final.get(id), id).toBe('succeeded');
        expect(callsTo(id), id).toHaveLength(1);
      }
      // The list (from Temporal visibility, which trails the workflows a little) says which failures are unknown.
      await until(async () => {
        const list = await fetch(`${t.replicas[0]!.url}/v1/action-requests?status=failed&action=accounts.credit`, {
          headers: { Authorization: `Bearer ${t.operator}` },
        });
        const items = ((await list.json()) as { items: { id: string; outcome?: string }[] }).items;
        return arrived.every((id) => items.find((i) => i.id === id)?.outcome === 'unknown');
      }, 30_000);
    } finally {
      await worker.stop('SIGTERM', 10_000);
    }
  });

  it('when the API replicas are restarted one after the other under steady load, then no request is lost', async () => {
    t.target.delay(0);
    const live: (Replica | undefined)[] = [...t.replicas];
    let stopping = false;
    const outcomes: { key: string; result: Submitted }[] = [];
    let errors5xx = 0;
    let refused = 0;
    // A client behind a load balancer: the next live replica; on a refused connection or a 5xx, the same request (same
    // Idempotency-Key) again on another replica.
    const submitOne = async (n: number) => {
      const key = `rolling-${randomUUID()}`;
      for (let attempt = 0; attempt < 40; attempt++) {
        const candidates = live.filter((r): r is Replica => r !== undefined);
        const replica = candidates[(n + attempt) % Math.max(candidates.length, 1)];
        if (!replica) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        try {
          const result = await submitRefund(replica.url, { idempotencyKey: key });
          if (result.status >= 500) {
            errors5xx += 1;
            continue;
          }
          outcomes.push({ key, result });
          return;
        } catch {
          refused += 1;
        }
      }
      throw new Error(`request ${key} never accepted`);
    };
    const load = (async () => {
      for (let n = 0; !stopping; n++) {
        await submitOne(n);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    for (let i = 0; i < t.replicas.length; i++) {
      const before = outcomes.length;
      await until(async () => outcomes.length >= before + 5, 60_000);
      const old = t.replicas[i]!;
      live[i] = undefined;
      expect(await old.cli.stop('SIGTERM', 15_000)).toBe(0);
      const fresh = await t.startReplica();
      await waitUntilReady([fresh.url], 60_000);
      t.replicas[i] = fresh;
      live[i] = fresh;
    }
    const after = outcomes.length;
    await until(async () => outcomes.length >= after + 5, 60_000);
    stopping = true;
    await load;

    expect(outcomes.every((o) => o.result.status === 201 || o.result.status === 200)).toBe(true);
    const ids = outcomes.map((o) => o.result.id!);
    const final = await waitAllTerminal(t.replicas[0]!.url, t.operator, ids, 120_000);
    expect([...final.values()].filter((s) => s !== 'succeeded')).toEqual([]);
    for (const id of ids) expect(t.target.callsFor(id).length).toBeGreaterThanOrEqual(1);
    // A replica that is shutting down finishes what it took; what it refused was sent again, so at most a few 5xx.
    expect(errors5xx).toBeLessThanOrEqual(4);
    process.stderr.write(`rolling restart: ${ids.length} requests, ${errors5xx} 5xx, ${refused} refused connections\n`);
  });
});
