// Which dialect a Kysely instance speaks; migrations branch on it for column types only.
import { PostgresAdapter, type Kysely } from 'kysely';

/** True when the Kysely instance talks to PostgreSQL. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the database untyped
export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
