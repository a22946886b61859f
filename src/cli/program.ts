// The `countersign` command line: run the processes (dev, api, worker), check configuration and policy offline, and
// operate on requests through the operator API. Everything heavier than commander is loaded on demand (settings when
// a command runs, the config and the process modules in the commands that need them), so `--help` and the operator
// commands start quickly. The conventions every command follows are in ./conventions.ts.
import { Command, Option } from 'commander';
import type { Core } from '../app/core';
import { packageVersion } from '../build-info';
import type * as DevModule from '../app/dev';
import type * as SettingsModule from '../config/settings';
import type { Settings } from '../config/settings';
import { REQUEST_STATUSES } from '../contracts/types';
import type { Logger } from '../logger';
import { registerCompletionCommand } from './completion';
import { emit, ensureJsonEverywhere, EXIT_CODES, parseInteger, parseText, reportError, wantsJson } from './conventions';
import { registerDoctorCommand } from './doctor-command';
import { registerEvidenceCommands } from './evidence-commands';
import { operatorClientFor, registerIdentityCommands } from './identity-commands';
import { registerLoginCommands } from './login';
import { registerMcpCommand } from './mcp-command';
import { formatRequest, formatRequestList, processIo, type CliIo } from './output';
import { registerPolicyReplayCommand } from './policy-replay-command';

