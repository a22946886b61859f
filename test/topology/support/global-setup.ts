// The topology suite's shared infrastructure: the compiled build (the processes run the bin), and one real Temporal
// server over PostgreSQL (fresh databases each run). A loopback control endpoint lets a test stop and start that
// server, since the server lives in this process and the tests in a worker.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';
import { buildDist } from '../../../scripts/build';
import type { RunningTemporalServer } from '../../../scripts/temporal-server';
import { defaultCacheDir, loadSettings } from '../../../src/config/settings';
import { startTopologyTemporal } from './temporal';

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
  const [started] = await Promise.all([
    startTopologyTemporal({
      databaseUrl: settings.DATABASE_URL,
      cacheDir: settings.COUNTERSIGN_CACHE_DIR ?? defaultCacheDir(),
      databasePrefix: 'cs_topology_temporal',
      log,
    }),
    buildDist(),
  ]);
  server = started;
  const running = started;

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
