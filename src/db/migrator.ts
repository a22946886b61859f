// One migration set for both dialects, listed in ./migration-list.ts (every file in ./migrations named
// `NNNN_<what>.ts`), applied in name order; features add theirs with the next free number and never edit an applied one.
import { readdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { Migrator, sql, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import { isPostgres, type UntypedDatabase } from './dialect';
import { MIGRATIONS } from './migration-list';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/** The listed migrations (what the build bundles). */
export const listedMigrationProvider: MigrationProvider = { getMigrations: () => Promise.resolve({ ...MIGRATIONS }) };

const MIGRATION_FILE = /^(\d{4}_[a-z0-9_]+)\.(ts|js|mjs)$/;

/** Finds the migrations in a folder by file name (source checkouts and tests); each exports `up` (and `down`). */
export function folderMigrationProvider(dir: string = MIGRATIONS_DIR): MigrationProvider {
  return {
    async getMigrations() {
      const migrations: Record<string, Migration> = {};
      for (const file of (await readdir(dir)).sort()) {
        const match = MIGRATION_FILE.exec(file);
        if (!match?.[1] || file.endsWith('.d.ts')) continue;
        const mod = (await import(pathToFileURL(join(dir, file)).href)) as Partial<Migration>;
        if (typeof mod.up !== 'function') throw new Error(`migration ${file} exports no up()`);
        migrations[match[1]] = { up: mod.up, ...(mod.down ? { down: mod.down } : {}) };
      }
      return migrations;
    },
  };
}

/**
 * A Migrator over the project's migrations (or those in `dir`); `schema` pins its bookkeeping tables to one PostgreSQL
 * schema.
 */
export function createMigrator(db: UntypedDatabase, dir?: string, schema?: string): Migrator {
  return new Migrator({
    db,
    provider: dir ? folderMigrationProvider(dir) : listedMigrationProvider,
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
}

/** PostgreSQL errors of a catalog read racing another schema's DDL: invalid_schema_name, undefined_table, undefined_column. */
const INTROSPECTION_RACES = new Set(['3F000', '42P01', '42703']);

/** Applies every pending migration; throws with the failing migration's name and cause. */
export async function migrateToLatest(db: UntypedDatabase, dir?: string): Promise<MigrationResultSet> {
  // Without a pinned schema, Kysely takes another schema's kysely_migration table for this one's (it looks across all
  // schemas), so a second Countersign schema in the same PostgreSQL database would never migrate.
  const schema = isPostgres(db)
    ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
    : undefined;
  let result = await createMigrator(db, dir, schema).migrateToLatest();
  // Kysely's PostgreSQL introspection reads every schema of the database; one dropped meanwhile (tests drop theirs
  // as they finish, another deployment migrates its own) fails it with invalid_schema_name, undefined_table or
  // undefined_column before any migration ran. Our own schema is unaffected, so trying again is safe.
  const racedIntrospection = (r: MigrationResultSet) =>
    isPostgres(db) &&
    INTROSPECTION_RACES.has(pgErrorCode(r.error) ?? '') &&
    !(r.results ?? []).some((m) => m.status === 'Error');
  for (let attempt = 1; attempt < 5 && racedIntrospection(result); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    result = await createMigrator(db, dir, schema).migrateToLatest();
  }
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed`, { cause: result.error });
  }
  return result;
}

function pgErrorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}
