// One Countersign deployment in the production topology, as child processes of the compiled bin: API replicas
// (`countersign api`), a control worker (`countersign worker --queues ''`: control only) and a connector worker
// per credential domain (`countersign worker --no-control --queues <domain>`), on a Temporal server over PostgreSQL,
// in a namespace and a registry database of their own, against a counting downstream. The topology tests
// (./topology.ts) and the topology bench (bench/topology.ts) both run it; nothing here depends on vitest.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
const LEDGER_TOKEN = 'tok_topology_ledger_secret_41c9';

/** The credential domains of the deployment: `billing` (its worker starts with the deployment) and `ledger`. */
export type ConnectorDomain = 'billing' | 'ledger';

/**
 * The deployment's config: two credential domains. `billing`'s downstream honours the Idempotency-Key that every HTTP
 * connector sends (the request id), so it declares `idempotency: key`; `ledger` (`accounts.credit`) declares
 * `idempotency: none`, the default: a call that may have arrived is never sent again.
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
    allowedActions: [payments.refund, accounts.credit]
    apiKeySha256: ${sha(AGENT_KEY)}
  - id: other-bot
    owner: carol
    allowedActions: [payments.refund, accounts.credit]
    apiKeySha256: ${sha(OTHER_AGENT_KEY)}
approvers:
  finance: { members: [carol, erin] }
connectors:
  billing:
    type: http
    allowedHosts: ['${targetHost}']
    timeout: 5s
    credential: { env: CS_TOPOLOGY_BILLING_TOKEN }
    idempotency: key
  ledger:
    type: http
    allowedHosts: ['${targetHost}']
    timeout: 5s
    credential: { env: CS_TOPOLOGY_LEDGER_TOKEN }
    idempotency: none
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
  accounts.credit:
    description: Credit a customer account (a downstream that ignores Idempotency-Key).
    risk: medium
    connector: ledger
    http: { method: POST, url: 'http://${targetHost}/v1/accounts/{accountId}/credits' }
    params:
      type: object
      additionalProperties: false
      required: [accountId, amount]
      properties:
        accountId: { type: string, pattern: '^acct_[A-Za-z0-9]{4,40}$' }
        amount: { type: number, exclusiveMinimum: 0 }
policies:
  rules:
    - { id: credits, match: { actions: [accounts.credit] }, effect: allow }
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
  /** The deployment's registry (PostgreSQL), as its processes reach it. */
  databaseUrl: string;
  /** An operator's bearer token (the first operator, bootstrapped with the admin token). */
  operator: string;
  /** Starts another API replica (same settings); resolves once it listens. */
  startReplica(): Promise<Replica>;
  /** Starts a worker process again (after a kill); resolves once it polls. */
  startControlWorker(): Promise<RunningCli>;
  /** A connector worker of one credential domain (`billing` unless told). */
  startConnectorWorker(domain?: ConnectorDomain): Promise<RunningCli>;
  close(): Promise<void>;
}

/** Where a deployment runs: a Temporal server and a PostgreSQL server (each deployment makes a database on it). */
export interface Infrastructure {
  temporalAddress: string;
  databaseUrl: string;
}

/** Options of one deployment; `env` adds settings to every process. */
export interface DeploymentOptions {
  name: string;
  replicas?: number;
  env?: Record<string, string>;
  extraRules?: string;
  /** Where the processes reach PostgreSQL (a proxy in front of it, say); the suite's server by default. */
  databaseUrl?: (url: string) => string;
}

