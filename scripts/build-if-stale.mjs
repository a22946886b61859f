// `npm start`'s prestart (and `npm run bench`'s first step): builds dist/ only when it is missing or older than a
// source file. Plain JavaScript run by node, so the usual case, dist/ up to date, costs a directory walk and not the
// TypeScript loader plus the bundlers (tsx, esbuild and the Temporal SDK load in ~2.5 s; this check in ~0.1 s).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
/** Where the build records its time, and the files a build must have written. */
export const STAMP = join(DIST, 'build.json');
export const WORKFLOW_BUNDLE = join(DIST, 'workflow-bundle.js');
/** What dist/ is built from. */
const SOURCES = ['src', 'workflows', 'activities', 'slack', 'examples', 'package.json', 'package-lock.json'];

/** True when dist/ is missing or older than a source file. */
export function distIsStale() {
  if (!existsSync(STAMP) || !existsSync(WORKFLOW_BUNDLE)) return true;
  const built = statSync(STAMP).mtimeMs;
  /** @param {string} path */
  const newer = (path) => {
    const stat = statSync(path);
    if (!stat.isDirectory()) return stat.mtimeMs > built;
    return readdirSync(path).some((name) => name !== 'node_modules' && newer(join(path, name)));
  };
  return SOURCES.some((s) => existsSync(join(ROOT, s)) && newer(join(ROOT, s)));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!distIsStale()) {
    process.stderr.write('dist/ is up to date\n');
  } else {
    const tsx = createRequire(import.meta.url).resolve('tsx/cli');
    const build = spawnSync(process.execPath, [tsx, join(ROOT, 'scripts', 'build.ts')], { stdio: 'inherit' });
    process.exit(build.status ?? 1);
  }
}
