// The CLI's conventions, checked on the compiled bin spawned as a person runs it, against a live API: one exit code
// per kind of failure (usage, not found, refused or conflict, unavailable, failed), errors on stderr and as JSON
// under --json, --json results on stdout, --version, `requests cancel`, a required reason for `reject`, option
// values refused before any call, and the completion script.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_AGENT_KEY, testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { ROOT, runCountersign, type CliResult } from './cli-run';
import { operatorToken, startApi, type Api } from './http-support';
import { largeRefund, submitAs } from './identity-support';

interface ErrorJson {
  error: { code: string; message: string; exitCode: number; status?: number; errors: { path: string }[] };
}

/** The --json error document on stderr, with nothing on stdout. */
function jsonError(result: CliResult): ErrorJson['error'] {
  expect(result.stdout).toBe('');
  const parsed = JSON.parse(result.stderr) as ErrorJson;
  expect(parsed.error.exitCode).toBe(result.code);
  expect(typeof parsed.error.message).toBe('string');
  expect(Array.isArray(parsed.error.errors)).toBe(true);
  return parsed.error;
}

describe('countersign CLI conventions (compiled bin)', () => {
  let target: TargetServer;
  let h: Harness;
  let api: Api;
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-cli-conventions-'));
  let token = '';

  /** As an operator (alice), against the live API. */
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCountersign([...args, '--api', api.url], {
      COUNTERSIGN_DATA_DIR: dataDir,
      COUNTERSIGN_OPERATOR_TOKEN: token,
      ...env,
    });

  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_cli_conventions_2b7e';
    target = await startTargetServer();
    h = await startHarness({ config: testConfig({ targetHost: target.host }), identity: {} });
    api = await startApi(h);
    token = operatorToken(h, 'alice');
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
    await target?.close();
  });

  it('when --version is asked, then it prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await runCountersign(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  it('when an option value does not parse, then it exits 2 before any call, as JSON under --json', async () => {
    // The API URL is a closed port: had the command called it, it would have exited 5 (unavailable).
    const offline = { COUNTERSIGN_OPERATOR_TOKEN: 'cs_op_unused' };
    const text = await runCountersign(['requests', 'list', '--limit', 'abc', '--api', 'http://127.0.0.1:9'], offline);
    expect(text.code).toBe(2);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatch(/--limit <n>.*not a whole number: "abc"/);
    const json = await runCountersign(
      ['requests', 'list', '--limit', '0', '--json', '--api', 'http://127.0.0.1:9'],
      offline,
    );
    expect(json.code).toBe(2);
    expect(jsonError(json).code).toBe('commander.invalidArgument');
  });

  it('when a command or a required reason is missing, then it exits 2 with the usage hint', async () => {
    const reject = await cli(['reject', 'req_whatever']);
    expect(reject.code).toBe(2);
    expect(reject.stderr).toMatch(/required option '--reason <text>' not specified/);
    expect(reject.stderr).toContain('--help');
    const unknown = await runCountersign(['requests', 'frobnicate', '--json']);
    expect(unknown.code).toBe(2);
    expect(jsonError(unknown).code).toBe('commander.unknownCommand');
    const bare = await runCountersign([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('Usage: countersign');
  });

  it('when a request does not exist, then `requests show` exits 3 with the API problem as JSON', async () => {
    const result = await cli(['requests', 'show', 'req_0000000000000000000000000000dead', '--json']);
    expect(result.code).toBe(3);
    expect(jsonError(result)).toMatchObject({ code: 'not_found', status: 404 });
  });

  it('when there is no operator token or the API refuses, then it exits 4 (refused)', async () => {
    const noToken = await runCountersign(['requests', 'list', '--json', '--api', api.url], {
      COUNTERSIGN_DATA_DIR: dataDir,
    });
    expect(noToken.code).toBe(4);
    expect(jsonError(noToken)).toMatchObject({ code: 'unauthorized' });
    const badToken = await cli(['requests', 'list'], { COUNTERSIGN_OPERATOR_TOKEN: 'cs_op_not_a_real_token' });
    expect(badToken.code).toBe(4);
    expect(badToken.stderr).toMatch(/^error: 401/);
  });

  it('when a pending request is cancelled, then it ends cancelled (JSON on stdout), and cancelling again exits 4 (conflict)', async () => {
    const parked = await submitAs(api, TEST_AGENT_KEY, largeRefund(`cliconv${Date.now()}`));
    expect(parked.json.status).toBe('pending_approval');
    const cancelled = await cli(['requests', 'cancel', parked.json.id, '--reason', 'customer withdrew', '--json']);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stderr).toBe('');
    expect(JSON.parse(cancelled.stdout)).toMatchObject({
      id: parked.json.id,
      status: 'cancelled',
      cancellation: { by: 'operator:alice', reason: 'customer withdrew' },
    });
    const again = await cli(['requests', 'cancel', parked.json.id, '--json']);
    expect(again.code).toBe(4);
    expect(jsonError(again)).toMatchObject({ code: 'conflict', status: 409 });
    const listed = await cli(['requests', 'list', '--status', 'cancelled', '--limit', '5', '--json']);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((r) => r.id)).toContain(parked.json.id);
  });

  it('when the API cannot be reached, then it exits 5 (unavailable)', async () => {
    const result = await runCountersign(['requests', 'list', '--json', '--api', 'http://127.0.0.1:9'], {
      COUNTERSIGN_OPERATOR_TOKEN: 'cs_op_unused',
    });
    expect(result.code).toBe(5);
    expect(jsonError(result)).toMatchObject({ code: 'unreachable' });
  });

  it('when a config is invalid, then `config validate --json` exits 1 with every problem; a valid one prints a JSON summary', async () => {
    const broken = join(dataDir, 'broken.yaml');
    writeFileSync(broken, 'agents: [{ id: Bad Id }]\n');
    const failed = await runCountersign(['config', 'validate', broken, '--json']);
    expect(failed.code).toBe(1);
    const error = jsonError(failed);
    expect(error.code).toBe('config_invalid');
    expect(error.errors.length).toBeGreaterThan(0);
    const valid = await runCountersign(['config', 'validate', '--json']);
    expect(valid.code).toBe(0);
    expect(JSON.parse(valid.stdout)).toMatchObject({ valid: true, mode: 'enforce' });
  });

  it('when a completion script is asked for, then it covers every command, subcommand and option', async () => {
    const bash = await runCountersign(['completion', 'bash']);
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain('complete -o default -F _countersign_complete countersign');
    expect(bash.stdout).toMatch(/"requests"\) words="list show cancel /);
    expect(bash.stdout).toMatch(/"reject"\) words="[^"]*--reason/);
    const fish = await runCountersign(['completion', 'fish']);
    expect(fish.stdout).toContain("complete -c countersign -n '__fish_seen_subcommand_from cancel' -l reason");
    const bad = await runCountersign(['completion', 'powershell']);
    expect(bad.code).toBe(2);
  });
});
