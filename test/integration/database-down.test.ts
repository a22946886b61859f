// The registry database unreachable: the driver's real connection errors map to 503 not_ready with Retry-After (never
// 500 internal), and the readiness check reports the database down. A port nothing listens on plays the stopped server.
import { createServer, type AddressInfo } from 'node:net';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/schema';
import { toAppError } from '../../src/http/problems';
import { createReadiness, databaseCheck } from '../../src/http/readiness';

/** A loopback port that was free a moment ago: connecting to it is refused, as to a stopped PostgreSQL. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('registry database unreachable', () => {
  let db: Kysely<Database>;
  beforeAll(async () => {
    const pool = new pg.Pool({
      host: '127.0.0.1',
      port: await closedPort(),
      user: 'x',
      database: 'x',
      connectionTimeoutMillis: 1_000,
    });
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  });
  afterAll(async () => {
    await db?.destroy();
  });

  it('when a query cannot reach PostgreSQL, then the error answers 503 not_ready with Retry-After, not 500', async () => {
    const err = await db
      .selectFrom('kill_switches')
      .selectAll()
      .execute()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeDefined();
    const problem = toAppError(err);
    expect(problem.code).toBe('not_ready');
    expect(problem.status).toBe(503);
    expect(problem.headers['Retry-After']).toBe('5');
    expect(problem.message).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
    // A bug is still a 500: only reachability maps to 503.
    expect(toAppError(new TypeError('cannot read properties of undefined')).code).toBe('internal');
  });

  it('when PostgreSQL is unreachable, then /readyz reports the database down and not ready', async () => {
    expect(await databaseCheck(db)).toMatch(/^unreachable/);
    const readiness = createReadiness({
      temporal: { readiness: () => Promise.resolve({ temporal: 'ok', worker: 'ok', ready: true }) },
      database: { db },
    });
    const answer = await readiness();
    expect(answer.ready).toBe(false);
    expect(answer.checks.database).toMatch(/^unreachable/);
  });
});
