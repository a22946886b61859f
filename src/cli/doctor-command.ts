// `countersign doctor`: checks Temporal, the namespace and its search attributes, a worker on each task queue, the
// database and its migrations, the vault key, the receipt key shared by API and workers, and Slack; one line each.
import type { Command } from 'commander';
import type { Core } from '../app/core';
import type { Settings } from '../config/settings';
import { DEFAULT_TASK_QUEUES, prefixedTaskQueues } from '../contracts/task-queues';
import type { CliIo } from './output';
import { temporalAddress } from './range-options';

export interface DoctorCommandDeps {
  io: CliIo;
  settings: () => Settings;
  core: () => Promise<Core>;
  setExitCode: (code: number) => void;
}

/** Registers `doctor`. */
export function registerDoctorCommand(program: Command, deps: DoctorCommandDeps): void {
  program
    .command('doctor')
    .description('Check every dependency of this deployment, one line each; exit 1 when any check fails.')
    .option('--api <url>', 'base URL of the Countersign API (default: http://127.0.0.1:$PORT)')
    .option('--task-queue-prefix <prefix>', 'the task queue prefix of a deployment that shares its namespace')
    .option('--timeout <ms>', 'per-check timeout in milliseconds', (v) => Number.parseInt(v, 10), 5000)
    .option('--json', 'print the checks as JSON')
    .action(async (opts: { api?: string; taskQueuePrefix?: string; timeout: number; json?: boolean }) => {
      const settings = deps.settings();
      const { formatDoctorReport, runDoctor } = await import('../doctor/checks');
      const checks = await runDoctor({
        settings,
        core: await deps.core(),
        taskQueues: opts.taskQueuePrefix ? prefixedTaskQueues(opts.taskQueuePrefix) : DEFAULT_TASK_QUEUES,
        temporalAddress: temporalAddress(settings),
        apiUrl: opts.api ?? `http://127.0.0.1:${settings.PORT}`,
        timeoutMs: opts.timeout,
      });
      const ok = checks.every((c) => c.ok);
      deps.io.out(opts.json ? JSON.stringify({ ok, checks }, null, 2) : formatDoctorReport(checks));
      if (!ok) deps.setExitCode(1);
    });
}
