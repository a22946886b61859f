// Readiness: Temporal answers, a worker polls the control task queue, and the registry database answers. Without a
// worker, requests would be accepted and then sit unprocessed; without the database nobody can be authenticated; so
// the API reports not ready rather than take them.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema';
import type { TemporalAdapter } from '../temporal/adapter';
import type { HttpDeps } from './app';

const DATABASE_TIMEOUT_MS = 2_000;

/** A readiness probe over the Temporal adapter and, with agent identity, the registry database. */
export function createReadiness(opts: {
  temporal: Pick<TemporalAdapter, 'readiness'>;
  database?: { db: Kysely<Database> };
}): HttpDeps['readiness'] {
  return async () => {
    const [temporal, database] = await Promise.all([
      opts.temporal.readiness(),
      opts.database ? databaseCheck(opts.database.db) : Promise.resolve(undefined),
    ]);
    const checks: Record<string, string> = { temporal: temporal.temporal, worker: temporal.worker };
    if (database !== undefined) checks.database = database;
    return { ready: temporal.ready && (database === undefined || database === 'ok'), checks };
  };
}

/** `select 1`, bounded: a database that hangs reads as down. */
export async function databaseCheck(db: Kysely<Database>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('unreachable: no answer within 2 s'), DATABASE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([sql`select 1`.execute(db).then(() => 'ok'), timeout]);
  } catch (err) {
    return `unreachable: ${err instanceof Error ? err.message.split('\n')[0]?.slice(0, 200) : 'error'}`;
  } finally {
    clearTimeout(timer);
  }
}
