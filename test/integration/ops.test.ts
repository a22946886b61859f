// The operations files in ops/: the alert rules pass `promtool check rules`, and the dashboard charts only metrics
// that Countersign (or the Temporal SDK) actually exports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics';
import { promtoolCheckRules } from '../support/promtool';
import { ROOT } from './cli-run';

const metricNames = async () => {
  const names = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
  return names;
};

describe('ops', () => {
  it('when the alert rules are checked by promtool, then they pass', () => {
    const result = promtoolCheckRules(join(ROOT, 'ops/prometheus-alerts.yml'));
    expect(result.output).toContain('SUCCESS: 6 rules found');
    expect(result.code).toBe(0);
  });

  it('when the alert rules and dashboard name Countersign metrics, then each one exists', async () => {
    const names = await metricNames();
    const texts = [
      readFileSync(join(ROOT, 'ops/prometheus-alerts.yml'), 'utf8'),
      readFileSync(join(ROOT, 'ops/grafana-dashboard.json'), 'utf8'),
    ];
    const used = new Set(texts.flatMap((t) => [...t.matchAll(/countersign_[a-z_]+/g)].map((m) => m[0])));
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) {
      const base = name.replace(/_(bucket|count|sum)$/, '');
      expect(names.has(base) || names.has(name), name).toBe(true);
    }
  });
});
