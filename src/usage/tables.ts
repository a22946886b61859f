// Row types of the usage tables (created by src/db/migrations/0003_usage.ts), reached with `db.withTables<UsageTables>()`.

/** started: the downstream call is under way or its end unknown (counts); succeeded (counts); rejected (does not). */
export type UsageStatus = 'started' | 'succeeded' | 'rejected';

/** One execution of one request. */
export type UsageEventRow = {
  request_id: string;
  agent_id: string;
  action: string;
  status: UsageStatus;
  started_at: string;
  finished_at: string | null;
};

/** A numeric parameter of an execution (`amount`, `line.total`), what `usage.sum` adds up. */
export type UsageAmountRow = {
  request_id: string;
  field: string;
  value: number;
};

export type UsageTables = {
  usage_events: UsageEventRow;
  usage_amounts: UsageAmountRow;
};
