// Every migration, listed, so the build bundles them (a folder read at run time would find nothing in dist/). A new
// migration is a file in ./migrations named `NNNN_<what>.ts` plus one line here; test/unit/build.test.ts fails when
// the folder and this list disagree.
import type { Migration } from 'kysely';
import * as identity from './migrations/0001_identity';
import * as vault from './migrations/0002_vault';
import * as usage from './migrations/0003_usage';
import * as replicaState from './migrations/0004_replica_state';
import * as refusals from './migrations/0005_refusals';
import * as executionLedger from './migrations/0006_execution_ledger';
import * as sealedParams from './migrations/0007_sealed_params';

/** Migrations by name, applied in name order. */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_identity': identity,
  '0002_vault': vault,
  '0003_usage': usage,
  '0004_replica_state': replicaState,
  '0005_refusals': refusals,
  '0006_execution_ledger': executionLedger,
  '0007_sealed_params': sealedParams,
};
