// One Countersign deployment in the production topology, as child processes of the compiled bin: API replicas
// (`countersign api`), a control worker (`countersign worker --queues ''`: control only) and a connector worker
// per credential domain (`countersign worker --no-control --queues <domain>`), on the suite's Temporal server over
// PostgreSQL, in a namespace and a registry database of their own, against a counting downstream.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import pg from 'pg';
import { registerNamespace } from '../../../scripts/temporal-server';
import { exportReceiptKey, generateReceiptKey } from '../../../src/receipts';
import { generateMasterKey } from '../../../src/vault';
import { startCountersign, type RunningCli } from '../../integration/cli-run';
import { startTargetServer, type TargetServer } from '../../support/target-server';

export const AGENT_KEY = `cs_topology_${randomUUID().replaceAll('-', '')}`;
export const OTHER_AGENT_KEY = `cs_topology_${randomUUID().replaceAll('-', '')}`;
const ADMIN_TOKEN = `cs_topology_admin_${randomUUID().replaceAll('-', '')}`;
const BILLING_TOKEN = 'tok_topology_billing_secret_7d21';

/**
 * The deployment's config: one credential domain, `billing`, whose downstream honours the Idempotency-Key that every
 * HTTP connector sends (the request id). With the execution ledger this connector declares `idempotency: key`.
 */
export function topologyConfig(targetHost: string, extraRules = ''): string {
  const sha = (key: string) => createHash('sha256').update(key).digest('hex');
  return `
people:
  carol: { email: carol@example.com, slack: U0CAROL01 }
  erin: { email: erin@example.com, slack: U0ERIN001 }
agents:
  - id: topology-bot
    owner: carol
    allowedActions: [payments.refund]
    apiKeySha256: ${sha(AGENT_KEY)}
  - id: other-bot
    owner: carol
    allowedActions: [payments.refund]
    apiKeySha256: ${sha(OTHER_AGENT_KEY)}
approvers:
  finance: { members: [carol, erin] }
connectors:
  billing:
    type: http
    allowedHosts: ['${targetHost}']
    timeout: 5s
    credential: { env: CS_TOPOLOGY_BILLING_TOKEN }
actions:
  payments.refund:
    description: Refund a payment.
    risk: high
    connector: billing
    http: { method: POST, url: 'http://${targetHost}/v1/payments/{paymentId}/refunds' }
    params:
      type: object
      additionalProperties: false
      required: [paymentId, amount]
      properties:
        paymentId: { type: string, pattern: '^pay_[A-Za-z0-9]{4,40}$' }
        amount: { type: number, exclusiveMinimum: 0 }
policies:
  rules:
    - { id: small-refunds, match: { actions: [payments.refund] }, when: params.amount <= 1000, effect: allow }
    - id: large-refunds
      match: { actions: [payments.refund] }
      when: params.amount > 1000
      effect: require_approval
      approvers: finance
      expireAfter: 1h
${extraRules}
`;
}

export interface Replica {
  cli: RunningCli;
  url: string;
}

export interface Topology {
  namespace: string;
  target: TargetServer;
  replicas: Replica[];
  /** The control worker (workflows, re-check, notifications). */
  control: RunningCli;
  /** The connector worker of the `billing` credential domain. */
  connector: RunningCli;
  /** An operator's bearer token (the first operator, bootstrapped with the admin token). */
  operator: string;
  /** Starts another API replica (same settings); resolves once it listens. */
  startReplica(): Promise<Replica>;
  /** Starts a worker process again (after a kill); resolves once it polls. */
  startControlWorker(): Promise<RunningCli>;
  startConnectorWorker(): Promise<RunningCli>;
  close(): Promise<void>;
}

