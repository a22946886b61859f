// The embedded Temporal dev server of `countersign dev`: persisted to SQLite in the data directory, UI on 8233,
// the search attributes registered. Stopping it (SIGINT/SIGTERM) keeps every pending request for the next start.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { childEnvironment } from '../config/settings';
import { SEARCH_ATTRIBUTE_DECLARATIONS } from '../contracts/names';
import type { Logger } from '../logger';

export interface DevServerOptions {
  cliPath: string;
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
  logger: Logger;
  /** The codec endpoint the UI decodes payloads with (`--ui-codec-endpoint`). */
  codecEndpoint?: string;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

/** The dynamic config that lets the server dispatch activities eagerly (tests and benchmarks start with it too). */
export const EAGER_ACTIVITY_ARGS: readonly string[] = [
  '--dynamic-config-value',
  'system.enableActivityEagerExecution=true',
];

/** The `temporal server start-dev` arguments for a persisted dev server. */
export function devServerArgs(options: Omit<DevServerOptions, 'cliPath' | 'logger'>): string[] {
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    join(options.dataDir, 'temporal.sqlite'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    // Dev mode runs connectors on the control queue: the server may then hand an activity to the worker in its answer
    // to the workflow task that scheduled it (off by default in the server).
    ...EAGER_ACTIVITY_ARGS,
  ];
  for (const declaration of SEARCH_ATTRIBUTE_DECLARATIONS) args.push('--search-attribute', declaration);
  if (options.codecEndpoint) args.push('--ui-codec-endpoint', options.codecEndpoint);
  return args;
}

const READY_PROBE_INTERVAL_MS = 50;

/** Starts the dev server and resolves once its frontend answers. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  mkdirSync(options.dataDir, { recursive: true });
  const address = `127.0.0.1:${options.port}`;
  const child = spawn(options.cliPath, devServerArgs(options), {
    env: childEnvironment(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (d: Buffer) => {
    output = (output + d.toString()).slice(-8000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  // The probe needs the Temporal client, loaded only now: the server is already booting while the module loads.
  const { temporalAnswers } = await import('./adapter');
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`the Temporal dev server exited (${child.exitCode}); is port ${options.port} in use?\n${output}`);
    }
    try {
      await temporalAnswers(address);
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`the Temporal dev server did not answer on ${address} within 60 s`, { cause: err });
      }
      // The server answers about half a second after the spawn; a short interval does not add most of one to that.
      await new Promise((r) => setTimeout(r, READY_PROBE_INTERVAL_MS));
    }
  }
  options.logger.debug({ address }, 'temporal dev server ready');
  return {
    address,
    uiUrl: `http://localhost:${options.uiPort}`,
    stop: () => stopChild(child, exited),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
