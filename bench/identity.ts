// B9: what agent identity adds to submit latency. Two HTTP apps over the same request service and Temporal server:
// the core's path (a static API key checked against the config, nothing else) and the identity path (an EdDSA access
// token verified, the agent's standing read from the registry cache, the kill switches and the rate limit checked).
// Submits alternate between the two, so both see the same server and the same load; the figure is the difference of
// their p99s. An agent reuses its token until it expires, so the token path measures that steady state; the first use
// of a token (its signature verified, then remembered until expiry) is timed in-process, with the other identity
// steps, where Temporal's own jitter can neither hide nor inflate them.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { connectTemporal } from '../src/temporal/adapter';
import type { Express } from 'express';
import { createConfigAgentDirectory } from '../src/agents';
import { ActionCatalog } from '../src/catalog';
import { openDatabase } from '../src/db/database';
import { createHttpApp } from '../src/http/app';
import { createApiKeyAuthenticator } from '../src/http/auth';
import { createIdentity } from '../src/identity';
import { createLogger } from '../src/logger';
import { createMetrics } from '../src/metrics';
import { PolicyEngine } from '../src/policy/engine';
import { createRequestService } from '../src/requests';
import { prefixedTaskQueues } from '../src/temporal/worker';
import { TEST_AGENT_KEY, testConfig } from '../test/support/config';
import { quantile } from './stats';

/** Rounds the samples are split into for the spread of the p99 difference. */
export const ROUNDS = 5;

export interface IdentityFigures {
  samples: number;
  apiKeyP50ms: number;
  apiKeyP99ms: number;
  tokenP50ms: number;
  tokenP99ms: number;
  /** p99(token path) − p99(API-key path), the issue's figure. */
  p99DifferenceMs: number;
  p50DifferenceMs: number;
  /** The p99 difference within each of ROUNDS consecutive rounds, sorted: its spread shows how much is noise. */
  roundP99DifferencesMs: number[];
  /** In-process: authenticating with a token already seen (signature verified before; times, key, standing read). */
  verifyP50us: number;
  verifyP99us: number;
  /** In-process: authenticating with a token used for the first time (the EdDSA signature verified). */
  firstUseP50us: number;
  firstUseP99us: number;
  /** In-process: authenticate + kill-switch check + rate limit, everything identity adds at submit. */
  submitChecksP50us: number;
  submitChecksP99us: number;
}

