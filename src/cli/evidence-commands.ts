// `countersign evidence export` and `countersign evidence verify`: the compliance trail taken out of Temporal as one
// record per request, and the check an auditor runs on what they were given.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import type { JWK } from 'jose';
import type { Core } from '../app/core';
import type { Settings } from '../config/settings';
import { CONTROL_TASK_QUEUE } from '../contracts/task-queues';
import { AppError } from '../errors';
import { parseTrustedKeys, verifyEvidenceJsonl, type EvidenceVerification } from '../evidence/chain';
import { EVIDENCE_FORMATS, type EvidenceFormat } from '../evidence/formats';
import { DEV_RECEIPT_KEY_FILE, loadReceiptKey, receiptJwks } from '../receipts';
import type { CliIo } from './output';
import { parseTime, temporalAddress } from './range-options';

export interface EvidenceCommandDeps {
  io: CliIo;
  settings: () => Settings;
  core: () => Promise<Core>;
  setExitCode: (code: number) => void;
}

/** Registers `evidence export` and `evidence verify`. */
export function registerEvidenceCommands(program: Command, deps: EvidenceCommandDeps): void {
  const { io } = deps;
  const evidence = program.command('evidence').description('Export the compliance trail and verify exports.');
  evidence
    .command('export')
    .description(
      'One record per request submitted in [--from, --to): who, what, when, where, why, outcome, receipt id. ' +
        'JSONL is hash-chained and ends with a manifest signed with the receipt key.',
    )
    .requiredOption('--from <time>', 'start of the range (ISO date or time, inclusive)', parseTime('from'))
    .requiredOption('--to <time>', 'end of the range (ISO date or time, exclusive)', parseTime('to'))
    .option('--agent <id>', "only this agent's requests")
    .option('--action <name>', "only this action's requests")
    .addOption(new Option('--format <format>', 'output format').choices(EVIDENCE_FORMATS).default('jsonl'))
    .option('--output <file>', 'write to this file instead of stdout')
    .option('--task-queue <name>', "the deployment's control task queue", CONTROL_TASK_QUEUE)
    .action(
      async (opts: {
        from: Date;
        to: Date;
        agent?: string;
        action?: string;
        format: EvidenceFormat;
        output?: string;
        taskQueue: string;
      }) => {
        const settings = deps.settings();
        const core = await deps.core();
        const key = opts.format === 'jsonl' ? await loadReceiptKey(settings) : undefined;
        const { connectTemporal } = await import('../app/temporal');
        const { commandDataConverter } = await import('../app/identity');
        const { createLogger } = await import('../logger');
        const dataConverter = await commandDataConverter(settings, createLogger({ level: 'warn' }, process.stderr));
        const { exportEvidence } = await import('../evidence');
        const connections = await connectTemporal({
          address: temporalAddress(settings),
          namespace: settings.TEMPORAL_NAMESPACE,
          forWorkers: false,
          dataConverter,
        });
        try {
          const { text, records } = await exportEvidence(
            connections.client,
            {
              from: opts.from,
              to: opts.to,
              taskQueue: opts.taskQueue,
              ...(opts.agent ? { agent: opts.agent } : {}),
              ...(opts.action ? { action: opts.action } : {}),
            },
            { format: opts.format, catalog: core.catalog, ...(key ? { key } : {}) },
          );
          if (opts.output) {
            await writeFile(opts.output, text);
            io.err(`${records.length} records written to ${opts.output}`);
          } else {
            io.out(text);
          }
        } finally {
          await connections.close();
        }
      },
    );

  evidence
    .command('verify <file>')
    .description(
      'Check a JSONL export: every record unaltered, none removed, inserted or reordered, and the manifest signed by ' +
        'a trusted key (--public-key, else this deployment’s receipt key). Exit 1 on any problem.',
    )
    .option('--public-key <file>', 'the trusted public key: a JWKS (the API’s receipt JWKS), a JWK or a PEM')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { publicKey?: string; json?: boolean }) => {
      const text = await readFile(file, 'utf8');
      const trusted = opts.publicKey
        ? parseTrustedKeys(await readFile(opts.publicKey, 'utf8'), opts.publicKey)
        : await deploymentReceiptKeys(deps.settings());
      const result = await verifyEvidenceJsonl(text, trusted);
      io.out(opts.json ? JSON.stringify(result, null, 2) : formatVerification(file, result));
      if (!result.ok) deps.setExitCode(1);
    });
}

/** The human-readable verification report. */
export function formatVerification(file: string, result: EvidenceVerification): string {
  const m = result.manifest;
  if (result.ok && m) {
    return (
      `${file}: verified: ${m.count} records, ${m.range.from} to ${m.range.to}, signed by key ${m.keyId}\n` +
      `  first ${m.firstHash ?? '-'}\n  last  ${m.lastHash ?? '-'}`
    );
  }
  return [
    `${file}: NOT verified (${result.problems.length} problem${result.problems.length === 1 ? '' : 's'})`,
    ...result.problems.map((p) => `  ${p.line ? `line ${p.line}` : 'file'}: ${p.code}: ${p.message}`),
  ].join('\n');
}

/** The receipt key this deployment is configured with, public half only; never generates one. */
async function deploymentReceiptKeys(settings: Settings): Promise<JWK[]> {
  const configured = settings.COUNTERSIGN_RECEIPT_KEY || settings.COUNTERSIGN_RECEIPT_KEY_FILE;
  if (!configured) {
    const file = join(settings.COUNTERSIGN_DATA_DIR, DEV_RECEIPT_KEY_FILE);
    try {
      await readFile(file);
    } catch {
      throw new AppError('config_invalid', 'no trusted key to verify with', {
        errors: [
          { path: 'public-key', message: 'pass --public-key (the API’s /.well-known/receipt-jwks.json, say)' },
          { path: 'COUNTERSIGN_RECEIPT_KEY', message: `not set, and no ${file}` },
        ],
      });
    }
  }
  return receiptJwks([await loadReceiptKey(settings)]).keys;
}
