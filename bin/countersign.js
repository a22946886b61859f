#!/usr/bin/env node
// The `countersign` command: the compiled CLI in dist/ (`npm run build`; `npm start` builds it when stale).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('countersign: dist/ is missing; run `npm run build` first (or `npm start`, which builds it)\n');
  process.exit(69); // EX_UNAVAILABLE, as the CLI's own "unavailable" exit code
}
await import(entry.href);
