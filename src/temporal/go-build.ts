// Building pinned Go programs (the Temporal CLI, the Temporal server and its SQL tool) with `go install` into a cache
// directory, and the small process helpers both builders use.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { childEnvironment } from '../config/settings';

/**
 * `go install` of `packages` (each `module/path@version`) into `gobin`. When the Go checksum database is unreachable,
 * it builds once more with GOSUMDB=off: the module's own go.sum still pins every dependency. Throws with the end of
 * Go's output when the build fails.
 */
export async function goInstall(options: {
  go: string;
  packages: string[];
  gobin: string;
  what: string;
  log: (message: string) => void;
}): Promise<void> {
  const args = ['install', ...options.packages];
  const env = { GOBIN: options.gobin, GOFLAGS: '-mod=mod' };
  const first = await runCommand(options.go, args, env);
  if (first.code === 0) return;
  if (/sum\.golang\.org|checksum database|verifying module/i.test(first.output)) {
    options.log('The Go checksum database is unreachable; building with GOSUMDB=off (go.sum still pins dependencies)…');
    const second = await runCommand(options.go, args, { ...env, GOSUMDB: 'off' });
    if (second.code === 0) return;
    throw new Error(`go install of ${options.what} failed:\n${tail(second.output)}`);
  }
  throw new Error(`go install of ${options.what} failed:\n${tail(first.output)}`);
}

/** Runs a program to completion with the child environment plus `extraEnv`, collecting stdout and stderr together. */
export function runCommand(
  cmd: string,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: childEnvironment(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

export function findOnPath(name: string, pathEnv = childEnvironment().PATH ?? ''): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The last lines of a program's output, for an error message. */
export function tail(text: string, lines = 30): string {
  return text.split('\n').slice(-lines).join('\n');
}
