// The topology tests' deployment: ./deployment.ts on the suite's Temporal server and PostgreSQL (global setup).
import { inject } from 'vitest';
import { startDeployment, type DeploymentOptions, type Topology } from './deployment';

export * from './deployment';

/** Starts a deployment on the suite's servers; resolves once every replica is ready. */
export function startTopology(options: DeploymentOptions): Promise<Topology> {
  return startDeployment(
    { temporalAddress: inject('topologyTemporalAddress'), databaseUrl: inject('topologyDatabaseUrl') },
    options,
  );
}
