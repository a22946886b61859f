// The credential vault: envelope-encrypted secret versions and the log of every read (src/vault).
import type { Kysely } from 'kysely';

/** Creates the vault tables. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('vault_secrets')
    .addColumn('secret_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('wrapped_key', 'text', (c) => c.notNull())
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('vault_secrets_pk', ['secret_id', 'version'])
    .execute();

  await db.schema
    .createTable('vault_access_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('secret_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer')
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('accessed_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('vault_access_log_secret')
    .on('vault_access_log')
    .columns(['secret_id', 'accessed_at'])
    .execute();
  await db.schema.createIndex('vault_access_log_request').on('vault_access_log').column('request_id').execute();
}

/** Drops the vault tables. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('vault_access_log').ifExists().execute();
  await db.schema.dropTable('vault_secrets').ifExists().execute();
}
