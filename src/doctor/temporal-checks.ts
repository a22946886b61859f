// The doctor's Temporal checks: the frontend answers, the namespace exists with Countersign's search attributes, and
// a worker polls each task queue. The only Temporal client calls of `countersign doctor`, kept here so they can move
// into the Temporal adapter unchanged.
import { Client, Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../contracts/names';
import type { DoctorCheck } from './checks';

// temporal.api.enums.v1 values; @temporalio/proto is not a direct dependency, so its enums are not imported.
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;
/** IndexedValueType names by the number the operator service answers with. */
const INDEXED_VALUE_TYPES: Record<number, string> = {
  1: 'TEXT',
  2: 'KEYWORD',
  3: 'INT',
  4: 'DOUBLE',
  5: 'BOOL',
  6: 'DATETIME',
  7: 'KEYWORD_LIST',
};
/** The server lists pollers for minutes after they stop; a live worker re-polls at least every ~70 s. */
const POLLER_FRESH_MS = 2 * 60_000;

export interface TemporalCheckOptions {
  address: string;
  namespace: string;
  /** Queues with the kinds of task a worker must poll them for. */
  taskQueues: { name: string; kinds: ('workflow' | 'activity')[] }[];
  timeoutMs: number;
}

/** Runs the Temporal checks; when the frontend does not answer, the others fail as "not checked". */
export async function checkTemporal(options: TemporalCheckOptions): Promise<DoctorCheck[]> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: options.address, connectTimeout: options.timeoutMs });
    await connection.withDeadline(Date.now() + options.timeoutMs, () => connection.workflowService.getSystemInfo({}));
  } catch (err) {
    const why = `not checked: Temporal unreachable`;
    return [
      { name: 'temporal', ok: false, detail: `${options.address} unreachable (${message(err)})` },
      { name: 'namespace', ok: false, detail: why },
      { name: 'search attributes', ok: false, detail: why },
      ...options.taskQueues.map((q) => ({ name: `worker ${q.name}`, ok: false, detail: why })),
    ];
  }
  const client = new Client({ connection, namespace: options.namespace });
  const deadline = <T>(fn: () => Promise<T>) => connection.withDeadline(Date.now() + options.timeoutMs, fn);
  const out: DoctorCheck[] = [{ name: 'temporal', ok: true, detail: `${options.address} answers` }];
  try {
    let namespaceOk = false;
    try {
      await deadline(() => client.workflowService.describeNamespace({ namespace: options.namespace }));
      namespaceOk = true;
      out.push({ name: 'namespace', ok: true, detail: `${options.namespace} exists` });
    } catch (err) {
      out.push({ name: 'namespace', ok: false, detail: `${options.namespace}: ${message(err)}` });
    }
    if (namespaceOk) {
      out.push(await searchAttributes(client, options.namespace, deadline));
      for (const q of options.taskQueues) out.push(await pollers(client, options.namespace, q, deadline));
    } else {
      out.push({ name: 'search attributes', ok: false, detail: 'not checked: no namespace' });
      for (const q of options.taskQueues) out.push({ name: `worker ${q.name}`, ok: false, detail: 'not checked' });
    }
  } finally {
    await connection.close();
  }
  return out;
}

async function searchAttributes(
  client: Client,
  namespace: string,
  deadline: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<DoctorCheck> {
  try {
    const response = await deadline(() => client.connection.operatorService.listSearchAttributes({ namespace }));
    const custom = (response.customAttributes ?? {}) as Record<string, number>;
    const problems = Object.values(SEARCH_ATTRIBUTES).flatMap((key) => {
      const actual = custom[key.name];
      if (actual === undefined) return [`${key.name} missing`];
      const type = INDEXED_VALUE_TYPES[actual] ?? String(actual);
      return type === key.type ? [] : [`${key.name} is ${type}, expected ${key.type}`];
    });
    return problems.length === 0
      ? {
          name: 'search attributes',
          ok: true,
          detail: Object.values(SEARCH_ATTRIBUTES)
            .map((k) => k.name)
            .join(', '),
        }
      : {
          name: 'search attributes',
          ok: false,
          detail: `${problems.join('; ')} (register them: temporal operator search-attribute create)`,
        };
  } catch (err) {
    return { name: 'search attributes', ok: false, detail: message(err) };
  }
}

async function pollers(
  client: Client,
  namespace: string,
  queue: TemporalCheckOptions['taskQueues'][number],
  deadline: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<DoctorCheck> {
  const name = `worker ${queue.name}`;
  try {
    const counts: string[] = [];
    const missing: string[] = [];
    for (const kind of queue.kinds) {
      const response = await deadline(() =>
        client.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: queue.name, kind: TASK_QUEUE_KIND_NORMAL },
          taskQueueType: kind === 'workflow' ? TASK_QUEUE_TYPE_WORKFLOW : TASK_QUEUE_TYPE_ACTIVITY,
        }),
      );
      const now = Date.now();
      const live = (response.pollers ?? []).filter((p) => now - tsToMs(p.lastAccessTime) < POLLER_FRESH_MS).length;
      if (live === 0) missing.push(kind);
      counts.push(`${live} ${kind} poller${live === 1 ? '' : 's'}`);
    }
    return missing.length === 0
      ? { name, ok: true, detail: counts.join(', ') }
      : { name, ok: false, detail: `no worker polls it for ${missing.join(' and ')} tasks` };
  } catch (err) {
    return { name, ok: false, detail: message(err) };
  }
}

function message(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'error';
}
