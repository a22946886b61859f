import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { metric, type BenchResults } from '../../bench/results';
import { renderTable, replaceTable, TABLE_END, TABLE_START } from '../../bench/table';

const FIXTURE = fileURLToPath(new URL('./fixtures/bench-results.json', import.meta.url));
const WRITE_TABLE = fileURLToPath(new URL('../../bench/write-table.ts', import.meta.url));
const fixture = () => JSON.parse(readFileSync(FIXTURE, 'utf8')) as BenchResults;

const EXPECTED = `From \`npm run bench -- --quick\` on 2026-12-01: Node v24.11.0, commit 0123456789, 2 CPUs (linux/x64), 1-minute load average 1.5 at the start and 2.3 at the end. Medians over rounds that alternate between the sides; the spread is the lowest and highest round.

| Figure | Measure | Median | Spread (min – max) | Goal [bar] | Load (1 min) |
| --- | --- | --- | --- | --- | --- |
| B1 allowed-request throughput, submit → executed | Countersign: req/s | 30.0 req/s | 29.0 – 31.5 req/s (3 rounds) |  | 1.5 → 2.0 |
|  | hand-built baseline: req/s | 31.0 req/s | 30.0 – 32.0 req/s (3 rounds) |  |  |
|  | governed / hand-built | 0.95× | 0.94 – 0.98× (3 rounds) | ≥ 0.97× [≥ 0.9×]: bar met, goal not |  |
| B2 submit latency | p99 difference governed − hand-built | 0.25 ms | −0.50 – 0.75 ms (3 rounds) | ≤ 1 ms [≤ 5 ms]: goal met | 2.0 → 2.1 |
| B4 requests parked awaiting approval | process RSS parked | 1,312 MB |  | ≤ 250 MB [≤ 400 MB]: **not met** | 2.1 → 2.3 |
`;

describe('benchmark table', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('when rendered from the fixture results, then every figure, spread, verdict and load reads as expected', () => {
    expect(renderTable(fixture())).toBe(EXPECTED);
  });

  it('when a measure is built from rounds, then its median and spread ignore rounds that failed to measure', () => {
    const m = metric('p50', 'ms', 'governed', [3, Number.NaN, 1, 2]);
    expect({ median: m.median, min: m.min, max: m.max, rounds: m.rounds.length }).toEqual({
      median: 2,
      min: 1,
      max: 3,
      rounds: 4,
    });
  });

  it('when the table is replaced, then only the text between the markers changes', () => {
    const doc = `# Benchmarks\n\nBefore.\n\n${TABLE_START}\n\nold table\n\n${TABLE_END}\n\nAfter.\n`;
    const out = replaceTable(doc, 'new table\n');
    expect(out).toBe(`# Benchmarks\n\nBefore.\n\n${TABLE_START}\n\nnew table\n\n${TABLE_END}\n\nAfter.\n`);
    expect(replaceTable(out, 'new table\n')).toBe(out);
  });

  it('when the markers are missing, then the table is not written anywhere', () => {
    expect(() => replaceTable('# Benchmarks\n', 'table')).toThrow(/markers are missing/);
  });

  it('when bench:table runs on a results file, then it rewrites the table in the file it is given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-table-'));
    dirs.push(dir);
    const doc = join(dir, 'benchmarks.md');
    writeFileSync(doc, `# Benchmarks\n\n${TABLE_START}\n\nold\n\n${TABLE_END}\n\nKept.\n`);
    await promisify(execFile)(process.execPath, ['--import', 'tsx', WRITE_TABLE, FIXTURE, doc]);
    const written = readFileSync(doc, 'utf8');
    expect(written).not.toContain('old');
    expect(written).toContain('Kept.');
    expect(written).toMatch(/\| B4 requests parked awaiting approval +\| process RSS parked +\| 1,312 MB/);
    expect(written).toContain('≥ 0.97× [≥ 0.9×]: bar met, goal not');
  });
});
