// docker-compose.yml is checked statically (no Docker engine here): the topology, ports, and that every environment
// variable given to a Countersign service is a setting the code reads (or a credential the config names).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigFile } from '../../src/config/load';
import { settingsSchema } from '../../src/config/settings';
import { SEARCH_ATTRIBUTE_DECLARATIONS } from '../../src/contracts/names';
import { TEMPORAL_SERVER_VERSION } from '../../scripts/temporal-server';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  network_mode?: string;
  volumes?: string[];
  healthcheck?: { test?: string[] | string };
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const compose = parse(readFileSync(`${root}docker-compose.yml`, 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  configs?: Record<string, { content?: string }>;
};
const services = compose.services;
const service = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`no service ${name}`);
  return s;
};
const COUNTERSIGN_SERVICES = ['countersign-api', 'countersign-worker'];

/** Compose interpolation (`${VAR:-default}`, `${VAR:?message}`) resolved to its default or a placeholder. */
function interpolate(value: string): string {
  return value.replace(
    /\$\{[A-Z0-9_]+(?::?-([^}]*)|:?\?[^}]*)?\}/g,
    (_, fallback: string | undefined) => fallback ?? 'x',
  );
}

describe('docker-compose.yml', () => {
  it('when the topology is read, then it has PostgreSQL, Temporal with its setup jobs, the UI, the API and the worker', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'billing-example',
        'countersign-api',
        'countersign-worker',
        'postgresql',
        'temporal',
        'temporal-namespace',
        'temporal-schema',
        'temporal-ui',
      ].sort(),
    );
    expect(service('postgresql').image).toBe('postgres:16');
    expect(service('temporal').image).toMatch(/^temporalio\/server:\d+\.\d+\.\d+$/);
    expect(service('temporal-schema').image).toMatch(/^temporalio\/admin-tools:\d+\.\d+\.\d+$/);
    expect(service('temporal-namespace').image).toMatch(/^temporalio\/admin-tools:\d+\.\d+\.\d+$/);
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
    for (const [name, s] of Object.entries(services)) {
      expect(s.image ?? '', `${name} uses the deprecated auto-setup image`).not.toContain('auto-setup');
    }
  });

  it('when services start, then each waits for what it needs: schema before server, namespace before Countersign', () => {
    const condition = (name: string, on: string) =>
      (service(name).depends_on as Record<string, { condition: string }> | undefined)?.[on]?.condition;
    expect(condition('temporal-schema', 'postgresql')).toBe('service_healthy');
    expect(condition('temporal', 'temporal-schema')).toBe('service_completed_successfully');
    expect(condition('temporal-namespace', 'temporal')).toBe('service_healthy');
    for (const name of COUNTERSIGN_SERVICES) {
      expect(condition(name, 'temporal-namespace')).toBe('service_completed_successfully');
      expect(condition(name, 'postgresql')).toBe('service_healthy');
    }
  });

  it('when ports are published, then the API, the Temporal frontend and the UI are where the README says', () => {
    expect(service('countersign-api').ports).toEqual(['8080:8080']);
    expect(String(service('countersign-api').environment?.PORT)).toBe('8080');
    expect(service('countersign-api').environment?.HOST).toBe('0.0.0.0');
    expect(service('temporal').ports).toEqual(['7233:7233']);
    expect(service('temporal-ui').ports).toEqual(['8233:8080']);
    expect(service('countersign-worker').ports).toBeUndefined();
  });

  it('when Countersign services get environment variables, then every name is a settings key or a connector credential', () => {
    const config = loadConfigFile(undefined).config;
    const credentialVariables = Object.values(config.connectors).flatMap((c) =>
      c.credential && 'env' in c.credential ? [c.credential.env] : [],
    );
    const allowed = new Set([...Object.keys(settingsSchema.shape), ...credentialVariables]);
    for (const name of COUNTERSIGN_SERVICES) {
      const env = service(name).environment ?? {};
      const unknown = Object.keys(env).filter((k) => !allowed.has(k));
      expect(unknown, `${name} sets variables no setting reads`).toEqual([]);
      const settingsOnly = Object.fromEntries(
        Object.entries(env)
          .filter(([k]) => k in settingsSchema.shape)
          .map(([k, v]) => [k, interpolate(String(v))]),
      );
      const parsed = settingsSchema.safeParse(settingsOnly);
      expect(parsed.success ? [] : parsed.error.issues, `${name} has invalid settings values`).toEqual([]);
      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
    }
  });

  it('when the API and worker run, then they run the production commands of one image built from the Dockerfile', () => {
    expect(service('countersign-api').command).toEqual(['api']);
    expect(service('countersign-worker').command).toEqual(['worker']);
    expect(service('countersign-api').build).toBe('.');
    expect(service('countersign-worker').image).toBe(service('countersign-api').image);
    const dockerfile = readFileSync(`${root}Dockerfile`, 'utf8');
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "bin\/countersign\.js"\]/);
    for (const [, source] of dockerfile.matchAll(/^COPY (?!--from)(\S+)(?: \S+)* \S+$/gm)) {
      expect(existsSync(`${root}${source}`), `Dockerfile copies missing ${source}`).toBe(true);
    }
  });

  it('when the namespace job runs, then it registers exactly the search attributes Countersign declares', () => {
    const job = service('temporal-namespace');
    expect(String(job.environment?.SEARCH_ATTRIBUTES).split(/\s+/)).toEqual([...SEARCH_ATTRIBUTE_DECLARATIONS]);
    expect(String(job.environment?.NAMESPACE)).toBe('default');
    const script = Array.isArray(job.command) ? job.command.join('\n') : String(job.command);
    expect(script).toContain('operator namespace create');
    expect(script).toContain('operator search-attribute create');
  });

  it('when the example billing stand-in runs, then it shares the worker network so the example config reaches it', () => {
    const billing = service('billing-example');
    expect(billing.network_mode).toBe('service:countersign-worker');
    expect(billing.entrypoint).toEqual(['node', 'dist/billing-service.js']);
    expect(service('countersign-worker').environment?.BILLING_API_TOKEN).toBe(billing.environment?.BILLING_API_TOKEN);
  });
  it('when the Temporal images are pinned, then they are the release the topology tests build and run', () => {
    const release = TEMPORAL_SERVER_VERSION.replace(/^v/, '');
    expect(service('temporal').image).toBe(`temporalio/server:${release}`);
    expect(service('temporal-schema').image).toBe(`temporalio/admin-tools:${release}`);
    expect(service('temporal-namespace').image).toBe(`temporalio/admin-tools:${release}`);
  });

  it('when long-running services start, then each has a health check, the worker included', () => {
    for (const name of ['postgresql', 'temporal', 'countersign-api', 'countersign-worker']) {
      expect(service(name).healthcheck?.test, `${name} has no health check`).toBeDefined();
    }
    expect(JSON.stringify(service('countersign-api').healthcheck?.test)).toContain('/readyz');
    const worker = service('countersign-worker');
    expect(JSON.stringify(worker.healthcheck?.test)).toContain(
      `:${String(worker.environment?.COUNTERSIGN_METRICS_PORT)}/metrics`,
    );
  });

  it('when Countersign services get their settings, then Slack and the Temporal UI pass through and no demo API key is on', () => {
    const api = service('countersign-api').environment ?? {};
    const worker = service('countersign-worker').environment ?? {};
    for (const key of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN']) {
      expect(String(api[key]), key).toBe('${' + key + ':-}');
    }
    expect(String(worker.SLACK_BOT_TOKEN)).toBe('${SLACK_BOT_TOKEN:-}');
    expect(api.TEMPORAL_UI_URL).toBe('http://localhost:8233');
    expect(worker.TEMPORAL_UI_URL).toBe(api.TEMPORAL_UI_URL);
    // The example config's agent keys are demo keys: they stay refused unless the operator opts in.
    expect(interpolate(String(api.COUNTERSIGN_ALLOW_API_KEYS))).toBe('false');
    expect(worker.COUNTERSIGN_ALLOW_API_KEYS).toBeUndefined();
    // Every replica and worker shares one master key (the sealed signing keys and the vault need the same one).
    expect(String(api.COUNTERSIGN_MASTER_KEY)).toBe(String(worker.COUNTERSIGN_MASTER_KEY));
    expect(api.DATABASE_URL).toBe(worker.DATABASE_URL);
  });
});
