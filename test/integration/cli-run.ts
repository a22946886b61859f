// Runs the `countersign` command as a child process through the bin users run: node and the compiled dist/ (test global
// setup builds it).
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
    const cli = spawnCli(args, env);
    const timer = setTimeout(() => cli.child.kill('SIGKILL'), timeoutMs);
    cli.child.on('error', reject);
    cli.child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ...cli.output() });
    });
  });
}

/**
 * Spawns `countersign <args>` with only what its test gives it: no config, admin token, database or Temporal address
 * inherited from the environment the tests run in (CI sets DATABASE_URL, for one).
 */
function spawnCli(args: string[], env: Record<string, string>) {
  const inherited = { ...process.env };
  for (const key of ['COUNTERSIGN_CONFIG', 'COUNTERSIGN_ADMIN_TOKEN', 'DATABASE_URL', 'TEMPORAL_ADDRESS']) {
    delete inherited[key];
  }
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, output: () => ({ stdout, stderr }) };
}

export interface RunningCli {
  output(): { stdout: string; stderr: string };
  /** Resolves with the first match of `pattern` on stdout; rejects when the process exits first or time runs out. */
  waitForStdout(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code once the process exits by itself; rejects after `timeoutMs`. */
  exited(timeoutMs: number): Promise<number | null>;
  /** Sends `signal` and resolves with the exit code (SIGKILL after `graceMs`). */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<number | null>;
}

/** Starts a long-running `countersign <args>` (dev, api, worker). */
export function startCountersign(args: string[], env: Record<string, string>): RunningCli {
  const { child, output } = spawnCli(args, env);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    output,
    async waitForStdout(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { stdout, stderr } = output();
        const match = stdout.match(pattern);
        if (match) return match;
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before ${pattern}:\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async exited(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
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
