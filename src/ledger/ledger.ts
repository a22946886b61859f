// The execution ledger over the database: an attempt row before each downstream call, its outcome after. A row
// without an outcome, or with `unknown`, is an attempt that may have reached the downstream.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';

/**
 * How an attempt ended. `not_sent`: refused before anything left (connection refused); `retry_later`: the downstream
 * declined it for now (429, 503); `maybe_sent`: it may have arrived (timeout, reset after connecting); `unknown`: the
 * request's execution ends here, not re-sent because an attempt may have arrived (the operator reconciles).
 */
export type AttemptOutcome =
  'succeeded' | 'rejected' | 'failed' | 'not_sent' | 'retry_later' | 'maybe_sent' | 'unknown';

/** One attempt row (`outcome` null: started, end not recorded, as after a crash). */
export interface AttemptRecord {
  requestId: string;
  attempt: number;
  connector: string;
  action: string;
  startedAt: string;
  finishedAt: string | null;
  outcome: AttemptOutcome | null;
  httpStatus: number | null;
  summary: string | null;
}

export type LedgerTables = {
  execution_attempts: {
    request_id: string;
    attempt: number;
    connector: string;
    action: string;
    started_at: string;
    finished_at: string | null;
    outcome: string | null;
    http_status: number | null;
    summary: string | null;
  };
};

/** What the connector activity needs of the ledger. */
export interface ExecutionLedger {
  /** Every attempt recorded for a request, oldest first. */
  attempts(requestId: string): Promise<AttemptRecord[]>;
  /** Records an attempt before its downstream call. Throws when the database cannot take it (nothing is sent then). */
  begin(entry: { requestId: string; attempt: number; connector: string; action: string }): Promise<void>;
  /** Records how an attempt ended. */
  finish(
    requestId: string,
    attempt: number,
    outcome: AttemptOutcome,
    detail?: { httpStatus?: number; summary?: string },
  ): Promise<void>;
  /** The ids among `requestIds` whose execution ended with outcome `unknown`. */
  unknownOutcomes(requestIds: readonly string[]): Promise<Set<string>>;
}

/** A ledger over the Countersign database (SQLite or PostgreSQL). */
export function createExecutionLedger(db: Kysely<Database>, now: () => Date = () => new Date()): ExecutionLedger {
  const ledger = db.withTables<LedgerTables>();
  return {
    async attempts(requestId) {
      const rows = await ledger
        .selectFrom('execution_attempts')
        .selectAll()
        .where('request_id', '=', requestId)
        .orderBy('attempt')
        .execute();
      return rows.map((r) => ({
        requestId: r.request_id,
        attempt: r.attempt,
        connector: r.connector,
        action: r.action,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        outcome: r.outcome as AttemptOutcome | null,
        httpStatus: r.http_status,
        summary: r.summary,
      }));
    },
    async begin(entry) {
      // A retried `begin` for the same attempt (the activity re-ran after a ledger error) starts the row afresh.
      await ledger
        .insertInto('execution_attempts')
        .values({
          request_id: entry.requestId,
          attempt: entry.attempt,
          connector: entry.connector,
          action: entry.action,
          started_at: now().toISOString(),
          finished_at: null,
          outcome: null,
          http_status: null,
          summary: null,
        })
        .onConflict((oc) =>
          oc.columns(['request_id', 'attempt']).doUpdateSet({ started_at: now().toISOString(), outcome: null }),
        )
        .execute();
    },
    async finish(requestId, attempt, outcome, detail = {}) {
      await ledger
        .updateTable('execution_attempts')
        .set({
          finished_at: now().toISOString(),
          outcome,
          http_status: detail.httpStatus ?? null,
          summary: detail.summary ?? null,
        })
        .where('request_id', '=', requestId)
        .where('attempt', '=', attempt)
        .execute();
    },
    async unknownOutcomes(requestIds) {
      if (requestIds.length === 0) return new Set();
      const rows = await ledger
        .selectFrom('execution_attempts')
        .select('request_id')
        .distinct()
        .where('request_id', 'in', [...requestIds])
        .where('outcome', '=', 'unknown')
        .execute();
      return new Set(rows.map((r) => r.request_id));
    },
  };
}