/** Runs B9 against a Temporal server at `address`. */
export async function runIdentityBench(address: string, options: { samples: number }): Promise<IdentityFigures> {
  const logger = createLogger({ level: 'warn' });
  const config = testConfig({ targetHost: '127.0.0.1:9' });
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-bench-identity-'));
  const database = await openDatabase({ dataDir });
  const connection = await connectTemporal({ address });
  const client = new Client({ connection, namespace: 'default' });
  // No worker polls this queue: submit latency ends when the workflow has started, and idle workflows cost nothing.
  const taskQueues = prefixedTaskQueues(`bench-identity-${randomUUID().slice(0, 8)}`);
  const catalog = ActionCatalog.compile(config);
  const service = createRequestService({
    client,
    config,
    catalog,
    policy: PolicyEngine.compile(config),
    taskQueues,
    logger,
  });
  // Production defaults for the caches; a rate no benchmark run reaches, so every submit is measured, none refused.
  const identity = await createIdentity({
    db: database.db,
    config,
    logger,
    tokenTtlMs: 15 * 60_000,
    audience: 'countersign',
    issuer: 'countersign',
    signingKeyRotationMs: 30 * 24 * 3600_000,
    secretOverlapMs: 3600_000,
    agentCacheMs: 2_000,
    killSwitchCacheMs: 1_000,
    defaultRateLimit: '1000000/s',
    allowApiKeys: false,
  });
  const agent = await identity.registry.get('support-bot');
  if (!agent) throw new Error('support-bot was not seeded');
  const { accessToken } = await identity.tokens.issueFor(agent);

  const base = { service, config, catalog, logger, readiness: () => Promise.resolve({ ready: true, checks: {} }) };
  const core = await listen(
    createHttpApp({
      ...base,
      metrics: createMetrics(),
      authenticator: createApiKeyAuthenticator({ agents: createConfigAgentDirectory(config) }),
    }),
  );
  const governed = await listen(
    createHttpApp({
      ...base,
      metrics: createMetrics(),
      authenticator: identity.authenticator,
      identity: {
        identity,
        cancelInScope: () => Promise.resolve({ inScope: 0, operationId: 'none' }),
      },
    }),
  );

  const submit = async (url: string, credential: string) => {
    const started = performance.now();
    const res = await fetch(`${url}/v1/action-requests`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${credential}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        action: 'payments.refund',
        params: { paymentId: `pay_${randomUUID().slice(0, 8)}`, amount: 25, currency: 'USD' },
        reason: 'benchmark',
      }),
    });
    await res.text();
    if (res.status !== 201) throw new Error(`submit answered ${res.status}`);
    return performance.now() - started;
  };

  try {
    for (let i = 0; i < 20; i++) {
      await submit(core.url, TEST_AGENT_KEY);
      await submit(governed.url, accessToken);
    }
    const apiKeyMs: number[] = [];
    const tokenMs: number[] = [];
    for (let i = 0; i < options.samples; i++) {
      // Alternate which path goes first, so neither always meets a server just woken by the other.
      if (i % 2 === 0) {
        apiKeyMs.push(await submit(core.url, TEST_AGENT_KEY));
        tokenMs.push(await submit(governed.url, accessToken));
      } else {
        tokenMs.push(await submit(governed.url, accessToken));
        apiKeyMs.push(await submit(core.url, TEST_AGENT_KEY));
      }
    }

    // A new token costs one signature verification, once: time that on tokens never presented before.
    const fresh: string[] = [];
    for (let i = 0; i < 500; i++) fresh.push((await identity.tokens.issueFor(agent)).accessToken);
    const firstUseUs: number[] = [];
    for (const t of fresh) {
      const started = performance.now();
      await identity.authenticator.authenticate(`Bearer ${t}`);
      firstUseUs.push((performance.now() - started) * 1000);
    }

    const header = `Bearer ${accessToken}`;
    const verifyUs: number[] = [];
    const checksUs: number[] = [];
    for (let i = 0; i < Math.max(2_000, options.samples * 10); i++) {
      let t = performance.now();
      await identity.authenticator.authenticate(header);
      verifyUs.push((performance.now() - t) * 1000);
      t = performance.now();
      const caller = await identity.authenticator.authenticate(header);
      if (caller?.kind !== 'agent') throw new Error('the token did not authenticate');
      await identity.killSwitches.enforce(caller.agent.id, 'payments.refund');
      await identity.rateLimiter.enforce(caller.agent.id);
      checksUs.push((performance.now() - t) * 1000);
    }

    const apiKeyP99ms = quantile(apiKeyMs, 0.99);
    const tokenP99ms = quantile(tokenMs, 0.99);
    const size = Math.ceil(options.samples / ROUNDS);
    const roundP99DifferencesMs = Array.from({ length: ROUNDS }, (_, r) => {
      const slice = (values: number[]) => values.slice(r * size, (r + 1) * size);
      return quantile(slice(tokenMs), 0.99) - quantile(slice(apiKeyMs), 0.99);
    }).sort((a, b) => a - b);
    return {
      samples: options.samples,
      apiKeyP50ms: quantile(apiKeyMs, 0.5),
      apiKeyP99ms,
      tokenP50ms: quantile(tokenMs, 0.5),
      tokenP99ms,
      p99DifferenceMs: tokenP99ms - apiKeyP99ms,
      p50DifferenceMs: quantile(tokenMs, 0.5) - quantile(apiKeyMs, 0.5),
      roundP99DifferencesMs,
      verifyP50us: quantile(verifyUs, 0.5),
      verifyP99us: quantile(verifyUs, 0.99),
      firstUseP50us: quantile(firstUseUs, 0.5),
      firstUseP99us: quantile(firstUseUs, 0.99),
      submitChecksP50us: quantile(checksUs, 0.5),
      submitChecksP99us: quantile(checksUs, 0.99),
    };
  } finally {
    await core.close();
    await governed.close();
    await connection.close();
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function listen(app: Express): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
