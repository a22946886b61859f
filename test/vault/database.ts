// The databases the vault, receipt and usage suites run against: SQLite always, PostgreSQL when DATABASE_URL is set
// (`export DATABASE_URL="$(bash scripts/ci-postgres.sh)"`). Each open gets a fresh, migrated database of its own.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { loadSettings } from '../../src/config/settings';
import { openDatabase, type DatabaseHandle, type Dialect } from '../../src/db/database';

const settings = loadSettings();

/** The dialects to run: PostgreSQL joins when a server is configured. */
export const TEST_DIALECTS: Dialect[] = settings.DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

/** Opens a fresh migrated database; `close()` removes it. */
export async function openTestDatabase(dialect: Dialect): Promise<DatabaseHandle> {
  if (dialect === 'postgres') {
    const schema = `t_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const handle = await openDatabase({ databaseUrl: settings.DATABASE_URL, postgresSchema: schema });
    return {
      ...handle,
      async close() {
        await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(handle.db);
        await handle.close();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'countersign-db-'));
  const handle = await openDatabase({ sqliteFile: join(dir, 'test.db') });
  return {
    ...handle,
    async close() {
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
