// Operator sign-in through the company's OpenID provider: `countersign login` runs the device authorization grant
// against a real provider on loopback, the person approves on the provider's own pages (driven here over HTTP), and
// the CLI's session (mode 0600) then authenticates operator commands, so an approval is attributed to that person.
// An identity that is no person of the config is refused; an expired ID token is refreshed.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRequestResource } from '../../src/http/schemas';
import { TEST_AGENT_KEY, testConfigYaml } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { parseConfig } from '../../src/config/load';
import { runCountersign, startCountersign } from './cli-run';
import { startApi, type Api } from './http-support';
import { largeRefund, submitAs } from './identity-support';

describe('countersign login: operators signed in through the identity provider', () => {
  let target: TargetServer;
  let idp: TestOidcProvider;
  let h: Harness;
  let api: Api;
  const dir = mkdtempSync(join(tmpdir(), 'countersign-login-'));
  const configFile = join(dir, 'countersign.yaml');

  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_login_secret_0c3e';
    target = await startTargetServer();
    idp = await startOidcProvider({
      cliClientId: 'countersign-cli',
      accounts: { 'idp-alice': { email: 'Alice@Example.com' }, 'idp-mallory': { email: 'mallory@elsewhere.example' } },
    });
    const yaml = testConfigYaml({
      targetHost: target.host,
      extraYaml: `
federation:
  operatorSignIn:
    issuer: '${idp.issuer}'
    clientId: countersign-cli
`,
    });
    writeFileSync(configFile, yaml);
    h = await startHarness({ config: parseConfig(yaml), identity: {} });
    api = await startApi(h);
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
    await idp?.close();
    await target?.close();
  });

  /** `countersign login` until the provider's page is shown, the person's approval there, and the CLI's success. */
  async function login(sessionFile: string, account: string): Promise<string> {
    const cli = startCountersign(['login', '--config', configFile], {
      COUNTERSIGN_SESSION_FILE: sessionFile,
      COUNTERSIGN_DATA_DIR: dir,
    });
    try {
      const [, url] = await cli.waitForStdout(/open (http\S+user_code=\S+)/, 30_000);
      await idp.approveDevice(url!, account);
      await cli.waitForStdout(/Signed in as/, 30_000);
      expect(await cli.exited(10_000), cli.output().stderr).toBe(0);
    } finally {
      await cli.stop('SIGTERM', 5_000);
    }
    return cli.output().stdout;
  }

  const asSession = (sessionFile: string, args: string[]) =>
    runCountersign([...args, '--api', api.url], { COUNTERSIGN_SESSION_FILE: sessionFile, COUNTERSIGN_DATA_DIR: dir });

  it('when a person signs in with the device flow, then an approval made with that session is attributed to them', async () => {
    const submitted = await submitAs(api, TEST_AGENT_KEY, largeRefund('login01'));
    expect(submitted.json.status).toBe('pending_approval');

    const sessionFile = join(dir, 'alice', 'session.json');
    const out = await login(sessionFile, 'idp-alice');
    expect(out).toContain('Signed in as Alice@Example.com');
    expect(statSync(sessionFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'alice')).mode & 0o777).toBe(0o700);

    const approved = await asSession(sessionFile, ['approve', submitted.json.id, '--reason', 'checked', '--json']);
    expect(approved.code, approved.stderr).toBe(0);
    const state = JSON.parse(approved.stdout) as ActionRequestResource;
    expect(state.decision.approvals.flatMap((a) => a.approvedBy)).toEqual(['alice']);

    // Claiming to be someone else is refused: the decision is the signed-in person's.
    const posing = await asSession(sessionFile, ['approve', submitted.json.id, '--as', 'bob']);
    expect(posing.code).toBe(4);
    expect(posing.stderr).toContain('403');
  });

  it('when the ID token has expired, then the CLI refreshes the session before calling the API', async () => {
    const sessionFile = join(dir, 'alice-refresh', 'session.json');
    await login(sessionFile, 'idp-alice');
    const before = JSON.parse(readFileSync(sessionFile, 'utf8')) as { idToken: string; expiresAt: string };
    writeFileSync(sessionFile, JSON.stringify({ ...before, expiresAt: new Date(Date.now() - 1000).toISOString() }));

    const listed = await asSession(sessionFile, ['requests', 'list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const after = JSON.parse(readFileSync(sessionFile, 'utf8')) as { idToken: string; expiresAt: string };
    expect(after.idToken).not.toBe(before.idToken);
    expect(Date.parse(after.expiresAt)).toBeGreaterThan(Date.now());
    expect(statSync(sessionFile).mode & 0o777).toBe(0o600);
  });

  it('when someone who is no person of the config signs in, then the operator API refuses their session', async () => {
    const sessionFile = join(dir, 'mallory', 'session.json');
    await login(sessionFile, 'idp-mallory');
    const listed = await asSession(sessionFile, ['requests', 'list']);
    expect(listed.code).toBe(4);
    expect(listed.stderr).toMatch(/401 .*not a person of the config/);
  });
});
