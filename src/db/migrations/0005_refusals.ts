// The boundary-testing signal: one row per refusal of an agent (a policy denial, an action outside its allowed list, a
// refused scope at the token endpoint), counted over a window by `signals.repeatedRefusals` (src/usage/refusals.ts).
import type { Kysely } from 'kysely';

/** Creates the refusals table. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('agent_refusals')
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('agent_refusals_agent_at').on('agent_refusals').columns(['agent_id', 'at']).execute();
}

/** Drops the refusals table. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('agent_refusals').ifExists().execute();
}
