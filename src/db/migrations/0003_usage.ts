// Exposure budgets and anomaly signals: one row per executed request, plus its numeric parameters (src/usage).
import type { Kysely } from 'kysely';

/** Creates the usage tables. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('usage_events')
    .addColumn('request_id', 'text', (c) => c.primaryKey())
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .execute();
  await db.schema
    .createIndex('usage_events_agent_action')
    .on('usage_events')
    .columns(['agent_id', 'action', 'started_at'])
    .execute();
  await db.schema.createIndex('usage_events_agent').on('usage_events').columns(['agent_id', 'started_at']).execute();

  await db.schema
    .createTable('usage_amounts')
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('value', 'double precision', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_amounts_pk', ['request_id', 'field'])
    .execute();
}

/** Drops the usage tables. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('usage_amounts').ifExists().execute();
  await db.schema.dropTable('usage_events').ifExists().execute();
}
