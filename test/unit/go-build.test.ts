// The pinned Go builds (Temporal CLI and server): a stand-in `go` on PATH records each call and plays the checksum
// database being unreachable, so the fallback is exercised without downloading anything.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveTemporalCli, TEMPORAL_CLI_VERSION } from '../../src/temporal/cli';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fake `go` that fails like an unreachable sum.golang.org unless GOSUMDB=off, then writes $GOBIN/temporal. */
function fakeGo(behaviour: 'checksum-unreachable' | 'compile-error' | 'ok'): { pathEnv: string; calls: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cs-fake-go-'));
  dirs.push(dir);
  const calls = join(dir, 'calls.log');
  const script = `#!/bin/sh
echo "$* GOSUMDB=\${GOSUMDB:-} GOBIN=\${GOBIN:-}" >> ${calls}
case "${behaviour}" in
  compile-error) echo "main.go:1: syntax error" >&2; exit 1 ;;
  checksum-unreachable)
    if [ "\${GOSUMDB:-}" != "off" ]; then
      echo "verifying module: github.com/x/y@v1: Get https://sum.golang.org/lookup: dial tcp: no route" >&2; exit 1
    fi ;;
esac
printf '#!/bin/sh\\n' > "$GOBIN/temporal"; chmod +x "$GOBIN/temporal"
`;
  writeFileSync(join(dir, 'go'), script);
  chmodSync(join(dir, 'go'), 0o755);
  return { pathEnv: [dir, '/usr/bin', '/bin'].join(delimiter), calls };
}

function cacheDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cs-go-cache-'));
  dirs.push(dir);
  return dir;
}

describe('go install of the pinned Temporal CLI', () => {
  it('when the checksum database is unreachable, then it builds once more with GOSUMDB=off and caches the binary', async () => {
    const go = fakeGo('checksum-unreachable');
    const cache = cacheDir();
    const messages: string[] = [];
    const resolved = await resolveTemporalCli({ cacheDir: cache, pathEnv: go.pathEnv, log: (m) => messages.push(m) });
    expect(resolved?.source).toBe('go install');
    expect(existsSync(resolved!.path)).toBe(true);
    const calls = readFileSync(go.calls, 'utf8').trim().split('\n');
    expect(calls).toHaveLength(2);
    expect(calls[0]).toContain(`install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION} GOSUMDB= `);
    expect(calls[1]).toContain('GOSUMDB=off');
    expect(messages.join('\n')).toMatch(/GOSUMDB=off/);
    // Cached: the next resolve does not build.
    const again = await resolveTemporalCli({ cacheDir: cache, pathEnv: go.pathEnv, log: () => {} });
    expect(again?.source).toBe('cache');
    expect(readFileSync(go.calls, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('when the build itself fails, then the error carries the end of Go’s output and no second build is tried', async () => {
    const go = fakeGo('compile-error');
    await expect(resolveTemporalCli({ cacheDir: cacheDir(), pathEnv: go.pathEnv, log: () => {} })).rejects.toThrow(
      /go install of the Temporal CLI failed:\n.*syntax error/,
    );
    expect(readFileSync(go.calls, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
