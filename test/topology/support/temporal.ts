// The topology's Temporal server: the built release (scripts/temporal-server.ts) over fresh PostgreSQL databases on
// loopback ports. The topology tests' global setup and the topology bench both start it through here.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensureTemporalServer,
  freeServerPorts,
  postgresTargetOf,
  setupTemporalDatabases,
  startTemporalServer,
  writeServerConfig,
  type RunningTemporalServer,
} from '../../../scripts/temporal-server';

/** Builds or reuses the server, recreates its databases (`<prefix>`, `<prefix>_visibility`) and starts it. */
export async function startTopologyTemporal(options: {
  databaseUrl: string;
  cacheDir: string;
  /** The databases' name prefix; each user of the server on one PostgreSQL needs its own. */
  databasePrefix: string;
  log: (message: string) => void;
}): Promise<RunningTemporalServer> {
  const { log } = options;
  const binaries = await ensureTemporalServer({ cacheDir: options.cacheDir, log });
  const postgres = postgresTargetOf(options.databaseUrl);
  const databases = { persistence: options.databasePrefix, visibility: `${options.databasePrefix}_visibility` };
  await setupTemporalDatabases({ binaries, postgres, databases, fresh: true, log });
  const dir = mkdtempSync(join(tmpdir(), 'countersign-temporal-server-'));
  const ports = await freeServerPorts();
  const env = writeServerConfig({ dir, postgres, databases, ports });
  return startTemporalServer({ binaries, dir, env, ports, log });
}
