// What every `countersign` call loads before it parses its arguments: the command tree's static imports. The Temporal
// SDK (gRPC, protobufs) and OpenTelemetry belong to the commands that use them, loaded on demand, or `countersign
// --help` would pay for them at every start.
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

async function staticImports(entry: string): Promise<Set<string>> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    splitting: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    outdir: 'dist-unused',
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = result.metafile.inputs;
  const seen = new Set([entry]);
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const imported of inputs[file]?.imports ?? []) {
      if (imported.kind !== 'import-statement' || seen.has(imported.path)) continue;
      seen.add(imported.path);
      queue.push(imported.path);
    }
  }
  return seen;
}

describe('CLI start-up', () => {
  it('when the CLI starts, then its static imports hold neither the Temporal SDK nor OpenTelemetry', async () => {
    const loaded = [...(await staticImports('src/cli/main.ts'))];
    expect(loaded).toContain('commander');
    expect(loaded.filter((p) => p.startsWith('@temporalio/') || p.startsWith('@opentelemetry/'))).toEqual([]);
    expect(loaded.filter((p) => p.startsWith('src/temporal/') || p.startsWith('src/tracing/'))).toEqual([]);
  });
});
