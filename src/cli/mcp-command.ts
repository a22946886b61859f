// `countersign mcp`: the stdio MCP server for agent hosts. Logs go to stderr; stdout carries only the protocol.
import type { Command } from 'commander';
import type { Settings } from '../config/settings';

/** Registers `countersign mcp`. */
export function registerMcpCommand(program: Command, deps: { settings: () => Settings }): void {
  program
    .command('mcp')
    .description(
      'MCP server on stdio for an agent: the catalog actions it may request as tools, through the API ' +
        '(COUNTERSIGN_URL, COUNTERSIGN_CLIENT_ID, COUNTERSIGN_CLIENT_SECRET).',
    )
    .option('--api <url>', 'base URL of the Countersign API (default: $COUNTERSIGN_URL, else http://127.0.0.1:$PORT)')
    .action(async (opts: { api?: string }) => {
      const s = deps.settings();
      const { createLogger } = await import('../logger');
      const logger = createLogger({ level: s.LOG_LEVEL }, process.stderr);
      const { runStdioBridge } = await import('../mcp/stdio');
      await runStdioBridge({
        apiUrl: opts.api ?? s.COUNTERSIGN_URL ?? `http://127.0.0.1:${s.PORT}`,
        ...(s.COUNTERSIGN_CLIENT_ID ? { clientId: s.COUNTERSIGN_CLIENT_ID } : {}),
        ...(s.COUNTERSIGN_CLIENT_SECRET ? { clientSecret: s.COUNTERSIGN_CLIENT_SECRET } : {}),
        ...(s.COUNTERSIGN_AGENT_TOKEN ? { token: s.COUNTERSIGN_AGENT_TOKEN } : {}),
        logger,
      });
    });
}
