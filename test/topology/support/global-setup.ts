// The topology suite's shared infrastructure: the compiled build (the processes run the bin), and one real Temporal
// server over PostgreSQL (fresh databases each run). A loopback control endpoint lets a test stop and start that
// server, since the server lives in this process and the tests in a worker.
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';
import { buildDist } from '../../../scripts/build';
import {
  ensureTemporalServer,
  freeServerPorts,
  postgresTargetOf,
  setupTemporalDatabases,
  startTemporalServer,
  writeServerConfig,
  type RunningTemporalServer,
} from '../../../scripts/temporal-server';
import { defaultCacheDir, loadSettings } from '../../../src/config/settings';

declare module 'vitest' {
  export interface ProvidedContext {
    topologyTemporalAddress: string;
    topologyControlUrl: string;
    topologyDatabaseUrl: string;
  }
}

let server: RunningTemporalServer | undefined;
let control: Server | undefined;
const log = (message: string) => process.stderr.write(`topology: ${message}\n`);

export async function setup(project: TestProject): Promise<void> {
  const settings = loadSettings();
  if (!settings.DATABASE_URL) {
    throw new Error('the topology suite needs PostgreSQL: export DATABASE_URL="$(bash scripts/ci-postgres.sh)"');
  }
  const [binaries] = await Promise.all([
    ensureTemporalServer({ cacheDir: settings.COUNTERSIGN_CACHE_DIR ?? defaultCacheDir(), log }),
    buildDist(),
  ]);
  const postgres = postgresTargetOf(settings.DATABASE_URL);
  const databases = { persistence: 'cs_topology_temporal', visibility: 'cs_topology_temporal_visibility' };
  await setupTemporalDatabases({ binaries, postgres, databases, fresh: true, log });
  const dir = mkdtempSync(join(tmpdir(), 'countersign-temporal-server-'));
  const ports = await freeServerPorts();
  const env = writeServerConfig({ dir, postgres, databases, ports });
  server = await startTemporalServer({ binaries, dir, env, ports, log });
  const running = server;

  control = createServer((req, res) => {
    const act =
      req.url === '/temporal/stop' ? running.stop() : req.url === '/temporal/start' ? running.restart() : null;
    if (!act || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    act.then(
      () => res.writeHead(204).end(),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
    );
  });
  await new Promise<void>((resolve) => control!.listen(0, '127.0.0.1', resolve));
  const { port } = control.address() as AddressInfo;
  project.provide('topologyTemporalAddress', running.address);
  project.provide('topologyControlUrl', `http://127.0.0.1:${port}`);
  project.provide('topologyDatabaseUrl', settings.DATABASE_URL);
}

export async function teardown(): Promise<void> {
  await new Promise<void>((resolve) => (control ? control.close(() => resolve()) : resolve()));
  await server?.stop();
}
