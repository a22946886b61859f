// The production topology losing processes: a worker killed with SIGKILL in the middle of executions and started
// again, and the API replicas restarted one after the other under a steady submit load.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startTopology,
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

  // With the execution ledger (`idempotency: none` connectors): a downstream that ignores keys is never re-sent an
  // attempt that may have arrived; the request ends `failed` with outcome `unknown` instead. Assert it here.
  it.todo(
    'when a connector with idempotency: none loses its worker mid-attempt, then the downstream sees at most one call',
  );

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
