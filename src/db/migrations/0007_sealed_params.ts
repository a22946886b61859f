// Sealed secret parameters: the values an action's schema marks secret, taken out of a request before its workflow
// starts and kept here envelope-encrypted until the request ends (src/vault/sealed-params.ts). Apart from the vault's
// connector secrets: these belong to one request and are erased with it.
import type { Kysely } from 'kysely';

/** Creates the sealed parameters table. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sealed_params')
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('seal_id', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('wrapped_key', 'text', (c) => c.notNull())
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sealed_params_pk', ['request_id', 'seal_id', 'path'])
    .execute();
  await db.schema.createIndex('sealed_params_expires_at').on('sealed_params').columns(['expires_at']).execute();
}

/** Drops the sealed parameters table. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sealed_params').ifExists().execute();
}