/** Starts the deployment; `env` adds settings to every process. */
export async function startTopology(options: {
  name: string;
  replicas?: number;
  env?: Record<string, string>;
  extraRules?: string;
  /** Where the processes reach PostgreSQL (a proxy in front of it, say); the suite's server by default. */
  databaseUrl?: (url: string) => string;
}): Promise<Topology> {
  const namespace = `cs-topology-${options.name}-${randomUUID().slice(0, 8)}`;
  const address = inject('topologyTemporalAddress');
  const target = await startTargetServer();
  const dir = mkdtempSync(join(tmpdir(), `countersign-topology-${options.name}-`));
  const configPath = join(dir, 'countersign.yaml');
  writeFileSync(configPath, topologyConfig(target.host, options.extraRules));
  const database = await createDatabase(`cs_topology_${options.name.replaceAll('-', '_')}`);
  const children: RunningCli[] = [];
  await registerNamespace({ address, namespace, log: () => undefined });

  const env = {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
    DATABASE_URL: options.databaseUrl ? options.databaseUrl(database.url) : database.url,
    COUNTERSIGN_CONFIG: configPath,
    COUNTERSIGN_DATA_DIR: dir,
    COUNTERSIGN_MASTER_KEY: generateMasterKey(),
    COUNTERSIGN_RECEIPT_KEY: exportReceiptKey(await generateReceiptKey()),
    COUNTERSIGN_ADMIN_TOKEN: ADMIN_TOKEN,
    COUNTERSIGN_ALLOW_API_KEYS: 'true',
    CS_TOPOLOGY_BILLING_TOKEN: BILLING_TOKEN,
    HOST: '127.0.0.1',
    PORT: '0',
    COUNTERSIGN_METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    ...options.env,
  };
  const spawnTracked = (args: string[], extra: Record<string, string> = {}) => {
    const cli = startCountersign(args, { ...env, ...extra });
    children.push(cli);
    return cli;
  };
  const startReplica = async (): Promise<Replica> => {
    const cli = spawnTracked(['api']);
    const [, url] = await cli.waitForStdout(/"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*"msg":"API listening"/, 90_000);
    return { cli, url: url! };
  };
  const startWorker = async (args: string[]) => {
    // Each worker process binds its SDK metrics exporter; two on one machine need two ports.
    const cli = spawnTracked(['worker', ...args], {
      COUNTERSIGN_TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
    });
    await cli.waitForStdout(/"msg":"workers running"/, 90_000);
    return cli;
  };
  const startControlWorker = () => startWorker(['--queues', '']);
  const startConnectorWorker = () => startWorker(['--no-control', '--queues', 'billing']);

  const close = async () => {
    await Promise.all(children.map((c) => c.stop('SIGTERM', 10_000)));
    await target.close();
    await database.drop();
  };
  try {
    // The first replica migrates the registry and makes the signing keys; the others find them.
    const replicas: Replica[] = [await startReplica()];
    for (let i = 1; i < (options.replicas ?? 2); i++) replicas.push(await startReplica());
    const [control, connector] = await Promise.all([startControlWorker(), startConnectorWorker()]);
    const operator = await bootstrapOperator(replicas[0]!.url);
    await waitUntilReady(
      replicas.map((r) => r.url),
      60_000,
    );
    return {
      namespace,
      target,
      replicas,
      control,
      connector,
      operator,
      startReplica,
      startControlWorker,
      startConnectorWorker,
      close,
    };
  } catch (err) {
    const outputs = children
      .map((c) => c.output().stdout.slice(-3000) + c.output().stderr.slice(-3000))
      .join('\n---\n');
    await close();
    throw new Error(`${String(err)}\n${outputs}`);
  }
}

async function bootstrapOperator(url: string): Promise<string> {
  const res = await fetch(`${url}/v1/operators`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ id: 'erin' }),
  });
  if (res.status !== 201) throw new Error(`operator bootstrap: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** Resolves once every URL's /readyz answers 200. */
export async function waitUntilReady(urls: string[], timeoutMs: number): Promise<void> {
  await Promise.all(urls.map((url) => until(async () => (await fetch(`${url}/readyz`)).status === 200, timeoutMs)));
}

/** Polls `check` every 100 ms until it holds; rejects after `timeoutMs` (with the last error, if any). */
export async function until(check: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err instanceof Error ? err.message : JSON.stringify(err);
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface Submitted {
  status: number;
  id?: string;
  requestStatus?: string;
  code?: string;
}

/** Submits a refund as an agent; `amount` above 1000 parks it for approval. */
export async function submitRefund(
  url: string,
  options: { key?: string; amount?: number; idempotencyKey?: string; paymentId?: string } = {},
): Promise<Submitted> {
  const init = {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${options.key ?? AGENT_KEY}`,
      'Content-Type': 'application/json',
      'Idempotency-Key': options.idempotencyKey ?? `topology-${randomUUID()}`,
    },
    body: JSON.stringify({
      action: 'payments.refund',
      params: {
        paymentId: options.paymentId ?? `pay_${randomUUID().replaceAll('-', '')}`,
        amount: options.amount ?? 10,
      },
      reason: 'topology test',
    }),
  };
  let res: Response;
  try {
    res = await fetch(`${url}/v1/action-requests`, init);
  } catch (err) {
    // A pooled keep-alive socket the replica closed as idle just as the request went out: sent again on a fresh
    // connection under the same Idempotency-Key, as a careful client does (the submit cannot run twice).
    if ((err as { cause?: { code?: string } }).cause?.code !== 'UND_ERR_SOCKET') throw err;
    res = await fetch(`${url}/v1/action-requests`, init);
  }
  const body = (await res.json().catch(() => ({}))) as { id?: string; status?: string; code?: string };
  return {
    status: res.status,
    ...(body.id ? { id: body.id } : {}),
    ...(body.status ? { requestStatus: body.status } : {}),
    ...(body.code ? { code: body.code } : {}),
  };
}

const TERMINAL = new Set(['succeeded', 'failed', 'denied', 'rejected', 'expired', 'cancelled', 'terminated']);

/** True for a terminal request status. */
export function isTerminal(status: string | undefined): boolean {
  return status !== undefined && TERMINAL.has(status);
}

/** A request's status as an operator reads it (undefined when the API cannot answer right now). */
export async function statusOf(url: string, operator: string, id: string): Promise<string | undefined> {
  const res = await fetch(`${url}/v1/action-requests/${encodeURIComponent(id)}`, {
    headers: { Authorization: `Bearer ${operator}` },
  });
  if (res.status !== 200) return undefined;
  const body = (await res.json()) as { status: string; stale?: boolean };
  return body.stale ? undefined : body.status;
}

/** Waits until every request is terminal; returns their final statuses. */
export async function waitAllTerminal(
  url: string,
  operator: string,
  ids: readonly string[],
  timeoutMs: number,
): Promise<Map<string, string>> {
  const final = new Map<string, string>();
  await until(
    async () => {
      for (const id of ids) {
        if (final.has(id)) continue;
        const status = await statusOf(url, operator, id);
        if (isTerminal(status)) final.set(id, status!);
      }
      return final.size === ids.length;
    },
    timeoutMs,
    250,
  );
  return final;
}

/** A fresh PostgreSQL database on the suite's server (the registry of one deployment). */
async function createDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const base = inject('topologyDatabaseUrl');
  const name = `${prefix}_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
