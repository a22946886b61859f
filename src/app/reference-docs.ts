// The references in docs/reference/, generated from the code so they cannot drift from it: settings from the zod
// schema, the CLI from the commander tree, HTTP from the OpenAPI document. `npm run generate` writes them and
// test/unit/reference-docs.test.ts fails when a committed one is stale.
import type { Command, Option } from 'commander';
import { EXIT_CODE_MEANINGS } from '../cli/conventions';
import { buildProgram } from '../cli/program';
import type { CountersignConfig } from '../config/schema';
import { buildOpenApiDocument } from '../http/openapi';
import { settingsMarkdownTable } from './settings-docs';

const GENERATED = (source: string) =>
  `<!-- Generated from ${source} by \`npm run generate\`; do not edit by hand (test/unit/reference-docs.test.ts). -->`;

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** docs/reference/settings.md: every environment setting with its default and description. */
export function settingsReferenceMarkdown(): string {
  return [
    GENERATED('src/config/settings.ts'),
    '',
    '# Settings reference',
    '',
    'Countersign reads these environment variables once at start-up (`.env.example` lists them too). An invalid',
    'value stops the process with every problem listed. The YAML config file is described in',
    '[policy.md](../policy.md) and by its JSON Schema, `schema/countersign.config.schema.json`.',
    '',
    settingsMarkdownTable(),
    '',
  ].join('\n');
}

function optionRow(o: Option): string {
  const extra = [
    o.mandatory ? 'required' : '',
    o.argChoices ? `one of: ${o.argChoices.map((c) => `\`${c}\``).join(', ')}` : '',
    o.defaultValue !== undefined && typeof o.defaultValue !== 'boolean' ? `default \`${String(o.defaultValue)}\`` : '',
  ].filter(Boolean);
  return `| \`${cell(o.flags)}\` | ${cell(o.description)}${extra.length ? ` (${extra.join('; ')})` : ''} |`;
}

function usageOf(cmd: Command, path: string[]): string {
  return ['countersign', ...path, cmd.usage()].filter(Boolean).join(' ');
}

/** docs/reference/cli.md: every command with its usage, description and options, and the exit codes. */
export function cliReferenceMarkdown(): string {
  const { command: root } = buildProgram();
  const lines = [
    GENERATED('the commander definitions in src/cli/'),
    '',
    '# CLI reference',
    '',
    'Run `npx countersign <command> --help` for the same text. Every command takes `--json` (its result as JSON on',
    'stdout, and an error as `{"error": {code, message, exitCode, errors}}` on stderr); errors always go to stderr.',
    'Option values are checked before anything is called. The operator commands take `--api <url>` and `--as',
    '<person>` (in dev, the operator token `countersign dev` keeps for that person). Shell completion:',
    '`source <(npx countersign completion bash)` (zsh: after `autoload -U +X bashcompinit && bashcompinit`), or',
    '`npx countersign completion fish > ~/.config/fish/completions/countersign.fish`.',
    '',
    '## Exit codes',
    '',
    '| Code | Meaning |',
    '| --- | --- |',
    ...Object.entries(EXIT_CODE_MEANINGS).map(([code, meaning]) => `| ${code} | ${cell(meaning)} |`),
    '',
    '## Global options',
    '',
    '| Option | Description |',
    '| --- | --- |',
    ...root.options.map(optionRow),
    '',
    '## Commands',
  ];
  const visit = (cmd: Command, path: string[]) => {
    if (cmd.commands.length === 0) {
      lines.push('', `### \`${path.join(' ')}\``, '', cmd.description(), '', '```', usageOf(cmd, path), '```');
      const args = cmd.registeredArguments;
      if (args.length) {
        lines.push('', '| Argument | Description |', '| --- | --- |');
        for (const a of args) {
          const choices = a.argChoices ? ` (one of: ${a.argChoices.map((c) => `\`${c}\``).join(', ')})` : '';
          lines.push(
            `| \`${a.name()}\` | ${cell(a.description || (a.required ? 'required' : 'optional'))}${choices} |`,
          );
        }
      }
      if (cmd.options.length)
        lines.push('', '| Option | Description |', '| --- | --- |', ...cmd.options.map(optionRow));
      return;
    }
    for (const sub of cmd.commands) visit(sub, [...path, sub.name()]);
  };
  for (const cmd of root.commands) visit(cmd, [cmd.name()]);
  lines.push('');
  return lines.join('\n');
}

interface OpenApiOperation {
  summary?: string;
  description?: string;
  security?: Record<string, unknown>[];
  responses?: Record<string, { description?: string }>;
}

/** docs/reference/http.md: every path and method of the OpenAPI document with its summary and responses. */
export function httpReferenceMarkdown(config: CountersignConfig): string {
  const doc = buildOpenApiDocument({ config, identity: true, receipts: true }) as {
    paths: Record<string, Record<string, OpenApiOperation>>;
  };
  const lines = [
    GENERATED('the OpenAPI document (src/http/openapi.ts) for the example config'),
    '',
    '# HTTP API reference',
    '',
    'The running API serves the full document, with every action’s parameter schema, at `GET /openapi.json`.',
    'Errors are `application/problem+json` (RFC 9457) with a stable `code` and the offending fields in `errors`.',
    '',
    '| Method | Path | Summary | Responses |',
    '| --- | --- | --- | --- |',
  ];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (typeof op !== 'object' || !op || !('responses' in op)) continue;
      const responses = Object.keys(op.responses ?? {}).join(', ');
      lines.push(
        `| ${method.toUpperCase()} | \`${path}\` | ${cell(op.summary ?? op.description ?? '')} | ${responses} |`,
      );
    }
  }
  lines.push('');
  return lines.join('\n');
}

/** The generated references by path, each from the example config where it needs one. */
export const REFERENCE_DOCS: Record<string, (config: CountersignConfig) => string> = {
  'docs/reference/settings.md': () => settingsReferenceMarkdown(),
  'docs/reference/cli.md': () => cliReferenceMarkdown(),
  'docs/reference/http.md': (config) => httpReferenceMarkdown(config),
};
