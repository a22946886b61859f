// `countersign policy replay`: the requests of a time range decided again under the policy named by --config,
// against what was decided when they arrived.
import type { Command } from 'commander';
import type { Core } from '../app/core';
import type { Settings } from '../config/settings';
import { CONTROL_TASK_QUEUE } from '../contracts/task-queues';
import { parseTime, temporalAddress } from './range-options';
import type { CliIo } from './output';

export interface PolicyReplayDeps {
  io: CliIo;
  settings: () => Settings;
  /** The config named by the global --config: the policy to replay under. */
  core: () => Promise<Core>;
  setExitCode: (code: number) => void;
}

/** Registers `policy replay` under the `policy` command. */
export function registerPolicyReplayCommand(policy: Command, deps: PolicyReplayDeps): void {
  policy
    .command('replay')
    .description(
      'Decide the requests submitted in [--from, --to) again under the policy of --config <new.yaml> (from the ' +
        'inputs recorded with each decision: usage figures and signals included) and print what would change. Starts ' +
        'nothing.',
    )
    .requiredOption('--from <time>', 'start of the range (ISO date or time, inclusive)', parseTime('from'))
    .requiredOption('--to <time>', 'end of the range (ISO date or time, exclusive)', parseTime('to'))
    .option('--agent <id>', "only this agent's requests")
    .option('--action <name>', "only this action's requests")
    .option('--json', 'print the report as JSON')
    .option('--fail-on-change', 'exit 1 when any decision would change (for CI on policy pull requests)')
    .option('--task-queue <name>', "the deployment's control task queue", CONTROL_TASK_QUEUE)
    .action(
      async (opts: {
        from: Date;
        to: Date;
        agent?: string;
        action?: string;
        json?: boolean;
        failOnChange?: boolean;
        taskQueue: string;
      }) => {
        const settings = deps.settings();
        const core = await deps.core();
        const { connectTemporal } = await import('../app/temporal');
        const { commandDataConverter } = await import('../app/identity');
        const { createLogger } = await import('../logger');
        const dataConverter = await commandDataConverter(settings, createLogger({ level: 'warn' }, process.stderr));
        const { readRecordedRequests } = await import('../temporal/adapter');
        const { formatReplayReport, replayDecisions } = await import('../policy/replay');
        const connections = await connectTemporal({
          address: temporalAddress(settings),
          namespace: settings.TEMPORAL_NAMESPACE,
          forWorkers: false,
          dataConverter,
        });
        try {
          const recorded = await readRecordedRequests(connections.client, {
            from: opts.from,
            to: opts.to,
            taskQueue: opts.taskQueue,
            ...(opts.agent ? { agent: opts.agent } : {}),
            ...(opts.action ? { action: opts.action } : {}),
          });
          const report = replayDecisions(recorded, core.policy);
          deps.io.out(
            opts.json
              ? JSON.stringify({ config: core.configPath, ...report }, null, 2)
              : `${core.configPath}\n${formatReplayReport(report)}`,
          );
          if (opts.failOnChange && report.changed.length > 0) deps.setExitCode(1);
        } finally {
          await connections.close();
        }
      },
    );
}
