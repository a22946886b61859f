// A real Temporal server over PostgreSQL, for the topology tests and for people running Countersign without Docker:
// builds the pinned server and its SQL schema tool with `go install` into the cache (once), creates the persistence
// and visibility databases and schemas from the module's schema/postgresql/v12/, writes a server config, starts the
// server, registers the namespace and Countersign's search attributes, and stops it cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { msToTs } from '@temporalio/common';
import { stringify } from 'yaml';
import { childEnvironment } from '../src/config/settings';
import { SEARCH_ATTRIBUTES } from '../src/contracts/names';
import { connectTemporal } from '../src/temporal/adapter';
import { findOnPath, goInstall, isExecutable, runCommand, tail } from '../src/temporal/go-build';

/** The Temporal server release built here; docker-compose.yml pins the same images. */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const MODULE = 'go.temporal.io/server';
const PACKAGES = [`${MODULE}/cmd/server`, `${MODULE}/cmd/tools/sql`];
/** The SQL plugin and schema directory for PostgreSQL 12 and newer. */
const PLUGIN = 'postgres12';

// temporal.api.enums.v1.IndexedValueType
const INDEXED_VALUE_TYPE = { KEYWORD: 2, KEYWORD_LIST: 7 } as const;

export interface ServerBinaries {
  server: string;
  sqlTool: string;
  /** The module's source in the Go module cache: schemas and sample configs. */
  moduleDir: string;
}

/** Where the pinned build is cached. */
export function serverCacheDir(cacheDir: string): string {
  return join(cacheDir, 'temporal-server', TEMPORAL_SERVER_VERSION);
}

/** Returns the cached server and schema tool, building them with `go install` the first time (minutes on 2 cores). */
export async function ensureTemporalServer(options: {
  cacheDir: string;
  log: (message: string) => void;
}): Promise<ServerBinaries> {
  const bin = serverCacheDir(options.cacheDir);
  const server = join(bin, 'server');
  const sqlTool = join(bin, 'sql');
  const go = findOnPath('go');
  if (!go) {
    if (isExecutable(server) && isExecutable(sqlTool)) {
      throw new Error('the Temporal server is cached but its schemas live in the Go module cache: Go is required');
    }
    throw new Error(`no Go toolchain: cannot build ${MODULE}@${TEMPORAL_SERVER_VERSION}`);
  }
  if (!isExecutable(server) || !isExecutable(sqlTool) || !existsSync(await moduleDirOf(go))) {
    options.log(
      `Building the Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool with Go into ${bin} ` +
        '(first time only; this takes a few minutes)…',
    );
    mkdirSync(bin, { recursive: true });
    await goInstall({
      go,
      packages: PACKAGES.map((p) => `${p}@${TEMPORAL_SERVER_VERSION}`),
      gobin: bin,
      what: 'the Temporal server',
      log: options.log,
    });
    if (!isExecutable(server) || !isExecutable(sqlTool))
      throw new Error(`go install finished but ${bin} is incomplete`);
    options.log(`Temporal server built: ${server}`);
  }
  return { server, sqlTool, moduleDir: await moduleDirOf(go) };
}

async function moduleDirOf(go: string): Promise<string> {
  const { code, output } = await runCommand(go, ['env', 'GOMODCACHE'], {});
  if (code !== 0) throw new Error(`go env GOMODCACHE failed: ${tail(output)}`);
  return join(output.trim(), `${MODULE}@${TEMPORAL_SERVER_VERSION}`);
}

/** A PostgreSQL server and a role that may create databases. */
export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** Reads host, port, user and password from a postgres:// URL (the database name is not used). */
export function postgresTargetOf(url: string): PostgresTarget {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  };
}

export interface DatabaseNames {
  persistence: string;
  visibility: string;
}

/**
 * Creates both databases when missing and brings their schemas to the module's latest version (idempotent: the
 * schema tool applies only the versions a database lacks). `fresh` drops them first.
 */
