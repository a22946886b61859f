// Two `countersign api` processes (the compiled bin) on one database, as two replicas behind a load balancer: an agent
// alternating between them gets its rate limit once, not once per replica, and a signed Slack request replayed to the
// other replica is refused there.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startSlackApiStub, type SlackApiStub } from '../support/slack-api-stub';
import { appHomeOpenedRequest, signSlackRequest, TEST_SIGNING_SECRET } from '../support/slack-signing';
import { startCountersign, type RunningCli } from './cli-run';
import { generateMasterKey } from '../../src/vault';

const AGENT_KEY = `cs_replicas_${randomUUID()}`;
const LIMIT = 4;

const config = `
people:
  carol: { email: carol@example.com, slack: U0CAROL01 }
agents:
  - id: replica-bot
    owner: carol
    allowedActions: [notes.write]
    apiKeySha256: ${createHash('sha256').update(AGENT_KEY).digest('hex')}
connectors:
  notes:
    type: http
    allowedHosts: ['127.0.0.1:9']
    timeout: 2s
    credential: { env: CS_REPLICAS_NOTES_TOKEN }
actions:
  notes.write:
    description: Write a note.
    risk: low
    connector: notes
    http: { method: POST, url: 'http://127.0.0.1:9/v1/notes' }
    params: { type: object, properties: { text: { type: string } } }
policies:
  rules:
    - { id: no-notes, match: { actions: [notes.write] }, effect: deny, reason: replicas test }
`;

describe('two API replicas on one database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-replicas-'));
  let slack: SlackApiStub;
  const replicas: { cli: RunningCli; url: string }[] = [];

  beforeAll(async () => {
    slack = await startSlackApiStub();
    const configPath = join(dataDir, 'countersign.yaml');
    writeFileSync(configPath, config);
    const env = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      PORT: '0',
      COUNTERSIGN_CONFIG: configPath,
      // One SQLite database in a shared data directory: the replicas' only common state.
      COUNTERSIGN_DATA_DIR: dataDir,
      // Replicas share the master key: it seals Temporal payloads and token signing keys for all of them.
      COUNTERSIGN_MASTER_KEY: generateMasterKey(),
      COUNTERSIGN_ALLOW_API_KEYS: 'true',
      COUNTERSIGN_RATE_LIMIT: `${LIMIT}/h`,
      SLACK_BOT_TOKEN: 'xoxb-replicas-test',
      SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      LOG_LEVEL: 'info',
    };
    // One after the other: the first migrates the database and makes the signing keys.
    for (let i = 0; i < 2; i++) {
      const cli = startCountersign(['api'], env);
      const [, url] = await cli.waitForStdout(/"url":"(http:\/\/127\.0\.0\.1:\d+)"[^\n]*"msg":"API listening"/, 60_000);
      replicas.push({ cli, url: url! });
    }
  }, 150_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.cli.stop('SIGTERM', 5_000)));
    await slack?.close();
  });

  const submit = (url: string) =>
    fetch(`${url}/v1/action-requests`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${AGENT_KEY}`,
        'Content-Type': 'application/json',
        'Idempotency-Key': `replicas-${randomUUID()}`,
      },
      body: JSON.stringify({ action: 'notes.write', params: { text: 'hello' }, reason: 'replicas test' }),
    });

  it('when an agent alternates between the replicas, then it gets its limit in all, not twice it', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 2 * LIMIT; i++) {
      const response = await submit(replicas[i % 2]!.url);
      statuses.push(response.status);
      if (response.status !== 429 && (response.status < 200 || response.status >= 300))
        throw new Error(await response.text());
      if (response.status === 429) {
        expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      await response.body?.cancel();
    }
    expect(statuses.filter((s) => s === 429)).toHaveLength(LIMIT);
    expect(statuses.slice(0, LIMIT).every((s) => s >= 200 && s < 300)).toBe(true);
    expect(statuses.slice(LIMIT)).toEqual(Array.from({ length: LIMIT }, () => 429));
  });

  it('when a signed Slack request is replayed to the other replica, then that replica refuses it', async () => {
    const request = appHomeOpenedRequest({ user: 'U0CAROL01' });
    const headers = { 'content-type': request.contentType, ...signSlackRequest(TEST_SIGNING_SECRET, request.body) };
    const post = (url: string) => fetch(`${url}/slack/events`, { method: 'POST', headers, body: request.body });
    const first = await post(replicas[0]!.url);
    expect(first.status).toBe(200);
    const replayed = await post(replicas[1]!.url);
    expect(replayed.status).toBe(401);
    const again = await post(replicas[0]!.url);
    expect(again.status).toBe(401);
    expect(replicas[1]!.cli.output().stdout).toMatch(/"reason":"replayed"[^\n]*slack request refused/);
  });

  it('when both replicas serve the JWKS, then they publish the same current and next signing keys', async () => {
    const [a, b] = await Promise.all(
      replicas.map(
        async (r) =>
          ((await (await fetch(`${r.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys,
      ),
    );
    expect(a).toHaveLength(2);
    expect(b!.map((k) => k.kid).sort()).toEqual(a!.map((k) => k.kid).sort());
  });
});
