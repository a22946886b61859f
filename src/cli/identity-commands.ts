// The CLI's agent identity commands. Agents, their credentials, operators and kill switches go through the operator
// API with a personal operator token, so every change is attributed to that token's owner. Vault secrets go straight
// to the database with the master key instead: a secret value never travels through the API, and the API process
// need not hold the master key at all.
import { userInfo } from 'node:os';
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import ms from 'ms';
import { devOperatorTokensDir, readDevOperatorToken } from '../app/dev-identity';
import { sessionFilePath, type Settings } from '../config/settings';
import { RISK_TIERS } from '../contracts/types';
import { AppError } from '../errors';
import type { SecretSummary, Vault } from '../vault';
import { CliError, EXIT_CODES } from './conventions';
import {
  createOperatorClient,
  type AgentDetailResource,
  type AgentResource,
  type IssuedSecretResource,
  type KillScopeInput,
  type KillSwitchListResource,
  type OperatorClient,
} from './operator-client';
import { table, type CliIo } from './output';
import { readSession, sessionToken } from './session';

export interface IdentityCommandDeps {
  io: CliIo;
  settings: () => Settings;
  /** The operator API client for a command's `--api` and `--as`. */
  operator: (opts: { api?: string; as?: string }) => OperatorClient;
  /** Reads a secret value piped in (stdin by default). */
  readStdin?: () => Promise<string>;
}

/**
 * The token the CLI acts with: COUNTERSIGN_OPERATOR_TOKEN, else (dev) the token `countersign dev` keeps for `person`
 * (for the first person without one). Throws with what to set when there is none.
 */
export function resolveOperatorToken(settings: Settings, person?: string): string {
  if (settings.COUNTERSIGN_OPERATOR_TOKEN) return settings.COUNTERSIGN_OPERATOR_TOKEN;
  const dev = readDevOperatorToken(settings.COUNTERSIGN_DATA_DIR, person);
  if (dev) return dev.token;
  const dir = devOperatorTokensDir(settings.COUNTERSIGN_DATA_DIR);
  throw new AppError('unauthorized', 'no operator token', {
    errors: [
      {
        path: 'COUNTERSIGN_OPERATOR_TOKEN',
        message: `not set, and no token from \`countersign dev\` ${person ? `for "${person}" ` : ''}in ${dir}; set it to your personal operator token`,
      },
      { path: 'countersign login', message: 'or sign in through your identity provider, where it is configured' },
      {
        path: 'COUNTERSIGN_ADMIN_TOKEN',
        message: 'creates the first operator only: `countersign operators create <person>` prints their token once',
      },
    ],
  });
}

/**
 * What the CLI authenticates with: COUNTERSIGN_OPERATOR_TOKEN; else the dev token kept for `--as`; else the session
 * of `countersign login` (its ID token, refreshed when due); else the first dev token (see resolveOperatorToken).
 */
export function operatorCredential(settings: Settings, person?: string): string | (() => Promise<string>) {
  if (settings.COUNTERSIGN_OPERATOR_TOKEN) return settings.COUNTERSIGN_OPERATOR_TOKEN;
  const dev = person ? readDevOperatorToken(settings.COUNTERSIGN_DATA_DIR, person) : undefined;
  if (dev) return dev.token;
  const file = sessionFilePath(settings);
  const session = readSession(file);
  if (session) return () => sessionToken(file, session);
  return resolveOperatorToken(settings, person);
}

/** The operator API client for the CLI's settings, `--api` and `--as`. */
export function operatorClientFor(settings: Settings, opts: { api?: string; as?: string }): OperatorClient {
  return createOperatorClient({
    baseUrl: opts.api ?? `http://127.0.0.1:${settings.PORT}`,
    token: operatorCredential(settings, opts.as),
  });
}

