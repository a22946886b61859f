// Dev mode as a user runs it, for the benchmarks that measure the product's own process (B4, B7): `npm start` or the
// compiled `countersign dev`, in a child process on a data directory and ports of its own (a second instance on the
// machine does not collide), the embedded Temporal dev server included. Stopped with SIGINT, as Ctrl-C does.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface DevModeProcess {
  /** The node process that holds the API and the workers (npm's child when started through npm). */
  child: ChildProcess;
  apiUrl: string;
  /** The embedded dev server's frontend. */
  temporalAddress: string;
  /** Spawn → GET /readyz answered 200, in ms. */
  readyMs: number;
  /** SIGINT to the process group, then waits for it to exit (SIGKILL after 20 s). */
  stop(): Promise<void>;
}

/** A free loopback TCP port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts dev mode on `dataDir` and resolves once /readyz answers 200. */
export async function startDevMode(options: {
  dataDir: string;
  /** `npm start` (stale-build check, then the compiled CLI) or the compiled `countersign dev` alone. */
  command: 'npm' | 'dev';
  env?: Record<string, string>;
}): Promise<DevModeProcess> {
  const [api, temporal, ui, billing, sdkMetrics] = await Promise.all(Array.from({ length: 5 }, () => freePort()));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    COUNTERSIGN_DATA_DIR: options.dataDir,
    LOG_LEVEL: 'warn',
    PORT: String(api),
    TEMPORAL_DEV_PORT: String(temporal),
    TEMPORAL_UI_PORT: String(ui),
    COUNTERSIGN_BILLING_PORT: String(billing),
    COUNTERSIGN_TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${sdkMetrics}`,
    ...options.env,
  };
  const [file, args] =
    options.command === 'npm'
      ? ['npm', ['start', '--silent']]
      : [process.execPath, [join(ROOT, 'bin/countersign.js'), 'dev']];
  const started = performance.now();
  // Its own process group, so SIGINT reaches npm and the node process under it, as a terminal's Ctrl-C does.
  const child = spawn(file, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    process.kill(-child.pid, 'SIGINT');
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    }, 20_000);
    await exited;
    clearTimeout(timer);
  };
  const apiUrl = `http://127.0.0.1:${api}`;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`dev mode exited (${child.exitCode}) before ready: ${stderr}`);
      if (performance.now() - started > 90_000) throw new Error(`dev mode was not ready within 90 s: ${stderr}`);
      try {
        const response = await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
        if (response.status === 200) break;
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { child, apiUrl, temporalAddress: `127.0.0.1:${temporal}`, readyMs: performance.now() - started, stop };
}