/** Starts the deployment on `infrastructure`; resolves once every replica is ready. */
export async function startDeployment(infrastructure: Infrastructure, options: DeploymentOptions): Promise<Topology> {
  const namespace = `cs-topology-${options.name}-${randomUUID().slice(0, 8)}`;
  const address = infrastructure.temporalAddress;
  const target = await startTargetServer();
  const dir = mkdtempSync(join(tmpdir(), `countersign-topology-${options.name}-`));
  const configPath = join(dir, 'countersign.yaml');
  writeFileSync(configPath, topologyConfig(target.host, options.extraRules));
  const database = await createDatabase(infrastructure.databaseUrl, `cs_topology_${options.name.replaceAll('-', '_')}`);
  const databaseUrl = options.databaseUrl ? options.databaseUrl(database.url) : database.url;
  const children: RunningCli[] = [];
  await registerNamespace({ address, namespace, log: () => undefined });

  const env = {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
    DATABASE_URL: databaseUrl,
    COUNTERSIGN_CONFIG: configPath,
    COUNTERSIGN_DATA_DIR: dir,
    COUNTERSIGN_MASTER_KEY: generateMasterKey(),
    COUNTERSIGN_RECEIPT_KEY: exportReceiptKey(await generateReceiptKey()),
    COUNTERSIGN_ADMIN_TOKEN: ADMIN_TOKEN,
    COUNTERSIGN_ALLOW_API_KEYS: 'true',
    CS_TOPOLOGY_BILLING_TOKEN: BILLING_TOKEN,
    CS_TOPOLOGY_LEDGER_TOKEN: LEDGER_TOKEN,
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
  const startConnectorWorker = (domain: ConnectorDomain = 'billing') =>
    startWorker(['--no-control', '--queues', domain]);

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
      databaseUrl,
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
  options: { key?: string; amount?: number; idempotencyKey?: string; paymentId?: string; wait?: number } = {},
): Promise<Submitted> {
  const params = {
    paymentId: options.paymentId ?? `pay_${randomUUID().replaceAll('-', '')}`,
    amount: options.amount ?? 10,
  };
  return submitAction(url, 'payments.refund', params, options);
}

/** Submits a credit to an account through the `ledger` connector (`idempotency: none`); policy allows it. */
export async function submitCredit(
  url: string,
  accountId: string,
  options: { wait?: number } = {},
): Promise<Submitted> {
  return submitAction(url, 'accounts.credit', { accountId, amount: 25 }, options);
}

async function submitAction(
  url: string,
  action: string,
  params: Record<string, unknown>,
  options: { key?: string; idempotencyKey?: string; wait?: number },
): Promise<Submitted> {
  const init = {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${options.key ?? AGENT_KEY}`,
      'Content-Type': 'application/json',
      'Idempotency-Key': options.idempotencyKey ?? `topology-${randomUUID()}`,
    },
    body: JSON.stringify({ action, params, reason: 'topology test' }),
  };
  const endpoint = `${url}/v1/action-requests${options.wait ? `?wait=${options.wait}` : ''}`;
  let res: Response;
  try {
    res = await fetch(endpoint, init);
  } catch (err) {
    // A pooled keep-alive socket the replica closed as idle just as the request went out: sent again on a fresh
    // connection under the same Idempotency-Key, as a careful client does (the submit cannot run twice).
    if ((err as { cause?: { code?: string } }).cause?.code !== 'UND_ERR_SOCKET') throw err;
    res = await fetch(endpoint, init);
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

/** A request as an operator reads it (undefined when the API cannot answer right now, or only from a stale cache). */
export async function requestOf(
  url: string,
  operator: string,
  id: string,
): Promise<{ status: string; outcome?: { ok: boolean; unknown?: boolean; summary: string } } | undefined> {
  const res = await fetch(`${url}/v1/action-requests/${encodeURIComponent(id)}`, {
    headers: { Authorization: `Bearer ${operator}` },
  });
  if (res.status !== 200) return undefined;
  const body = (await res.json()) as { status: string; stale?: boolean; outcome?: { ok: boolean; summary: string } };
  return body.stale ? undefined : body;
}

/** A request's status as an operator reads it (undefined when the API cannot answer right now). */
export async function statusOf(url: string, operator: string, id: string): Promise<string | undefined> {
  return (await requestOf(url, operator, id))?.status;
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

/** A fresh PostgreSQL database on the server of `base` (the registry of one deployment). */
async function createDatabase(base: string, prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
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