/** Registers `agents`, `operators`, `secrets`, `kill` and `resume`. */
export function registerIdentityCommands(program: Command, deps: IdentityCommandDeps): void {
  const { io } = deps;
  const apiOption = () =>
    new Option('--api <url>', 'base URL of the Countersign API (default: http://127.0.0.1:$PORT)');
  const asOption = () =>
    new Option('--as <person>', 'in dev, act with the operator token `countersign dev` keeps for this person');
  const print = (json: boolean | undefined, value: unknown, text: () => string) =>
    io.out(json ? JSON.stringify(value, null, 2) : text());
  const actor = () => `cli:${safeUser()}`;

  // --- agents --------------------------------------------------------------------------------------------------------
  const agents = program.command('agents').description('The agent registry, through the operator API.');
  agents
    .command('list')
    .description('The inventory: owner, risk tier, allowed actions, status, last activity.')
    .addOption(new Option('--status <status>', 'only this status').choices(['active', 'suspended', 'decommissioned']))
    .option('--owner <person>', 'only agents this person owns')
    .option('--json', 'print JSON')
    .addOption(apiOption())
    .addOption(asOption())
    .action(async (opts: { status?: string; owner?: string; json?: boolean; api?: string; as?: string }) => {
      const { items } = await deps.operator(opts).listAgents({ status: opts.status, owner: opts.owner });
      print(opts.json, items, () => formatAgentList(items));
    });
  agents
    .command('show <id>')
    .description('One agent, its credentials (never secrets) and its change log.')
    .option('--json', 'print JSON')
    .addOption(apiOption())
    .addOption(asOption())
    .action(async (id: string, opts: { json?: boolean; api?: string; as?: string }) => {
      const detail = await deps.operator(opts).showAgent(id);
      print(opts.json, detail, () => formatAgentDetail(detail));
    });
  agents
    .command('create <id>')
    .description('Register an agent; prints its client id and secret once.')
    .requiredOption('--owner <person>', 'the person accountable for it')
    .requiredOption('--actions <names>', 'actions it may request, comma-separated', list)
    .option('--name <name>', 'display name')
    .option('--description <text>', 'what it does')
    .addOption(new Option('--risk <tier>', 'risk tier').choices(RISK_TIERS))
    .option('--rate <rate>', 'its own request rate, e.g. 30/m')
    .option('--json', 'print JSON')
    .addOption(apiOption())
    .addOption(asOption())
    .action(
      async (
        id: string,
        opts: {
          owner: string;
          actions: string[];
          name?: string;
          description?: string;
          risk?: string;
          rate?: string;
          json?: boolean;
          api?: string;
          as?: string;
        },
      ) => {
        const created = await deps.operator(opts).createAgent({
          id,
          owner: opts.owner,
          allowedActions: opts.actions,
          ...(opts.name ? { name: opts.name } : {}),
          ...(opts.description ? { description: opts.description } : {}),
          ...(opts.risk ? { riskTier: opts.risk } : {}),
          ...(opts.rate ? { rateLimit: opts.rate } : {}),
        });
        print(opts.json, created, () =>
          [formatAgent(created.agent), '', ...formatSecret(created.credentials)].join('\n'),
        );
      },
    );
  agents
    .command('update <id>')
    .description('Change an agent; every change lands in its change log.')
    .option('--owner <person>', 'new owner')
    .option('--actions <names>', 'the full list of actions it may request, comma-separated', list)
    .option('--name <name>', 'display name')
    .option('--description <text>', 'what it does')
    .addOption(new Option('--risk <tier>', 'risk tier').choices(RISK_TIERS))
    .option('--rate <rate>', 'its own request rate (e.g. 30/m), or "default"')
    .option('--json', 'print JSON')
    .addOption(apiOption())
    .addOption(asOption())
    .action(
      async (
        id: string,
        opts: {
          owner?: string;
          actions?: string[];
          name?: string;
          description?: string;
          risk?: string;
          rate?: string;
          json?: boolean;
          api?: string;
          as?: string;
        },
      ) => {
        const patch = {
          ...(opts.owner ? { owner: opts.owner } : {}),
          ...(opts.actions ? { allowedActions: opts.actions } : {}),
          ...(opts.name ? { name: opts.name } : {}),
          ...(opts.description !== undefined ? { description: opts.description } : {}),
          ...(opts.risk ? { riskTier: opts.risk } : {}),
          ...(opts.rate ? { rateLimit: opts.rate === 'default' ? null : opts.rate } : {}),
        };
        if (Object.keys(patch).length === 0) throw usage('nothing to change: give at least one option');
        const agent = await deps.operator(opts).updateAgent(id, patch);
        print(opts.json, agent, () => formatAgent(agent));
      },
    );
  const transitions = {
    suspend: 'Suspend an agent: its tokens are refused at once and nothing it asked for executes.',
    resume: 'Let a suspended agent act again.',
    decommission: 'Retire an agent for good and revoke every client secret it has.',
  } as const;
  for (const [name, description] of Object.entries(transitions) as [keyof typeof transitions, string][]) {
    agents
      .command(`${name} <id>`)
      .description(description)
      .option('--reason <text>', 'why; kept in the change log')
      .option('--json', 'print JSON')
      .addOption(apiOption())
      .addOption(asOption())
      .action(async (id: string, opts: { reason?: string; json?: boolean; api?: string; as?: string }) => {
        const agent = await deps.operator(opts).transitionAgent(id, name, opts.reason);
        print(opts.json, agent, () => formatAgent(agent));
      });
  }
  agents
    .command('credentials')
    .description('Client credentials.')
    .command('rotate <id>')
    .description('Issue a new client secret (printed once); the previous ones expire after the overlap.')
    .option('--overlap <duration>', 'how long the previous secrets stay valid, e.g. 1h or 0 (default: the setting)')
    .option('--json', 'print JSON')
    .addOption(apiOption())
    .addOption(asOption())
    .action(async (id: string, opts: { overlap?: string; json?: boolean; api?: string; as?: string }) => {
      const issued = await deps.operator(opts).rotateCredentials(id, overlapSeconds(opts.overlap));
      print(opts.json, issued, () => formatSecret(issued).join('\n'));
    });

  // --- operators -----------------------------------------------------------------------------------------------------
  const operators = program.command('operators').description('People who decide and pull kill switches over the API.');
  operators
    .command('create <person>')
    .description(
      'Make a person of the config an operator; prints their personal token once. The first one is created with ' +
        'COUNTERSIGN_ADMIN_TOKEN.',
    )
    .option('--name <name>', 'display name')
    .option('--json', 'print JSON')
    .addOption(apiOption())
    .addOption(asOption())
    .action(async (person: string, opts: { name?: string; json?: boolean; api?: string; as?: string }) => {
      const s = deps.settings();
      let client: OperatorClient;
      try {
        client = deps.operator(opts);
      } catch (err) {
        // No operator token yet: the bootstrap token may create the first operator.
        if (!(err instanceof AppError) || !s.COUNTERSIGN_ADMIN_TOKEN) throw err;
        client = createOperatorClient({
          baseUrl: opts.api ?? `http://127.0.0.1:${s.PORT}`,
          token: s.COUNTERSIGN_ADMIN_TOKEN,
        });
      }
      const issued = await client.createOperator({ id: person, ...(opts.name ? { name: opts.name } : {}) });
      print(opts.json, issued, () =>
        [
          `operator ${issued.operatorId} created`,
          `  token id   ${issued.tokenId}`,
          `  token      ${issued.token}`,
          '',
          'Shown once: hand it to them; they set COUNTERSIGN_OPERATOR_TOKEN to it.',
        ].join('\n'),
      );
    });
  operators
    .command('list')
    .description('Operators.')
    .option('--json', 'print JSON')
    .addOption(apiOption())
    .addOption(asOption())
    .action(async (opts: { json?: boolean; api?: string; as?: string }) => {
      const { items } = await deps.operator(opts).listOperators();
      print(opts.json, items, () =>
        items.length === 0
          ? 'No operators.'
          : table(
              ['ID', 'NAME', 'STATUS', 'CREATED BY', 'CREATED'],
              items.map((o) => [o.id, o.name, o.disabled ? 'disabled' : 'active', o.createdBy, day(o.createdAt)]),
            ),
      );
    });
  operators
    .command('token')
    .description('Issue yourself another personal token (a new machine); printed once.')
    .option('--label <label>', 'what it is for')
    .option('--json', 'print JSON')
    .addOption(apiOption())
    .addOption(asOption())
    .action(async (opts: { label?: string; json?: boolean; api?: string; as?: string }) => {
      const client = deps.operator(opts);
      const me = await client.whoami();
      const issued = await client.issueOperatorToken(me.id, opts.label);
      print(opts.json, issued, () => [`token id   ${issued.tokenId}`, `token      ${issued.token}`].join('\n'));
    });
  operators
    .command('revoke <tokenId>')
    .description('Revoke an operator token at once.')
    .addOption(apiOption())
    .addOption(asOption())
    .action(async (tokenId: string, opts: { api?: string; as?: string }) => {
      await deps.operator(opts).revokeOperatorToken(tokenId);
      io.out(`token ${tokenId} revoked`);
    });

  // --- kill switch ---------------------------------------------------------------------------------------------------
  const scopeOptions = (command: Command) =>
    command
      .option('--agent <id>', 'one agent')
      .option('--action <name>', 'one action, or a family such as payments.*')
      .option('--all', 'every agent and action');
  const kill = scopeOptions(
    program
      .command('kill')
      .description(
        'Pull a kill switch: new requests in scope are refused with the reason, pending and running ones are cancelled.',
      ),
  )
    // Checked in the action, not as a required option: commander would demand it of `kill list` too.
    .option('--reason <text>', 'why (required); shown to refused agents and kept in the record')
    .option('--json', 'print JSON')
    .addOption(apiOption())
    .addOption(asOption())
    .action(async (opts: KillScopeInput & { reason?: string; json?: boolean; api?: string; as?: string }) => {
      if (!opts.reason?.trim()) throw usage('--reason is required: say why, it is shown to every refused agent');
      const result = await deps.operator(opts).kill(scopeOf(opts), opts.reason);
      print(opts.json, result, () => {
        const k = result.killSwitch;
        return [
          `${result.created ? 'kill switch on' : 'kill switch already on'}: ${describe(k.scope)} (${k.id})`,
          `  reason     ${k.reason}`,
          `  by         ${k.engagedBy} at ${k.engagedAt}`,
          `  cancelling ${result.inScope} running request${result.inScope === 1 ? '' : 's'} (operation ${result.operation.id})`,
        ].join('\n');
      });
    });
  kill
    .command('list')
    .description('Kill switches on now (--history: the whole record).')
    .option('--history', 'also lifted ones')
    .option('--json', 'print JSON')
    .addOption(apiOption())
    .addOption(asOption())
    .action(async (_opts: unknown, command: Command) => {
      // `kill` has the same --api/--as/--json options and takes them wherever they stand on the line.
      const opts = command.optsWithGlobals<{ history?: boolean; json?: boolean; api?: string; as?: string }>();
      const switches = await deps.operator(opts).killSwitches(Boolean(opts.history));
      print(opts.json, switches, () => formatKillSwitches(switches));
    });
  scopeOptions(program.command('resume').description('Lift the kill switches of exactly this scope.'))
    .option('--reason <text>', 'why; kept in the record')
    .option('--json', 'print JSON')
    .addOption(apiOption())
    .addOption(asOption())
    .action(async (opts: KillScopeInput & { reason?: string; json?: boolean; api?: string; as?: string }) => {
      const { lifted } = await deps.operator(opts).resume(scopeOf(opts), opts.reason);
      print(opts.json, lifted, () =>
        lifted.map((k) => `kill switch lifted: ${describe(k.scope)} (${k.id}, was: ${k.reason})`).join('\n'),
      );
    });

  // --- secrets -------------------------------------------------------------------------------------------------------
  const secrets = program
    .command('secrets')
    .description(
      'Connector credentials in the vault (encrypted with the master key, straight in the database; values never go ' +
        'through the API and are never printed).',
    );
  const write = (verb: 'put' | 'rotate') =>
    secrets
      .command(`${verb} <id>`)
      .description(
        verb === 'put'
          ? 'Store a new secret; the value is read from stdin (or --from-file), never from the command line.'
          : 'Store a new value as the next version; reads use it from now on.',
      )
      .option('--from-file <path>', 'read the value from this file instead of stdin')
      .option('--description <text>', 'what it is (kept with it)')
      .option('--json', 'print JSON')
      .action(async (id: string, opts: { fromFile?: string; description?: string; json?: boolean }) => {
        const value = trimNewline(opts.fromFile ? await readFile(opts.fromFile, 'utf8') : await readInput(deps));
        const summary = await withVault(deps.settings(), true, (vault) =>
          vault[verb]({
            id,
            value,
            by: actor(),
            ...(opts.description ? { description: opts.description } : {}),
          }),
        );
        print(
          opts.json,
          summary,
          () => `secret ${summary.id} stored as version ${summary.version} (master key ${summary.keyId})`,
        );
      });
  write('put');
  write('rotate');
  secrets
    .command('rewrap')
    .description(
      'After a master key rotation: re-wrap every data key under COUNTERSIGN_MASTER_KEY (the retired key in ' +
        'COUNTERSIGN_MASTER_KEY_PREVIOUS until this has run).',
    )
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const result = await withVault(deps.settings(), true, (vault) => vault.rewrap());
      print(
        opts.json,
        result,
        () => `${result.rewrapped} of ${result.total} secret versions re-wrapped under the current master key`,
      );
    });
  secrets
    .command('list')
    .description('Secrets with their versions and who stored them; never values.')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const items = await withVault(deps.settings(), false, (vault) => vault.list());
      print(opts.json, items, () => formatSecrets(items));
    });
}

