// What the running code is: the compiled build (`npm run build` defines COUNTERSIGN_COMPILED) or the TypeScript
// sources run through tsx (development and tests).
import { readFileSync } from 'node:fs';
import { packagePath } from './paths';

declare const COUNTERSIGN_COMPILED: boolean | undefined;

/** True in dist/ (the bin, `npm start`, the image); false when tsx runs the sources. */
export const COMPILED: boolean = typeof COUNTERSIGN_COMPILED !== 'undefined' && COUNTERSIGN_COMPILED;

/** The package version (package.json), for `--version` and the banner. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}
