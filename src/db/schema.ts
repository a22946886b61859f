// Row types of the Countersign database, shared by SQLite and PostgreSQL. Times are ISO-8601 UTC strings (they sort as
// text in both dialects); lists and maps are JSON text. Modules owning later migrations declare their own row types
// and reach them with `db.withTables<TheirTables>()`, so this file does not grow with every feature.
import type { Generated, Insertable, Selectable } from 'kysely';

export interface AgentsTable {
  id: string;
  name: string;
  /** Person id of the human accountable for the agent. */
  owner: string;
  description: string;
  risk_tier: string;
  /** JSON array of action names. */
  allowed_actions: string;
  /** active | suspended | decommissioned */
  status: string;
  status_reason: string | null;
  /** A rate such as "60/m"; null: the deployment default. */
  rate_limit: string | null;
  /** config | operator: where the agent was first registered. */
  source: string;
  created_at: string;
  created_by: string;
  updated_at: string;
  last_active_at: string | null;
}

export interface AgentChangesTable {
  id: Generated<number>;
  agent_id: string;
  at: string;
  /** Who made the change: `operator:<id>`, `config`, `cli:<user>`. */
  actor: string;
  /** created | seeded | updated | suspended | resumed | decommissioned | credentials_rotated | credentials_revoked */
  change: string;
  /** JSON object: for updates `{ field: { from, to } }`; otherwise context such as a reason. */
  details: string;
}

export interface AgentCredentialsTable {
  id: string;
  agent_id: string;
  /** SHA-256 (hex) of the client secret; the secret itself is shown once and never stored. */
  secret_hash: string;
  created_at: string;
  created_by: string;
  /** Set when a rotation replaced it: valid until then (the overlap). */
  expires_at: string | null;
  revoked_at: string | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  /** Public JWK (JSON), published in the JWKS. */
  public_jwk: string;
  /** The private JWK as sealed by the configured KeyProtector (`protection` names it). */
  private_key: string;
  protection: string;
  created_at: string;
  /** When it stopped signing (a newer key took over). */
  rotated_at: string | null;
  /** After this, neither published nor accepted. */
  expires_at: string | null;
}

export interface OperatorsTable {
  /** A person id, the name decisions and kill switches are attributed to. */
  id: string;
  name: string;
  created_at: string;
  created_by: string;
  disabled_at: string | null;
}

export interface OperatorTokensTable {
  id: string;
  operator_id: string;
  /** SHA-256 (hex) of the token; unique, so a presented token is found by its hash. */
  token_hash: string;
  label: string;
  created_at: string;
  created_by: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface KillSwitchesTable {
  id: string;
  /** null: every agent. */
  agent_id: string | null;
  /** null: every action; a trailing `*` matches a prefix. */
  action: string | null;
  reason: string;
  engaged_by: string;
  engaged_at: string;
  lifted_at: string | null;
  lifted_by: string | null;
  lift_reason: string | null;
}

/** Every table, keyed by name. */
export interface Database {
  agents: AgentsTable;
  agent_changes: AgentChangesTable;
  agent_credentials: AgentCredentialsTable;
  signing_keys: SigningKeysTable;
  operators: OperatorsTable;
  operator_tokens: OperatorTokensTable;
  kill_switches: KillSwitchesTable;
}

export type AgentRow = Selectable<AgentsTable>;
export type NewAgentRow = Insertable<AgentsTable>;
export type AgentChangeRow = Selectable<AgentChangesTable>;
export type KillSwitchRow = Selectable<KillSwitchesTable>;