/** Opens the database and the vault (unlocked when `unlock`), runs `work`, closes the database. */
async function withVault<T>(settings: Settings, unlock: boolean, work: (vault: Vault) => Promise<T>): Promise<T> {
  // Loaded here, not at the top: the other commands (and --help) start without the database drivers.
  const [{ existingDevMasterKey }, { openDatabase }, { createVault, loadMasterKeyring, masterKeyConfigured }] =
    await Promise.all([import('../app/dev-identity'), import('../db/database'), import('../vault')]);
  const devKey = existingDevMasterKey(settings.COUNTERSIGN_DATA_DIR);
  const keySettings = masterKeyConfigured(settings)
    ? settings
    : devKey
      ? { ...settings, COUNTERSIGN_MASTER_KEY_FILE: devKey }
      : undefined;
  if (unlock && !keySettings) {
    throw new AppError('config_invalid', 'the vault is locked', {
      errors: [
        {
          path: 'COUNTERSIGN_MASTER_KEY',
          message: 'set it (or COUNTERSIGN_MASTER_KEY_FILE) to the master key the workers use: base64 of 32 bytes',
        },
      ],
    });
  }
  const keyring = unlock && keySettings ? await loadMasterKeyring(keySettings) : undefined;
  const database = await openDatabase({ databaseUrl: settings.DATABASE_URL, dataDir: settings.COUNTERSIGN_DATA_DIR });
  try {
    return await work(createVault({ db: database.db, ...(keyring ? { keyring } : {}) }));
  } finally {
    await database.close();
  }
}

