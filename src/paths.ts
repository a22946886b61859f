// Where the package's own files are, from source (src/…, run by tsx) and from the build (dist/…, one bundle with
// chunks) alike: the nearest folder above this module that holds package.json.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  for (let dir = dirname(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

/** The folder holding package.json, examples/ and (after `npm run build`) dist/. */
export const PACKAGE_ROOT = findPackageRoot(fileURLToPath(import.meta.url));

/** A path inside the package. */
export function packagePath(...segments: string[]): string {
  return join(PACKAGE_ROOT, ...segments);
}

/** The workflow bundle `npm run build` writes; workers load it instead of bundling the sources at start. */
export const PREBUILT_WORKFLOW_BUNDLE = packagePath('dist', 'workflow-bundle.js');
