// Runs the `countersign` command as a child process, through the same bin shim users run (node + tsx).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/countersign.js`;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `countersign <args>` to completion with a controlled environment (no COUNTERSIGN_CONFIG from the caller). */
export function runCountersign(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const inherited = { ...process.env };
    delete inherited.COUNTERSIGN_CONFIG;
    delete inherited.COUNTERSIGN_ADMIN_TOKEN;
    // The child uses the database its test names (the SQLite file in its data dir unless told otherwise).
    delete inherited.DATABASE_URL;
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface RunningCli {
  output(): { stdout: string; stderr: string };
  /** Resolves with the first match of `pattern` on stdout; rejects when the process exits first or time runs out. */
  waitForStdout(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Sends `signal` and resolves with the exit code (SIGKILL after `graceMs`). */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<number | null>;
}

/** Starts a long-running `countersign <args>` (dev, api, worker). */
export function startCountersign(args: string[], env: Record<string, string>): RunningCli {
  const inherited = { ...process.env };
  delete inherited.COUNTERSIGN_CONFIG;
  delete inherited.COUNTERSIGN_ADMIN_TOKEN;
  delete inherited.TEMPORAL_ADDRESS;
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    output: () => ({ stdout, stderr }),
    async waitForStdout(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = stdout.match(pattern);
        if (match) return match;
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before ${pattern}:\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop(signal, graceMs) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