async function readInput(deps: IdentityCommandDeps): Promise<string> {
  if (deps.readStdin) return deps.readStdin();
  if (process.stdin.isTTY) {
    throw usage('pipe the value in (`printf %s "$VALUE" | countersign secrets put <id>`) or use --from-file');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function trimNewline(value: string): string {
  return value.replace(/\r?\n$/, '');
}

function scopeOf(opts: KillScopeInput): KillScopeInput {
  return {
    ...(opts.agent ? { agent: opts.agent } : {}),
    ...(opts.action ? { action: opts.action } : {}),
    ...(opts.all ? { all: true } : {}),
  };
}

function overlapSeconds(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === '0') return 0;
  const parsed = ms(text as ms.StringValue);
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
    throw usage(`--overlap: not a duration: "${text}" (e.g. 30m, 24h, 0)`);
  }
  return Math.round(parsed / 1000);
}

function usage(message: string): CliError {
  return new CliError(EXIT_CODES.usage, 'usage', message);
}

function safeUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch (err) {
    // os.userInfo throws without a passwd entry (some containers); the record still says it came from the CLI.
    if (err instanceof Error) return 'unknown';
    throw err;
  }
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

function day(iso: string | undefined): string {
  return iso ? iso.replace('T', ' ').slice(0, 16) : '-';
}

