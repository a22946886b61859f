// `promtool check metrics` (Debian package `prometheus`; CI installs it with scripts/ci-promtool.sh) over an
// exposition text. A missing promtool fails the test that needs it rather than passing it unchecked.
import { spawnSync } from 'node:child_process';

/** Runs promtool over `text`; resolves with its exit code and what it printed. */
export function promtoolCheckMetrics(text: string): { code: number | null; output: string } {
  if (text.trim() === '') throw new Error('no metrics to check: promtool would accept empty input');
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (result.error) {
    throw new Error(`promtool is not available (${result.error.message}); install it with scripts/ci-promtool.sh`);
  }
  return { code: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

/** Runs `promtool check rules` over a rules file. */
export function promtoolCheckRules(file: string): { code: number | null; output: string } {
  const result = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
  if (result.error) {
    throw new Error(`promtool is not available (${result.error.message}); install it with scripts/ci-promtool.sh`);
  }
  return { code: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

/** The value of one sample (`name{labels}`) in an exposition text; undefined when absent. */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = new Map<string, string>(
      [...(match[3] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m): [string, string] => [m[1] ?? '', m[2] ?? '']),
    );
    if (Object.entries(labels).every(([k, v]) => found.get(k) === v)) return Number(match[4]);
  }
  return undefined;
}
