// Runs a suite against both real databases: SQLite (a file in a temp directory) and PostgreSQL (DATABASE_URL, or the
// server scripts/ci-postgres.sh starts). Each test gets a freshly migrated database (a new PostgreSQL schema).
// Without a reachable PostgreSQL the PostgreSQL half is skipped with the reason printed, except under CI=true where
// it fails.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, it } from 'vitest';
import { loadSettings } from '../../src/config/settings';
import { openDatabase, type DatabaseHandle, type Dialect } from '../../src/db/database';

/** The URL scripts/ci-postgres.sh prints with its defaults. */
export const DEFAULT_TEST_DATABASE_URL = 'postgres://countersign:countersign@127.0.0.1:5432/countersign';

const settings = loadSettings();
/** The PostgreSQL the suites use: DATABASE_URL, or the default of scripts/ci-postgres.sh. */
export const postgresUrl = settings.DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;
let probe: Promise<string | undefined> | undefined;

/** Undefined when PostgreSQL answers; otherwise why not. */
export function postgresUnavailable(): Promise<string | undefined> {
  probe ??= (async () => {
    const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 3_000 });
    try {
      await client.connect();
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return `PostgreSQL at ${new URL(postgresUrl).host} is unreachable (${why}); run scripts/ci-postgres.sh or set DATABASE_URL`;
    }
    try {
      await client.query('SELECT 1');
      return undefined;
    } finally {
      await client.end();
    }
  })();
  return probe;
}

/**
 * Opens a fresh, migrated database of the dialect; `close` removes it. `databaseUrl` reaches PostgreSQL another way
 * than the test default (through a proxy, say).
 */
export async function openTestDatabase(dialect: Dialect, databaseUrl = postgresUrl): Promise<DatabaseHandle> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-db-'));
    const handle = await openDatabase({ dataDir: dir });
    return {
      ...handle,
      async close() {
        await handle.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const handle = await openDatabase({ databaseUrl, postgresSchema: schema });
  return {
    ...handle,
    async close() {
      await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(handle.db);
      await handle.close();
    },
  };
}

/** Declares the suite once per database; `current()` is the test's own freshly migrated database. */
export async function describeEachDatabase(
  title: string,
  body: (current: () => DatabaseHandle, dialect: Dialect) => void,
): Promise<void> {
  const unavailable = await postgresUnavailable();
  for (const dialect of ['sqlite', 'postgres'] as const) {
    const name = `${title} [${dialect}]`;
    if (dialect === 'postgres' && unavailable) {
      if (settings.CI) {
        describe(name, () => {
          it('when CI runs, then PostgreSQL is reachable', () => {
            throw new Error(unavailable);
          });
        });
      } else {
        process.stderr.write(`skipping "${name}": ${unavailable}\n`);
        describe.skip(name, () => body(() => undefined as never, dialect));
      }
      continue;
    }
    describe(name, () => {
      let handle: DatabaseHandle | undefined;
      beforeEach(async () => {
        handle = await openTestDatabase(dialect);
      });
      afterEach(async () => {
        await handle?.close();
        handle = undefined;
      });
      body(() => {
        if (!handle) throw new Error('no database: call current() inside a test');
        return handle;
      }, dialect);
    });
  }
}

/** A clock the test moves by hand. */
export function manualClock(start = new Date('2026-03-02T10:00:00.000Z')) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
    set(date: Date) {
      now = date.getTime();
    },
  };
}
