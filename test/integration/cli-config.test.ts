import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCountersign } from './cli-run';

const dir = mkdtempSync(join(tmpdir(), 'countersign-cli-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const PEOPLE_AND_CONNECTOR = `
people:
  carol: { email: carol@example.com }
  alice: { email: alice@example.com }
connectors:
  billing: { type: http, allowedHosts: ['127.0.0.1:9'] }
`;

describe('countersign config validate', () => {
  it('when the example config is validated, then it exits 0 and summarises it', async () => {
    const result = await runCountersign(['config', 'validate', 'examples/countersign.yaml']);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /countersign\.yaml: valid \(1 agents, 4 actions, 6 rules, policy p-[0-9a-f]{16}, mode enforce\)/,
    );
  });

  it('when no file is given, then COUNTERSIGN_CONFIG is validated', async () => {
    const path = file('env.yaml', `${PEOPLE_AND_CONNECTOR}agents: []\n`);
    const result = await runCountersign(['config', 'validate'], { COUNTERSIGN_CONFIG: path });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${path}: valid (0 agents, 0 actions, 0 rules`);
  });

  it('when a config breaks several rules, then every problem is printed with its path and it exits 1', async () => {
    const path = file(
      'bad.yaml',
      `${PEOPLE_AND_CONNECTOR}
agents:
  - { id: support-bot, owner: mallory, allowedActions: [payments.refund, payments.teleport] }
approvers:
  finance: { members: [alice, zed] }
actions:
  payments.refund: { description: Refund., risk: extreme, connector: billing, http: { url: 'http://127.0.0.1:9/r' } }
policies:
  rules:
    - { id: nope, match: { actions: [payments.refund] }, effect: deny }
    - { id: wait, match: { actions: [payments.refund] }, effect: require_approval, approvers: nobody }
`,
    );
    const result = await runCountersign(['config', 'validate', path]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    for (const expected of [
      'actions.payments.refund.risk:',
      'agents[0].owner: unknown person "mallory"',
      'agents[0].allowedActions[1]: unknown action "payments.teleport"',
      'approvers.finance.members[1]: unknown person "zed"',
      'policies.rules[0].reason: a deny rule needs a reason for the agent',
      'policies.rules[1].approvers: unknown group "nobody"',
    ]) {
      expect(result.stderr).toContain(expected);
    }
  });

  it('when a rule has bad CEL and an action a broken parameter schema, then both are reported with their paths', async () => {
    const path = file(
      'compile.yaml',
      `${PEOPLE_AND_CONNECTOR}
actions:
  payments.refund:
    description: Refund.
    risk: high
    connector: billing
    http: { url: 'http://127.0.0.1:9/r' }
    params: { type: object, properties: { amount: { type: 12 } } }
policies:
  rules:
    - { id: broken, match: { actions: [payments.refund] }, when: 'params.amount >>> 3', effect: allow }
`,
    );
    const result = await runCountersign(['config', 'validate', path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('actions.payments.refund.params:');
    expect(result.stderr).toContain('policies.rules[0].when: invalid CEL in rule "broken"');
  });

  it('when the file is not YAML or does not exist, then it says so and exits 1', async () => {
    const broken = await runCountersign(['config', 'validate', file('broken.yaml', 'agents: [\n  - id: x\n')]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('invalid YAML');
    expect(broken.stderr).toMatch(/line \d+:/);

    const missing = await runCountersign(['config', 'validate', join(dir, 'absent.yaml')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read config file');
  });

  it('when the JSON Schema is asked for, then it prints the published schema', async () => {
    const result = await runCountersign(['config', 'schema']);
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout) as { $schema: string; properties: Record<string, unknown> };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['agents', 'actions', 'policies']));
  });
});
