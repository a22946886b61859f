// Opens the one database: PostgreSQL when DATABASE_URL is set (shared by API replicas), else a SQLite file in the data
// directory. Both speak through Kysely with the same row types and the same migrations.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect } from 'kysely';
import { migrateToLatest } from './migrator';
import { RetryingSqliteDialect, SQLITE_BUSY_TIMEOUT_MS } from './sqlite-dialect';

export { isPostgres } from './dialect';
import type { Logger } from '../logger';
import type { Database } from './schema';

export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where it lives, without credentials: a file path or host/database. */
  location: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres://… ; when absent, SQLite. */
  databaseUrl?: string;
  /** Directory of the SQLite file (countersign.db). */
  dataDir?: string;
  /** An explicit SQLite file (`:memory:` works); wins over dataDir. */
  sqliteFile?: string;
  /** PostgreSQL schema to use (tests give each suite its own); created when absent. */
  postgresSchema?: string;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /** SQLite: how long a statement waits (asynchronously) for another writer's lock before failing. */
  busyRetryMs?: number;
  /** Receives connection-pool errors (PostgreSQL). */
  logger?: Logger;
}

/** The SQLite file name inside the data directory. */
export const SQLITE_FILE_NAME = 'countersign.db';

/** Opens (and by default migrates) the database chosen by the options. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const handle = options.databaseUrl
    ? await openPostgres(options.databaseUrl, options.postgresSchema, options.logger)
    : openSqlite(options);
  if (options.migrate ?? true) {
    try {
      await migrateToLatest(handle.db);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }
  return handle;
}

function openSqlite(options: OpenDatabaseOptions): DatabaseHandle {
  const file = options.sqliteFile ?? join(options.dataDir ?? '.countersign', SQLITE_FILE_NAME);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const database = new SqliteDatabase(file);
  // WAL lets the CLI read while the server writes. Another writer's lock is waited out by retrying asynchronously
  // (RetryingSqliteDialect), never by blocking the event loop in SQLite's own busy handler for long.
  database.pragma('journal_mode = WAL');
  database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  database.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({
    dialect: new RetryingSqliteDialect({
      database,
      ...(options.busyRetryMs !== undefined ? { busyRetryMs: options.busyRetryMs } : {}),
    }),
  });
  return { db, dialect: 'sqlite', location: file, close: () => db.destroy() };
}

async function openPostgres(
  url: string,
  schema: string | undefined,
  logger: Logger | undefined,
): Promise<DatabaseHandle> {
  if (schema && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid PostgreSQL schema name "${schema}"`);
  // Loaded here: the SQLite default (dev mode, tests) never needs the driver, and it costs start-up time.
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: 5_000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // pg emits a dead socket's error on the client, and the pool listens on a client only while it is idle: one checked
  // out (a query in flight when PostgreSQL restarts or the network drops) would crash the process with an unhandled
  // 'error' event. So every client gets a listener of its own; the query fails with the error, and the pool drops the
  // client when it is released (it is no longer queryable).
  pool.on('connect', (client) => {
    client.on('error', (err) => logger?.warn({ err: err.message }, 'database: connection lost'));
  });
  // The pool re-emits an idle client's error (the client's own listener has logged it); the pool drops that client
  // and the next query opens a new one. Without a listener here the re-emitted error would crash the process.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const parsed = new URL(url);
  const location = `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}${schema ? ` (schema ${schema})` : ''}`;
  try {
    if (schema) await db.schema.createSchema(schema).ifNotExists().execute();
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { db, dialect: 'postgres', location, close: () => db.destroy() };
}
