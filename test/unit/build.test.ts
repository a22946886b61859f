// The compiled build, checked statically: the image builds dist/ and runs it with no tsx at run time, the bin and
// `npm start` run compiled JavaScript, and the migrations the build bundles are exactly those in the folder.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/db/migration-list';
import { ENTRY_POINTS } from '../../scripts/build';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');
const pkg = JSON.parse(read('package.json')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  bin: Record<string, string>;
  engines: { node: string };
};

/** The Dockerfile's stages, without comments: `[{ from, lines }]`. */
function stages(): { from: string; lines: string[] }[] {
  const out: { from: string; lines: string[] }[] = [];
  for (const line of read('Dockerfile').split('\n')) {
    const text = line.trim();
    if (!text || text.startsWith('#')) continue;
    if (text.startsWith('FROM ')) out.push({ from: text, lines: [] });
    else out.at(-1)?.lines.push(text);
  }
  return out;
}

describe('the compiled build', () => {
  it('when the image is built, then a build stage runs `npm run build` and the runtime stage holds dist/ and no tsx', () => {
    const all = stages();
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const stage of all) expect(stage.from).toMatch(/^FROM node:24-bookworm-slim\b/);
    const build = all.find((s) => s.lines.some((l) => /npm run build/.test(l)));
    expect(build, 'a stage runs npm run build').toBeDefined();
    expect(build!.lines.join('\n')).toMatch(/npm prune --omit=dev/);
    const runtime = all.at(-1)!;
    expect(runtime).not.toBe(build);
    const text = runtime.lines.join('\n');
    expect(text).toMatch(/COPY --from=\S+ \/app\/dist \.\/dist/);
    expect(text).toMatch(/ENTRYPOINT \["node", "bin\/countersign\.js"\]/);
    expect(text).not.toMatch(/\btsx\b/);
    // No TypeScript sources at run time: only compiled code, the example config and the schema.
    for (const source of ['src', 'workflows', 'activities', 'slack', 'tsconfig.json']) {
      expect(text, `runtime stage copies ${source}`).not.toMatch(new RegExp(`^COPY ${source}\\b`, 'm'));
    }
  });

  it('when the bin and `npm start` run, then they run dist/ with node, and tsx is a development dependency only', () => {
    const bin = read(pkg.bin.countersign!.replace(/^\.\//, ''));
    expect(bin).toContain('../dist/cli.js');
    expect(bin).not.toMatch(/\btsx\b/);
    // glibc's malloc gets two arenas unless the caller chose otherwise (see docs/performance.md).
    expect(pkg.scripts.start).toBe('MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2} node bin/countersign.js dev');
    // The stale check runs in plain node (no tsx unless dist/ needs building) and builds with scripts/build.ts.
    expect(pkg.scripts.prestart).toBe('node scripts/build-if-stale.mjs');
    expect(read('scripts/build-if-stale.mjs')).toMatch(/scripts', 'build\.ts'/);
    expect(pkg.scripts.build).toMatch(/scripts\/build\.ts$/);
    expect(pkg.dependencies.tsx).toBeUndefined();
    expect(pkg.devDependencies.tsx).toBeDefined();
    expect(pkg.engines.node).toBe('>=20.19');
    for (const entry of Object.values(ENTRY_POINTS)) expect(existsSync(`${root}${entry}`), entry).toBe(true);
  });

  it('when global setup has built dist/, then the CLI, the billing stand-in and the workflow bundle are there', () => {
    for (const file of ['dist/cli.js', 'dist/billing-service.js', 'dist/workflow-bundle.js']) {
      expect(existsSync(`${root}${file}`), file).toBe(true);
    }
    expect(read('dist/cli.js')).not.toMatch(/from "tsx/);
  });

  it('when migrations are listed for the build, then the list is exactly the files in src/db/migrations', () => {
    const files = readdirSync(`${root}src/db/migrations`)
      .map((f) => /^(\d{4}_[a-z0-9_]+)\.ts$/.exec(f)?.[1])
      .filter((name): name is string => Boolean(name))
      .sort();
    expect(Object.keys(MIGRATIONS).sort()).toEqual(files);
  });
});
