// State that API replicas share instead of keeping per process (src/replica-state): per-agent rate limits, the Slack
// request signatures already seen (replay memory) and each Slack channel's next free send slot. Times are epoch ms
// as double precision, a number in both dialects.
import type { Kysely } from 'kysely';

/** Creates the replica state tables. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rate_limits')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('tat_ms', 'double precision', (c) => c.notNull())
    .addColumn('rate', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('slack_replays')
    .addColumn('signature_hash', 'text', (c) => c.primaryKey())
    .addColumn('expires_ms', 'double precision', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('slack_channel_pace')
    .addColumn('channel', 'text', (c) => c.primaryKey())
    .addColumn('next_ms', 'double precision', (c) => c.notNull())
    .execute();
}

/** Drops them. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('slack_channel_pace').execute();
  await db.schema.dropTable('slack_replays').execute();
  await db.schema.dropTable('rate_limits').execute();
}
