// `npm run temporal-server`: a Temporal server over PostgreSQL for people running Countersign without Docker (and
// what the topology tests start). Builds the pinned release once, creates and migrates the databases, starts the
// server, registers the namespace and Countersign's search attributes, and runs until Ctrl-C.
//   DATABASE_URL=postgres://user:pass@127.0.0.1:5432/any npm run temporal-server -- [--port 7233] [--build-only]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultCacheDir, loadSettings } from '../src/config/settings';
import {
  ensureTemporalServer,
  freeServerPorts,
  postgresTargetOf,
  registerNamespace,
  setupTemporalDatabases,
  startTemporalServer,
  writeServerConfig,
} from './temporal-server';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '7233' },
    'build-only': { type: 'boolean', default: false },
    'database-prefix': { type: 'string', default: 'temporal' },
  },
});
const log = (message: string) => process.stderr.write(`${message}\n`);
const settings = loadSettings();
const binaries = await ensureTemporalServer({ cacheDir: settings.COUNTERSIGN_CACHE_DIR ?? defaultCacheDir(), log });
if (values['build-only']) process.exit(0);
if (!settings.DATABASE_URL) {
  log('DATABASE_URL is not set: the Temporal server needs PostgreSQL (a role that may create databases)');
  process.exit(1);
}
const postgres = postgresTargetOf(settings.DATABASE_URL);
const prefix = values['database-prefix'];
const databases = { persistence: prefix, visibility: `${prefix}_visibility` };
await setupTemporalDatabases({ binaries, postgres, databases, log });
const dir = join(settings.COUNTERSIGN_DATA_DIR, 'temporal-server');
mkdirSync(dir, { recursive: true });
const ports = await freeServerPorts(Number(values.port));
const env = writeServerConfig({ dir, postgres, databases, ports, logLevel: 'warn' });
const server = await startTemporalServer({ binaries, dir, env, ports, log });
await registerNamespace({ address: server.address, namespace: settings.TEMPORAL_NAMESPACE, log });
log(`Ready: TEMPORAL_ADDRESS=${server.address} TEMPORAL_NAMESPACE=${settings.TEMPORAL_NAMESPACE} (Ctrl-C stops it)`);
// Signal listeners do not keep Node running; the timer does, until one arrives.
const alive = setInterval(() => undefined, 60_000);
await new Promise<void>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
clearInterval(alive);
log('Stopping the Temporal server…');
await server.stop();
