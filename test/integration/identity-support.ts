// Helpers of the agent identity suites: register agents over the operator API, obtain access tokens the OAuth2 way,
// submit as an agent. Everything goes over HTTP, as a deployed agent and operator would do it.
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { loadSettings } from '../../src/config/settings';
import type { Dialect } from '../../src/db/database';
import { postgresUnavailable } from '../identity/databases';
import { call, type ActionRequestResource, type Api, type CallResult } from './http-support';

/**
 * The databases a suite runs on: SQLite always, PostgreSQL when it answers. Under CI=true an unreachable PostgreSQL
 * fails the suite instead of being skipped, as in the identity unit suites.
 */
export async function databasesUnderTest(): Promise<Dialect[]> {
  const unavailable = await postgresUnavailable();
  if (!unavailable) return ['sqlite', 'postgres'];
  if (loadSettings().CI) throw new Error(unavailable);
  process.stderr.write(`PostgreSQL half skipped: ${unavailable}\n`);
  return ['sqlite'];
}

export interface RegisteredClient {
  clientId: string;
  clientSecret: string;
  /** Every answer that carried the secret (the creation), so leak checks can leave them out. */
  answers: string[];
}

/** Registers an agent through POST /v1/agents with an operator's token; returns its client credentials. */
export async function registerAgent(
  api: Api,
  operatorToken: string,
  agent: { id: string; owner: string; allowedActions: string[]; rateLimit?: string },
): Promise<RegisteredClient> {
  const res = await call<{ agent: { id: string }; credentials: { clientId: string; clientSecret: string } }>(
    api,
    'POST',
    '/v1/agents',
    { token: operatorToken, body: agent },
  );
  expect(res.status, res.text).toBe(201);
  return {
    clientId: res.json.credentials.clientId,
    clientSecret: res.json.credentials.clientSecret,
    answers: [res.text],
  };
}

/** POST /oauth/token with HTTP Basic client authentication (or form fields with `form: true`). */
export async function tokenRequest(
  api: Api,
  client: { clientId: string; clientSecret: string },
  options: { scope?: string; form?: boolean; grantType?: string } = {},
): Promise<CallResult<Record<string, unknown>>> {
  const form = new URLSearchParams({ grant_type: options.grantType ?? 'client_credentials' });
  if (options.scope) form.set('scope', options.scope);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (options.form) {
    form.set('client_id', client.clientId);
    form.set('client_secret', client.clientSecret);
  } else {
    const basic = `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
  }
  return call<Record<string, unknown>>(api, 'POST', '/oauth/token', { raw: form.toString(), headers });
}

/** An access token for the client, or the test fails with the token endpoint's answer. */
export async function accessToken(
  api: Api,
  client: { clientId: string; clientSecret: string },
  scope?: string,
): Promise<string> {
  const res = await tokenRequest(api, client, scope ? { scope } : {});
  expect(res.status, res.text).toBe(200);
  return res.json.access_token as string;
}

/** Submits an action request with a bearer credential and a fresh Idempotency-Key. */
export function submitAs(
  api: Api,
  token: string,
  body: Record<string, unknown>,
  query = '',
): Promise<CallResult<ActionRequestResource>> {
  return call<ActionRequestResource>(api, 'POST', `/v1/action-requests${query}`, {
    token,
    body,
    headers: { 'idempotency-key': randomUUID() },
  });
}

/** A refund the test config allows outright (policy small-refunds). */
export function smallRefund(tag: string): Record<string, unknown> {
  return {
    action: 'payments.refund',
    params: { paymentId: `pay_${tag}`, amount: 25, currency: 'USD' },
    reason: 'duplicate charge',
  };
}

/** A refund that needs two finance approvers (policy large-refunds). */
export function largeRefund(tag: string): Record<string, unknown> {
  return {
    action: 'payments.refund',
    params: { paymentId: `pay_${tag}`, amount: 5000, currency: 'EUR' },
    reason: 'contract ended',
  };
}
