// Vercel AI SDK (ai@6) adapter: catalog actions as `tool()`s whose calls are governed by Countersign.
import { jsonSchema, tool, type Tool } from 'ai';
import type { ActionDescription, CountersignClient } from './client.js';
import {
  governedDescription,
  governedInputSchema,
  runGoverned,
  toolName,
  type GovernedInput,
  type GovernedResult,
  type GovernedToolOptions,
} from './governed.js';

/** One governed AI SDK tool for an action. */
export function countersignTool(
  client: CountersignClient,
  action: ActionDescription,
  options: GovernedToolOptions = {},
): Tool<GovernedInput, GovernedResult> {
  return tool<GovernedInput, GovernedResult>({
    description: governedDescription(action),
    inputSchema: jsonSchema<GovernedInput>(governedInputSchema(action)),
    execute: (input, { toolCallId, abortSignal }) =>
      runGoverned(client, action, input, toolCallId, {
        keyPrefix: 'ai-sdk',
        ...options,
        ...(abortSignal ? { signal: abortSignal } : {}),
      }),
  });
}

/** Every action the agent may request, as AI SDK tools keyed by tool name. */
export async function countersignTools(
  client: CountersignClient,
  options: GovernedToolOptions = {},
): Promise<Record<string, Tool<GovernedInput, GovernedResult>>> {
  const actions = await client.actions();
  return Object.fromEntries(actions.map((a) => [toolName(a.name), countersignTool(client, a, options)]));
}