export async function setupTemporalDatabases(options: {
  binaries: ServerBinaries;
  postgres: PostgresTarget;
  databases: DatabaseNames;
  fresh?: boolean;
  log: (message: string) => void;
}): Promise<void> {
  const { binaries, postgres } = options;
  const schemaRoot = join(binaries.moduleDir, 'schema', 'postgresql', 'v12');
  const base = [
    '--plugin',
    PLUGIN,
    '--endpoint',
    postgres.host,
    '--port',
    String(postgres.port),
    '--user',
    postgres.user,
    '--password',
    postgres.password,
    '--quiet',
  ];
  const sqlTool = async (db: string, args: string[]) => {
    const result = await runCommand(binaries.sqlTool, [...base, '--database', db, ...args], {});
    if (result.code !== 0) throw new Error(`temporal-sql-tool ${args[0]} on ${db} failed:\n${tail(result.output)}`);
    return result.output;
  };
  for (const [db, schema] of [
    [options.databases.persistence, 'temporal'],
    [options.databases.visibility, 'visibility'],
  ] as const) {
    if (options.fresh) {
      options.log(`Dropping the Temporal database ${db}…`);
      await sqlTool(db, ['drop-database', '--force']);
    }
    const created = await runCommand(binaries.sqlTool, [...base, '--database', db, 'create-database'], {});
    if (created.code !== 0 && !/already exists/i.test(created.output)) {
      throw new Error(
        `temporal-sql-tool create-database ${db} failed (does the role have CREATEDB?):\n${tail(created.output)}`,
      );
    }
    await sqlTool(db, ['setup-schema', '--version', '0.0']);
    await sqlTool(db, ['update-schema', '--schema-dir', join(schemaRoot, schema, 'versioned')]);
    options.log(`Temporal database ${db}: schema ${schema} up to date`);
  }
}

/** The ports one server listens on (all on 127.0.0.1). */
export interface ServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

/**
 * Free loopback ports for every service of one server. The server records membership ports in a PostgreSQL
 * smallint, so those come from below 32768 (the kernel's ephemeral range starts above it).
 */
export async function freeServerPorts(frontend?: number): Promise<ServerPorts> {
  const taken: number[] = frontend ? [frontend] : [];
  const grpc = async () => {
    const port = await pickPort(taken, () => 0);
    taken.push(port);
    return port;
  };
  const membership = async () => {
    const port = await pickPort(taken, () => 20_000 + Math.floor(Math.random() * 12_000));
    taken.push(port);
    return port;
  };
  return {
    frontend: frontend ?? (await grpc()),
    frontendHttp: await grpc(),
    frontendMembership: await membership(),
    history: await grpc(),
    historyMembership: await membership(),
    matching: await grpc(),
    matchingMembership: await membership(),
    worker: await grpc(),
    workerMembership: await membership(),
  };
}

async function pickPort(taken: number[], candidate: () => number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await tryListen(candidate());
    if (port !== undefined && !taken.includes(port)) return port;
  }
  throw new Error('no free port found for the Temporal server');
}

function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as AddressInfo;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * Writes `<dir>/config/<env>.yaml` (the module's config/development-postgres12.yaml adapted: our ports and
 * databases, no pprof or metrics listener, a dynamic config file next to it) and returns the `--env` name.
 */
export function writeServerConfig(options: {
  dir: string;
  postgres: PostgresTarget;
  databases: DatabaseNames;
  ports: ServerPorts;
  logLevel?: string;
}): string {
  const { postgres, ports, databases } = options;
  const configDir = join(options.dir, 'config');
  mkdirSync(configDir, { recursive: true });
  const sql = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: PLUGIN,
      databaseName,
      connectAddr: `${postgres.host}:${postgres.port}`,
      connectProtocol: 'tcp',
      user: postgres.user,
      password: postgres.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const service = (grpcPort: number, membershipPort: number, httpPort?: number) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...(httpPort ? { httpPort } : {}) },
  });
  const dynamicConfig = join(configDir, 'dynamicconfig.yaml');
  writeFileSync(
    dynamicConfig,
    stringify({
      'limit.maxIDLength': [{ value: 255, constraints: {} }],
      // A search attribute registered a moment ago is usable at once (what the CLI's dev server does too).
      'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true, constraints: {} }],
      'frontend.enableUpdateWorkflowExecution': [{ value: true, constraints: {} }],
      'frontend.enableUpdateWorkflowExecutionAsyncAccepted': [{ value: true, constraints: {} }],
    }),
  );
  const config = {
    log: { stdout: true, level: options.logLevel ?? 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: 4,
      datastores: {
        'postgres-default': sql(databases.persistence, 20),
        'postgres-visibility': sql(databases.visibility, 4),
      },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: {
      frontend: service(ports.frontend, ports.frontendMembership, ports.frontendHttp),
      history: service(ports.history, ports.historyMembership),
      matching: service(ports.matching, ports.matchingMembership),
      worker: service(ports.worker, ports.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.frontend}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfig, pollInterval: '10s' },
  };
  const env = 'countersign';
  writeFileSync(join(configDir, `${env}.yaml`), stringify(config));
  return env;
}