function describe(scope: { agentId?: string; action?: string }): string {
  if (!scope.agentId && !scope.action) return 'all agents and actions';
  return [scope.agentId ? `agent ${scope.agentId}` : '', scope.action ? `action ${scope.action}` : '']
    .filter(Boolean)
    .join(', ');
}

function formatAgentList(items: readonly AgentResource[]): string {
  if (items.length === 0) return 'No agents.';
  return table(
    ['ID', 'STATUS', 'OWNER', 'RISK', 'RATE', 'LAST ACTIVE', 'ACTIONS'],
    items.map((a) => [
      a.id,
      a.status,
      a.owner,
      a.riskTier,
      a.rateLimit ?? 'default',
      day(a.lastActiveAt),
      a.allowedActions.join(',') || '-',
    ]),
  );
}

function formatAgent(a: AgentResource): string {
  return [
    `${a.id}  ${a.status}${a.statusReason ? ` (${a.statusReason})` : ''}`,
    `  name        ${a.name}`,
    `  owner       ${a.owner}`,
    a.description ? `  description ${a.description}` : '',
    `  risk        ${a.riskTier}`,
    `  actions     ${a.allowedActions.join(', ') || '-'}`,
    `  rate        ${a.rateLimit ?? 'default'}`,
    `  source      ${a.source}, created ${day(a.createdAt)} by ${a.createdBy}`,
    `  last active ${day(a.lastActiveAt)}`,
  ]
    .filter(Boolean)
    .join('\n');
}