/** Runs the CLI with `argv` (user arguments only) and resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.command.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    // Help and --version end by "throwing" under exitOverride; help shown for a missing command is a usage error.
    const code = (err as { code?: unknown } | undefined)?.code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return EXIT_CODES.ok;
    if (code === 'commander.help') return EXIT_CODES.usage;
    return reportError(io, err, wantsJson(argv));
  }
  return program.exitCode();
}

/** The command tree (for runCli, the completion script and the generated CLI reference); nothing runs until parsed. */
export function buildProgram(io: CliIo = processIo): { command: Command; exitCode(): number } {
  let exitCode: number = EXIT_CODES.ok;
  // Settings are parsed lazily: `--help` and `config validate` must work even with a broken environment, and the
  // settings module (zod) is loaded only once a command runs.
  let settingsModule: typeof SettingsModule | undefined;
  let settings: Settings | undefined;
  const getSettings = (): Settings => {
    if (!settingsModule) throw new Error('settings read before the command ran');
    return (settings ??= settingsModule.loadSettings());
  };
  const program = new Command('countersign')
    .description('Countersign: the durable human-in-the-loop gate between AI agents and production actions.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('-c, --config <file>', 'YAML config file (default: $COUNTERSIGN_CONFIG, else examples/countersign.yaml)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      // Parse errors are reported once, by runCli (as JSON under --json), with the help hint below.
      outputError: () => undefined,
    })
    .hook('preAction', async () => {
      settingsModule ??= await import('../config/settings');
    });

  const core = async (transform?: (text: string) => string): Promise<Core> => {
    const { loadCore } = await import('../app/core');
    return loadCore(getSettings(), program.opts<{ config?: string }>().config, transform);
  };
  const logger = async (stream?: NodeJS.WritableStream): Promise<Logger> => {
    const { createLogger } = await import('../logger');
    return createLogger({ level: getSettings().LOG_LEVEL }, stream);
  };

  program
    .command('dev')
    .description(
      'Run everything locally: Temporal dev server, billing example, workers and API (what `npm start` runs).',
    )
    .action(async () => {
      const s = getSettings();
      const { devConfigTransform } = await import('../app/dev-config');
      const loaded = await core(devConfigTransform(s));
      const { createDevLogStream } = await import('../app/dev-log');
      const log = await logger(createDevLogStream());
      const progress = (message: string) => io.err(message);
      // The dev server boots in its own process while this one loads dev mode's modules (most of start-up).
      const { startOrConnectTemporal } = await import('../app/temporal-endpoint');
      const temporal = startOrConnectTemporal(s, log, progress);
      // runDev takes it over; until then a failed start (a port in use) must not count as an unhandled rejection.
      temporal.catch(() => undefined);
      let runDev: typeof DevModule.runDev;
      try {
        ({ runDev } = await import('../app/dev'));
        await withTemporalRuntime(log, s.COUNTERSIGN_TEMPORAL_METRICS_ADDRESS);
      } catch (err) {
        await temporal.then(
          (endpoint) => endpoint.stop(),
          () => undefined,
        );
        throw err;
      }
      const clean = await runDev({
        settings: s,
        core: loaded,
        logger: log,
        temporal,
        progress,
        print: (text) => io.out(text),
      });
      io.err(
        clean
          ? `Stopped.${s.TEMPORAL_ADDRESS ? '' : ` Requests are kept in ${s.COUNTERSIGN_DATA_DIR} for the next start.`}`
          : 'Stopped, but not everything shut down cleanly (see the warnings above).',
      );
      exitCode = clean ? EXIT_CODES.ok : EXIT_CODES.failed;
    });

  program
    .command('api')
    .description('Run the HTTP API (production; needs TEMPORAL_ADDRESS).')
    .action(async () => {
      const log = await logger();
      const { runApiProcess } = await import('../app/production');
      await withTemporalRuntime(log);
      const clean = await runApiProcess({ settings: getSettings(), core: await core(), logger: log });
      exitCode = clean ? EXIT_CODES.ok : EXIT_CODES.failed;
    });

  program
    .command('worker')
    .description('Run the control worker and connector workers (production; needs TEMPORAL_ADDRESS).')
    .option('--queues <connectors>', 'connector credential domains to serve, comma-separated (default: all)', list)
    .option('--no-control', 'run connector workers only, without the control worker')
    .action(async (opts: { queues?: string[]; control: boolean }) => {
      const log = await logger();
      const { runWorkerProcess } = await import('../app/production');
      await withTemporalRuntime(log, getSettings().COUNTERSIGN_TEMPORAL_METRICS_ADDRESS);
      const clean = await runWorkerProcess({
        settings: getSettings(),
        core: await core(),
        logger: log,
        control: opts.control,
        connectors: opts.queues,
      });
      exitCode = clean ? EXIT_CODES.ok : EXIT_CODES.failed;
    });

  const config = program.command('config').description('Configuration file commands.');
  config
    .command('validate [file]')
    .description('Validate a config file (default: --config, $COUNTERSIGN_CONFIG or the example); exit 1 on problems.')
    .option('--json', 'print JSON')
    .action(async (file: string | undefined, opts: { json?: boolean }) => {
      const path = file ?? program.opts<{ config?: string }>().config;
      const { loadCore } = await import('../app/core');
      // The environment is not needed to check a file; only COUNTERSIGN_CONFIG is consulted when no file is given.
      const loaded = loadCore(path ? { COUNTERSIGN_CONFIG: path } : getSettings(), path);
      const c = loaded.config;
      const summary = {
        file: loaded.configPath,
        valid: true,
        agents: c.agents.length,
        actions: Object.keys(c.actions).length,
        rules: c.policies.rules.length,
        policyVersion: loaded.policy.version,
        mode: c.policies.mode,
      };
      emit(
        io,
        opts.json,
        summary,
        () =>
          `${summary.file}: valid (${summary.agents} agents, ${summary.actions} actions, ${summary.rules} rules, ` +
          `policy ${summary.policyVersion}, mode ${summary.mode})`,
      );
    });
  config
    .command('schema')
    .description('Print the JSON Schema of the config file (JSON whether or not --json is given).')
    .option('--json', 'print JSON (the schema is JSON either way)')
    .action(async () => {
      const { configJsonSchema } = await import('../app/config-json-schema');
      io.out(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });

  const policy = program.command('policy').description('Policy commands.');
  policy
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
      const { dryRunPolicy, formatPolicyTestReport, readPolicyTestRequest } = await import('./policy-test');
      const report = await dryRunPolicy(await core(), readPolicyTestRequest(file));
      emit(io, opts.json, report, () => formatPolicyTestReport(report));
      if (report.refusals.length > 0) exitCode = EXIT_CODES.failed;
      else if (opts.expect && report.decision?.effect !== opts.expect) {
        if (!opts.json) io.err(`expected ${opts.expect}, got ${report.decision?.effect ?? 'nothing'}`);
        exitCode = EXIT_CODES.failed;
      }
    });

  // A personal operator token (COUNTERSIGN_OPERATOR_TOKEN; in dev, the one `countersign dev` keeps for --as).
  const operator = (opts: { api?: string; as?: string }) => operatorClientFor(getSettings(), opts);
  /** The options of every operator API command: --api, --as and --json. */
  const operatorCommand = (cmd: Command): Command =>
    cmd
      .option('--json', 'print JSON')
      .addOption(new Option('--api <url>', 'base URL of the Countersign API (default: http://127.0.0.1:$PORT)'))
      .addOption(
        new Option(
          '--as <person>',
          'act as this person: in dev, with the operator token `countersign dev` keeps for them; otherwise it must ' +
            'be the owner of COUNTERSIGN_OPERATOR_TOKEN (what they do is always recorded as the token’s owner)',
        ),
      );
  type OperatorOpts = { json?: boolean; api?: string; as?: string };

  const requests = program.command('requests').description('Read and cancel requests through the operator API.');
  operatorCommand(
    requests
      .command('list')
      .description('List requests across agents, newest first.')
      .addOption(new Option('--status <status>', 'only this status').choices(REQUEST_STATUSES))
      .option('--agent <id>', "only this agent's requests")
      .option('--action <name>', "only this action's requests")
      .option('--limit <n>', 'at most this many (1-1000)', parseInteger(1000)),
  ).action(async (opts: OperatorOpts & { status?: string; agent?: string; action?: string; limit?: number }) => {
    const { items } = await operator(opts).list({
      status: opts.status,
      agent: opts.agent,
      action: opts.action,
      limit: opts.limit,
    });
    emit(io, opts.json, items, () => formatRequestList(items));
  });
  operatorCommand(requests.command('show <id>').description("One request's full state and timeline.")).action(
    async (id: string, opts: OperatorOpts) => {
      const request = await operator(opts).show(id);
      emit(io, opts.json, request, () => formatRequest(request));
    },
  );
  operatorCommand(
    requests
      .command('cancel <id>')
      .description('Cancel a pending request; it ends `cancelled` and never executes.')
      .option('--reason <text>', 'why; recorded in the history', parseText),
  ).action(async (id: string, opts: OperatorOpts & { reason?: string }) => {
    const request = await operator(opts).cancel(id, opts.reason);
    emit(io, opts.json, request, () => formatRequest(request));
  });

  for (const decision of ['approve', 'reject'] as const) {
    const cmd = program
      .command(`${decision} <id>`)
      .description(`${decision === 'approve' ? 'Approve' : 'Reject'} a pending request as an approver (operator API).`);
    if (decision === 'reject')
      cmd.requiredOption('--reason <text>', 'why (required); recorded in the history', parseText);
    else cmd.option('--reason <text>', 'why; recorded in the history', parseText);
    operatorCommand(cmd).action(async (id: string, opts: OperatorOpts & { reason?: string }) => {
      const request = await operator(opts).decide(id, {
        decision,
        ...(opts.as ? { approver: opts.as } : {}),
        ...(opts.reason ? { reason: opts.reason } : {}),
      });
      emit(io, opts.json, request, () => formatRequest(request));
    });
  }

  registerIdentityCommands(program, { io, settings: getSettings, operator });
  registerLoginCommands(program, { io, settings: getSettings, core });
  registerPolicyReplayCommand(policy, { io, settings: getSettings, core, setExitCode: (code) => (exitCode = code) });
  registerDoctorCommand(program, { io, settings: getSettings, core, setExitCode: (code) => (exitCode = code) });
  registerEvidenceCommands(program, { io, settings: getSettings, core, setExitCode: (code) => (exitCode = code) });
  registerMcpCommand(program, { settings: getSettings });
  registerCompletionCommand(program, io);
  ensureJsonEverywhere(program);
  return { command: program, exitCode: () => exitCode };
}

/** Routes the Temporal SDK's logs into ours. Loaded on demand: the offline commands never touch the SDK's runtime. */
async function withTemporalRuntime(logger: Logger, prometheusBindAddress?: string): Promise<void> {
  const { installTemporalRuntime } = await import('../temporal/runtime');
  installTemporalRuntime(logger, 'WARN', prometheusBindAddress ? { prometheusBindAddress } : {});
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}
