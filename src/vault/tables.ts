// Row types of the vault's tables (created by src/db/migrations/0002_vault.ts). Reached with
// `db.withTables<VaultTables>()`. Times are ISO-8601 UTC strings.

/** One version of one secret: only ciphertexts, never a value. */
export type VaultSecretRow = {
  secret_id: string;
  version: number;
  /** Id of the master key that wrapped this version's data key. */
  key_id: string;
  wrapped_key: string;
  ciphertext: string;
  description: string;
  created_at: string;
  created_by: string;
};

/** One attempt to read a secret, granted or not. */
export type VaultAccessRow = {
  id: string;
  request_id: string;
  secret_id: string;
  version: number | null;
  outcome: 'granted' | 'refused' | 'failed';
  accessed_at: string;
};

export type VaultTables = {
  vault_secrets: VaultSecretRow;
  vault_access_log: VaultAccessRow;
};