function formatAgentDetail(d: AgentDetailResource): string {
  return [
    formatAgent(d.agent),
    '  credentials',
    ...(d.credentials.length === 0
      ? ['    none']
      : d.credentials.map(
          (c) =>
            `    ${c.id}  ${c.active ? 'active' : c.revokedAt ? 'revoked' : 'expired'}  created ${day(c.createdAt)} by ${c.createdBy}${c.expiresAt ? `, expires ${day(c.expiresAt)}` : ''}`,
        )),
    '  changes',
    ...d.changes.map((c) => `    ${c.at}  ${c.change} by ${c.actor}  ${JSON.stringify(c.details)}`),
  ].join('\n');
}

function formatSecret(s: IssuedSecretResource): string[] {
  return [
    `client id      ${s.clientId}`,
    `client secret  ${s.clientSecret}`,
    `credential id  ${s.credentialId}`,
    ...(s.previousValidUntil ? [`previous secrets valid until ${s.previousValidUntil}`] : []),
    '',
    'Shown once: store it in the agent’s secret store now. Exchange it at POST /oauth/token (client credentials).',
  ];
}

function formatKillSwitches(list: KillSwitchListResource): string {
  const rows = (items: KillSwitchListResource['active']) =>
    items.map((k) => [
      k.id,
      describe(k.scope),
      k.liftedAt ? `lifted ${day(k.liftedAt)} by ${k.liftedBy ?? '?'}` : 'on',
      `${day(k.engagedAt)} by ${k.engagedBy}`,
      k.reason,
    ]);
  const headers = ['ID', 'SCOPE', 'STATE', 'ENGAGED', 'REASON'];
  const active = list.active.length === 0 ? 'No kill switch is on.' : table(headers, rows(list.active));
  return list.history ? `${active}\n\nRecord:\n${table(headers, rows(list.history))}` : active;
}

function formatSecrets(items: readonly SecretSummary[]): string {
  if (items.length === 0) return 'No secrets.';
  return table(
    ['ID', 'VERSION', 'MASTER KEY', 'UPDATED', 'BY', 'DESCRIPTION'],
    items.map((s) => [s.id, String(s.version), s.keyId, day(s.updatedAt), s.updatedBy, s.description]),
  );
}