export interface RunningTemporalServer {
  address: string;
  /** The server's own output so far (for failures). */
  output(): string;
  /** Stops the server (SIGTERM, then SIGKILL after `graceMs`) and waits for it to exit. */
  stop(graceMs?: number): Promise<void>;
  /** Starts the same server again (same config, ports and databases) after a stop. */
  restart(): Promise<void>;
}

/** Starts the server from `writeServerConfig`'s directory and waits until its frontend answers. */
export async function startTemporalServer(options: {
  binaries: ServerBinaries;
  dir: string;
  env: string;
  ports: ServerPorts;
  log: (message: string) => void;
  startTimeoutMs?: number;
}): Promise<RunningTemporalServer> {
  const address = `127.0.0.1:${options.ports.frontend}`;
  let child: ChildProcess | undefined;
  let output = '';
  const launch = async () => {
    output = '';
    const started = spawn(
      options.binaries.server,
      ['--root', options.dir, '--config', 'config', '--env', options.env, '--allow-no-auth', 'start'],
      { env: childEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = started;
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-64_000);
    };
    started.stdout?.on('data', keep);
    started.stderr?.on('data', keep);
    await waitForFrontend(address, started, () => output, options.startTimeoutMs ?? 90_000);
  };
  const stop = async (graceMs = 15_000) => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  try {
    await launch();
  } catch (err) {
    await stop(1_000);
    throw err;
  }
  options.log(`Temporal server ${TEMPORAL_SERVER_VERSION} on ${address}`);
  return {
    address,
    output: () => output,
    stop,
    async restart() {
      await stop();
      await launch();
    },
  };
}

async function waitForFrontend(address: string, child: ChildProcess, output: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the Temporal server exited (${child.exitCode ?? child.signalCode}):\n${tail(output())}`);
    }
    try {
      const connection = await connectTemporal({ address, connectTimeout: 1_000 });
      try {
        await connection.withDeadline(Date.now() + 2_000, () =>
          connection.healthService.check({ service: 'temporal.api.workflowservice.v1.WorkflowService' }),
        );
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) {
        throw new Error(
          `the Temporal server did not answer on ${address} within ${timeoutMs} ms: ${String(err)}\n${tail(output())}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/**
 * Registers `namespace` (when missing) and Countersign's search attributes on it (when missing), then waits until the
 * namespace answers a visibility query that names every attribute.
 */
export async function registerNamespace(options: {
  address: string;
  namespace: string;
  retentionDays?: number;
  log: (message: string) => void;
}): Promise<void> {
  const connection = await connectTemporal({ address: options.address, connectTimeout: 2_000 });
  try {
    const { workflowService, operatorService } = connection;
    try {
      await workflowService.describeNamespace({ namespace: options.namespace });
    } catch {
      await workflowService.registerNamespace({
        namespace: options.namespace,
        workflowExecutionRetentionPeriod: msToTs((options.retentionDays ?? 3) * 86_400_000),
      });
      options.log(`Temporal namespace ${options.namespace} registered`);
    }
    // A new namespace reaches every frontend's cache within a few seconds.
    await eventually(() => workflowService.describeNamespace({ namespace: options.namespace }), 30_000);
    // The operator service finds a new namespace a little later than the frontend does.
    const existing = await eventually(
      () => operatorService.listSearchAttributes({ namespace: options.namespace }),
      30_000,
    );
    const missing = Object.fromEntries(
      Object.values(SEARCH_ATTRIBUTES)
        .filter((key) => !(key.name in (existing.customAttributes ?? {})))
        .map((key) => [key.name, INDEXED_VALUE_TYPE[key.type]]),
    );
    if (Object.keys(missing).length > 0) {
      await eventually(
        () => operatorService.addSearchAttributes({ namespace: options.namespace, searchAttributes: missing }),
        30_000,
      );
      options.log(`Search attributes added on ${options.namespace}: ${Object.keys(missing).join(', ')}`);
    }
    const query = Object.values(SEARCH_ATTRIBUTES)
      .map((key) => `${key.name} = 'probe'`)
      .join(' AND ');
    await eventually(() => workflowService.countWorkflowExecutions({ namespace: options.namespace, query }), 30_000);
  } finally {
    await connection.close();
  }
}

async function eventually<T>(fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
