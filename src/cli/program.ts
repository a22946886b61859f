// The `countersign` command line: run the processes (dev, api, worker), check configuration and policy offline, and
// operate on requests through the operator API. The process commands load their modules on demand, so the offline and
// operator commands start quickly.
import { Command, CommanderError, Option } from 'commander';
import { loadCore, type Core } from '../app/core';
import { createDevLogStream } from '../app/dev-log';
import { configJsonSchema } from '../app/config-json-schema';
import { loadSettings, type Settings } from '../config/settings';
import { REQUEST_STATUSES } from '../contracts/types';
import { createLogger, type Logger } from '../logger';
import { operatorClientFor, registerIdentityCommands } from './identity-commands';
import { registerMcpCommand } from './mcp-command';
import { formatRequest, formatRequestList, printError, processIo, type CliIo } from './output';
import { dryRunPolicy, formatPolicyTestReport, readPolicyTestRequest } from './policy-test';

/** Runs the CLI with `argv` (user arguments only) and resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let exitCode = 0;
  // Settings are parsed lazily: `--help` and `config validate` must work even with a broken environment.
  let settings: Settings | undefined;
  const getSettings = () => (settings ??= loadSettings());
  const program = new Command('countersign')
    .description('Countersign: the durable human-in-the-loop gate between AI agents and production actions.')
    .option('-c, --config <file>', 'YAML config file (default: $COUNTERSIGN_CONFIG, else examples/countersign.yaml)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError();

  const core = (): Core => loadCore(getSettings(), program.opts<{ config?: string }>().config);
  const logLevel = () => getSettings().LOG_LEVEL;

  program
    .command('dev')
    .description(
      'Run everything locally: Temporal dev server, billing example, workers and API (what `npm start` runs).',
    )
    .action(async () => {
      const s = getSettings();
      const loaded = core();
      const logger = createLogger({ level: logLevel() }, createDevLogStream());
      const { runDev } = await import('../app/dev');
      await withTemporalRuntime(logger);
      const clean = await runDev({
        settings: s,
        core: loaded,
        logger,
        progress: (message) => io.err(message),
        print: (text) => io.out(text),
      });
      io.err(
        clean
          ? `Stopped.${s.TEMPORAL_ADDRESS ? '' : ` Requests are kept in ${s.COUNTERSIGN_DATA_DIR} for the next start.`}`
          : 'Stopped, but not everything shut down cleanly (see the warnings above).',
      );
      exitCode = clean ? 0 : 1;
    });

  program
    .command('api')
    .description('Run the HTTP API (production; needs TEMPORAL_ADDRESS).')
    .action(async () => {
      const logger = createLogger({ level: logLevel() });
      const { runApiProcess } = await import('../app/production');
      await withTemporalRuntime(logger);
      exitCode = (await runApiProcess({ settings: getSettings(), core: core(), logger })) ? 0 : 1;
    });

  program
    .command('worker')
    .description('Run the control worker and connector workers (production; needs TEMPORAL_ADDRESS).')
    .option('--queues <connectors>', 'connector credential domains to serve, comma-separated (default: all)', list)
    .option('--no-control', 'run connector workers only, without the control worker')
    .action(async (opts: { queues?: string[]; control: boolean }) => {
      const logger = createLogger({ level: logLevel() });
      const { runWorkerProcess } = await import('../app/production');
      await withTemporalRuntime(logger);
      const clean = await runWorkerProcess({
        settings: getSettings(),
        core: core(),
        logger,
        control: opts.control,
        connectors: opts.queues,
      });
      exitCode = clean ? 0 : 1;
    });

  const config = program.command('config').description('Configuration file commands.');
  config
    .command('validate [file]')
    .description('Validate a config file (default: --config, $COUNTERSIGN_CONFIG or the example); exit 1 on problems.')
    .action((file: string | undefined) => {
      const path = file ?? program.opts<{ config?: string }>().config;
      // The environment is not needed to check a file; only COUNTERSIGN_CONFIG is consulted when no file is given.
      const loaded = loadCore(path ? { COUNTERSIGN_CONFIG: path } : getSettings(), path);
      const c = loaded.config;
      io.out(
        `${loaded.configPath}: valid (${c.agents.length} agents, ${Object.keys(c.actions).length} actions, ` +
          `${c.policies.rules.length} rules, policy ${loaded.policy.version}, mode ${c.policies.mode})`,
      );
    });
  config
    .command('schema')
    .description('Print the JSON Schema of the config file.')
    .action(() => io.out(`${JSON.stringify(configJsonSchema(), null, 2)}\n`));

  program
    .command('policy')
    .description('Policy commands.')
    .command('test <request.json>')
    .description('Dry run: the effect a request would get, every rule that applies and why. Starts nothing.')
    .addOption(
      new Option('--expect <effect>', 'exit 1 unless the effect is this').choices([
        'allow',
        'deny',
        'require_approval',
      ]),
    )
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: { expect?: string; json?: boolean }) => {
      const report = await dryRunPolicy(core(), readPolicyTestRequest(file));
      io.out(opts.json ? JSON.stringify(report, null, 2) : formatPolicyTestReport(report));
      if (report.refusals.length > 0) exitCode = 1;
      else if (opts.expect && report.decision?.effect !== opts.expect) {
        io.err(`expected ${opts.expect}, got ${report.decision?.effect ?? 'nothing'}`);
        exitCode = 1;
      }
    });

  const apiOption = () =>
    new Option('--api <url>', 'base URL of the Countersign API (default: http://127.0.0.1:$PORT)');
  // A personal operator token (COUNTERSIGN_OPERATOR_TOKEN; in dev, the one `countersign dev` keeps for --as).
  const operator = (opts: { api?: string; as?: string }) => operatorClientFor(getSettings(), opts);

  const requests = program.command('requests').description('Read requests through the operator API.');
  requests
    .command('list')
    .description('List requests across agents, newest first.')
    .addOption(new Option('--status <status>', 'only this status').choices(REQUEST_STATUSES))
    .option('--agent <id>', "only this agent's requests")
    .option('--action <name>', "only this action's requests")
    .option('--limit <n>', 'at most this many', (v) => Number.parseInt(v, 10))
    .option('--json', 'print JSON')
    .addOption(apiOption())
    .action(
      async (opts: {
        status?: string;
        agent?: string;
        action?: string;
        limit?: number;
        json?: boolean;
        api?: string;
      }) => {
        const { items } = await operator(opts).list({
          status: opts.status,
          agent: opts.agent,
          action: opts.action,
          limit: opts.limit,
        });
        io.out(opts.json ? JSON.stringify(items, null, 2) : formatRequestList(items));
      },
    );
  requests
    .command('show <id>')
    .description("One request's full state and timeline.")
    .option('--json', 'print JSON')
    .addOption(apiOption())
    .action(async (id: string, opts: { json?: boolean; api?: string }) => {
      const request = await operator(opts).show(id);
      io.out(opts.json ? JSON.stringify(request, null, 2) : formatRequest(request));
    });

  for (const decision of ['approve', 'reject'] as const) {
    program
      .command(`${decision} <id>`)
      .description(`${decision === 'approve' ? 'Approve' : 'Reject'} a pending request as an approver (operator API).`)
      .option(
        '--as <person>',
        'decide as this person: in dev, with the operator token `countersign dev` keeps for them; otherwise it must ' +
          'be the owner of COUNTERSIGN_OPERATOR_TOKEN (decisions are always recorded as the token’s owner)',
      )
      .option('--reason <text>', 'why; recorded in the history')
      .option('--json', 'print JSON')
      .addOption(apiOption())
      .action(async (id: string, opts: { as?: string; reason?: string; json?: boolean; api?: string }) => {
        const request = await operator(opts).decide(id, {
          decision,
          ...(opts.as ? { approver: opts.as } : {}),
          ...(opts.reason ? { reason: opts.reason } : {}),
        });
        io.out(opts.json ? JSON.stringify(request, null, 2) : formatRequest(request));
      });
  }

  registerIdentityCommands(program, { io, settings: getSettings, operator });
  registerMcpCommand(program, { settings: getSettings });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    printError(io, err);
    return 1;
  }
  return exitCode;
}

/** Routes the Temporal SDK's logs into ours. Loaded on demand: the offline commands never touch the SDK's runtime. */
async function withTemporalRuntime(logger: Logger): Promise<void> {
  const { installTemporalRuntime } = await import('../temporal/runtime');
  installTemporalRuntime(logger);
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}
