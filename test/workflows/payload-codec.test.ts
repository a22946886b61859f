// Payloads in Temporal are sealed: the raw history (`temporal workflow show -o json`) and the dev server's database
// file hold none of a request's parameters, reason or outcome, while the API and, through the codec endpoint, an
// operator still read them. Old histories stay readable after the master key is rotated.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCacheDir, loadSettings } from '../../src/config/settings';
import type { ActionRequestState } from '../../src/contracts/types';
import { createLogger } from '../../src/logger';
import { resolveTemporalCli } from '../../src/temporal/cli';
import { ENCRYPTED_ENCODING, EncryptionCodec, KEY_ID_METADATA } from '../../src/temporal/codec';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { createMasterKeyring, generateMasterKey, parseMasterKey } from '../../src/vault';
import { TEST_AGENT_KEY, testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { call, eventually, operatorToken, startApi, type Api } from '../integration/http-support';

const run = promisify(execFile);
const UI_ORIGIN = 'http://localhost:8233';
const operator = { kind: 'operator' as const, id: 'carol' };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Every `data` field of a `temporal workflow show -o json` document, decoded from base64. */
function payloadData(doc: unknown): { encoding: string; text: string }[] {
  const found: { encoding: string; text: string }[] = [];
  const stack: unknown[] = [doc];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) stack.push(...(v as unknown[]));
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.data === 'string' && o.metadata && typeof o.metadata === 'object') {
        const enc = (o.metadata as Record<string, unknown>).encoding;
        found.push({
          encoding: typeof enc === 'string' ? Buffer.from(enc, 'base64').toString() : '',
          text: Buffer.from(o.data, 'base64').toString('latin1'),
        });
      }
      stack.push(...Object.values(o));
    }
  }
  return found;
}

function databaseBytes(dir: string): string {
  return readdirSync(dir)
    .filter((f) => f.startsWith('temporal.sqlite'))
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('\n');
}

