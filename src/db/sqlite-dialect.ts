// SQLite without freezing the process. better-sqlite3 is synchronous: with a long busy timeout, a statement that
// waits for another writer's lock blocks the event loop for all of it (no heartbeats, no timers, no HTTP). Here
// SQLite waits only a few milliseconds itself; a busy statement is retried asynchronously with backoff, so the event
// loop runs between tries, and after `busyRetryMs` it fails (a connector attempt then fails retryably).
import {
  CompiledQuery,
  SqliteDialect,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type SqliteDialectConfig,
  type TransactionSettings,
} from 'kysely';

/** How long SQLite itself blocks on a lock before answering busy. */
export const SQLITE_BUSY_TIMEOUT_MS = 10;
/** How long a statement is retried asynchronously while the database is locked, by default. */
export const DEFAULT_BUSY_RETRY_MS = 5_000;

export interface RetryingSqliteDialectConfig extends SqliteDialectConfig {
  /** Total time to keep retrying a busy statement. */
  busyRetryMs?: number;
}

/** A SqliteDialect whose busy statements are retried off the event loop; transactions take the write lock upfront. */
export class RetryingSqliteDialect extends SqliteDialect {
  readonly #busyRetryMs: number;

  constructor(config: RetryingSqliteDialectConfig) {
    super(config);
    this.#busyRetryMs = config.busyRetryMs ?? DEFAULT_BUSY_RETRY_MS;
  }

  override createDriver(): Driver {
    return new RetryingDriver(super.createDriver(), this.#busyRetryMs);
  }
}

/** True for SQLite's "the database is locked by another connection" answers. */
export function isSqliteBusy(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
}

class RetryingDriver implements Driver {
  readonly #inner: Driver;
  readonly #busyRetryMs: number;
  #inTransaction = false;

  constructor(inner: Driver, busyRetryMs: number) {
    this.#inner = inner;
    this.#busyRetryMs = busyRetryMs;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.#inner.acquireConnection();
    return {
      executeQuery: <R>(query: CompiledQuery): Promise<QueryResult<R>> =>
        // Inside a transaction a retried statement could see another snapshot; the write lock taken at `begin
        // immediate` keeps other writers out, so only statements outside one are retried.
        this.#inTransaction ? connection.executeQuery<R>(query) : this.#retry(() => connection.executeQuery<R>(query)),
      streamQuery: <R>(query: CompiledQuery, chunkSize?: number) => connection.streamQuery<R>(query, chunkSize),
    };
  }

  async beginTransaction(connection: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    // IMMEDIATE takes the write lock now, where waiting for it can be retried, instead of at the first write inside.
    await this.#retry(() => connection.executeQuery(CompiledQuery.raw('begin immediate')));
    this.#inTransaction = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#retry(() => connection.executeQuery(CompiledQuery.raw('commit')));
    this.#inTransaction = false;
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    this.#inTransaction = false;
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(connection);
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }

  async #retry<T>(run: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#busyRetryMs;
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      try {
        return await run();
      } catch (err) {
        if (!isSqliteBusy(err) || Date.now() + delay > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
