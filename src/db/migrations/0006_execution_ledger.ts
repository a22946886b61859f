// The execution ledger: one row per attempt of a connector call, written before the downstream call and completed
// with its outcome after (src/ledger). It is what lets a connector without idempotency keys never send twice.
import type { Kysely } from 'kysely';

/** Creates the execution ledger. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('execution_attempts')
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('connector', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('outcome', 'text')
    .addColumn('http_status', 'integer')
    .addColumn('summary', 'text')
    .addPrimaryKeyConstraint('execution_attempts_pk', ['request_id', 'attempt'])
    .execute();
  await db.schema.createIndex('execution_attempts_outcome').on('execution_attempts').columns(['outcome']).execute();
}

/** Drops the execution ledger. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('execution_attempts').ifExists().execute();
}