describe('payload codec', () => {
  let cli: string;
  let dataDir: string;
  let server: DevServer;
  let target: TargetServer;
  let h: Harness;
  let api: Api;
  let sealed: ActionRequestState;
  const firstKey = parseMasterKey(generateMasterKey(), 'first');
  const canary = { param: `cust_canary_${randomUUID().slice(0, 8)}`, reason: `reason-canary-${randomUUID()}` };

  async function submitRead(harness: Harness, customerId: string, reason: string): Promise<ActionRequestState> {
    const agent = await harness.agents.get('support-bot');
    if (!agent) throw new Error('no agent');
    const { state } = await harness.service.submit(
      agent,
      { action: 'customers.read', params: { customerId }, reason },
      randomUUID(),
    );
    return eventually(
      () => harness.service.get(operator, state.requestId),
      (s) => s.status === 'succeeded' || s.status === 'failed',
      30_000,
    );
  }

  async function show(id: string, ...extra: string[]): Promise<string> {
    const { stdout } = await run(
      cli,
      ['workflow', 'show', '-w', id, '--address', server.address, '-o', 'json', ...extra],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    return stdout;
  }

  beforeAll(async () => {
    const settings = loadSettings();
    const resolved = await resolveTemporalCli({
      explicitPath: settings.TEMPORAL_CLI_PATH,
      cacheDir: settings.COUNTERSIGN_CACHE_DIR ?? defaultCacheDir(),
      log: () => undefined,
    });
    if (!resolved) throw new Error('no Temporal CLI');
    cli = resolved.path;
    dataDir = mkdtempSync(join(tmpdir(), 'countersign-codec-'));
    server = await startDevServer({
      cliPath: cli,
      dataDir,
      port: await freePort(),
      uiPort: await freePort(),
      namespace: 'default',
      logger: createLogger({ level: 'error' }),
    });
    target = await startTargetServer();
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_codec_secret_44a1';
    h = await startHarness({
      config: testConfig({ targetHost: target.host }),
      identity: {},
      temporalAddress: server.address,
      codec: new EncryptionCodec(createMasterKeyring(firstKey)),
    });
    api = await startApi(h, { codec: { codec: h.codec!, corsOrigin: UI_ORIGIN } });
    sealed = await submitRead(h, canary.param, canary.reason);
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await h?.close();
    await target?.close();
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('when a request ran, then the API shows its reason and outcome in clear', async () => {
    expect(sealed.status).toBe('succeeded');
    expect(sealed.outcome?.summary).toContain(canary.param);
    const res = await call<{ reason: string }>(api, 'GET', `/v1/action-requests/${sealed.requestId}`, {
      token: operatorToken(h, 'carol'),
    });
    expect(res.json.reason).toBe(canary.reason);
  });

  it('when the raw history is shown, then no parameter, reason or outcome is in it and every payload is sealed', async () => {
    const raw = await show(sealed.requestId);
    const payloads = payloadData(JSON.parse(raw));

    expect(payloads.length).toBeGreaterThan(3);
    expect(raw).not.toContain(canary.param);
    expect(raw).not.toContain(canary.reason);
    for (const p of payloads) {
      expect(p.text).not.toContain(canary.param);
      expect(p.text).not.toContain(canary.reason);
    }
    // Search attributes are payloads too, but plain ids and enums; all the others are sealed.
    const plain = payloads.filter((p) => p.encoding !== ENCRYPTED_ENCODING);
    for (const p of plain) expect(p.encoding).toBe('json/plain');
    expect(payloads.filter((p) => p.encoding === ENCRYPTED_ENCODING).length).toBeGreaterThan(3);
  });

  it('when an operator shows the history through the codec endpoint, then the reason and parameters are readable', async () => {
    const decoded = await show(
      sealed.requestId,
      '--codec-endpoint',
      `${api.url}/codec`,
      '--codec-auth',
      `Bearer ${operatorToken(h, 'carol')}`,
    );
    // The CLI's JSON output keeps payloads as base64; the decoded ones are plain JSON again.
    const texts = payloadData(JSON.parse(decoded));
    expect(texts.filter((p) => p.encoding === ENCRYPTED_ENCODING)).toEqual([]);
    const all = `${decoded}\n${texts.map((p) => p.text).join('\n')}`;
    expect(all).toContain(canary.reason);
    expect(all).toContain(canary.param);
  });

  it('when the codec endpoint is called without an operator token, then 401, and with an agent key 403', async () => {
    const [payload] = await h.codec!.encode([
      { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"x"') },
    ]);
    const body = { payloads: [toJson(payload!)] };
    const anonymous = await call(api, 'POST', '/codec/decode', { body });
    const agent = await call(api, 'POST', '/codec/decode', { body, token: TEST_AGENT_KEY });
    const operatorCall = await call<{ payloads: { data: string }[] }>(api, 'POST', '/codec/decode', {
      body,
      token: operatorToken(h, 'carol'),
    });

    expect(anonymous.status).toBe(401);
    expect(agent.status).toBe(403);
    expect(operatorCall.status).toBe(200);
    expect(Buffer.from(operatorCall.json.payloads[0]!.data, 'base64').toString()).toBe('"x"');
  });

  it('when the Temporal UI preflights the codec endpoint, then CORS allows its origin only', async () => {
    const ui = await fetch(`${api.url}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: UI_ORIGIN, 'access-control-request-method': 'POST' },
    });
    const other = await fetch(`${api.url}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });

    expect(ui.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(ui.headers.get('access-control-allow-headers')).toContain('X-Namespace');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('when the master key is rotated, then the old history still decodes with the previous key, and new payloads use the new one', async () => {
    const history = await h.client.workflow.getHandle(sealed.requestId).fetchHistory();
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
    expect(input.length).toBe(1);
    const old = input as Payload[];
    const oldKeyId = Buffer.from(old[0]!.metadata![KEY_ID_METADATA]!).toString();
    expect(oldKeyId).toBe(h.codec!.currentKeyId);

    const next = parseMasterKey(generateMasterKey(), 'next');
    const rotated = new EncryptionCodec(createMasterKeyring(next, [firstKey]));
    const onlyNew = new EncryptionCodec(createMasterKeyring(next));

    const [decoded] = await rotated.decode(old);
    expect(Buffer.from(decoded!.data!).toString()).toContain(canary.reason);
    await expect(onlyNew.decode(old)).rejects.toThrow(oldKeyId);
    const [fresh] = await rotated.encode([decoded!]);
    expect(Buffer.from(fresh!.metadata![KEY_ID_METADATA]!).toString()).toBe(next.id);
  });

  it('when the dev server’s database file is read, then it holds no sealed canary, while an unsealed run shows the check works', async () => {
    const plainCanary = `plain_canary_${randomUUID().slice(0, 8)}`;
    const plain = await startHarness({
      config: testConfig({ targetHost: target.host }),
      codec: false,
      temporalAddress: server.address,
    });
    try {
      await submitRead(plain, plainCanary, 'plain run');
    } finally {
      await plain.close();
    }
    // The WAL holds recent writes until a checkpoint; both files are read.
    const bytes = await eventually(
      async () => databaseBytes(dataDir),
      (b) => b.includes(plainCanary),
      30_000,
    );
    expect(bytes).not.toContain(canary.param);
    expect(bytes).not.toContain(canary.reason);
  });
});

function toJson(p: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}
