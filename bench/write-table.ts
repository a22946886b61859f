// `npm run bench:table -- results.json [file.md …]`: rewrites the benchmark table between its marker comments in the
// given Markdown files (by default every one of README.md and docs/benchmarks.md that holds the markers).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import type { BenchResults } from './results';
import { hasTable, renderTable, replaceTable } from './table';

const DEFAULT_FILES = ['README.md', 'docs/benchmarks.md'].map((f) =>
  fileURLToPath(new URL(`../${f}`, import.meta.url)),
);

const [resultsPath, ...files] = process.argv.slice(2);
if (!resultsPath) {
  process.stderr.write('usage: npm run bench:table -- <results.json> [file.md …]\n');
  process.exit(2);
}
const results = JSON.parse(readFileSync(resultsPath, 'utf8')) as BenchResults;
if (results.version !== 1 || !Array.isArray(results.figures)) {
  process.stderr.write(`${resultsPath} is not a results file of npm run bench -- --json\n`);
  process.exit(1);
}
const table = renderTable(results);
const targets = files.length > 0 ? files : DEFAULT_FILES.filter((f) => hasTable(readFileSync(f, 'utf8')));
if (targets.length === 0) {
  process.stderr.write('no file holds the benchmark table markers\n');
  process.exit(1);
}
for (const file of targets) {
  // Through Prettier, as `npm run format` would leave it, so formatting the docs does not rewrite the table.
  const options = (await resolveConfig(file)) ?? {};
  writeFileSync(file, await format(replaceTable(readFileSync(file, 'utf8'), table), { ...options, filepath: file }));
  process.stdout.write(`wrote the benchmark table in ${file}\n`);
}
