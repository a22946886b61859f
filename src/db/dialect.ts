// Which dialect a Kysely instance speaks; migrations branch on it for column types only.
import { PostgresAdapter, type Kysely } from 'kysely';

/** The database as migrations see it: untyped, since each migration runs against the schema of its own time. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's Migration interface takes Kysely<any>
export type UntypedDatabase = Kysely<any>;

/** True when the Kysely instance talks to PostgreSQL. */
export function isPostgres(db: UntypedDatabase): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
