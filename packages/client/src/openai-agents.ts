// OpenAI Agents SDK adapter: catalog actions as function tools whose calls are governed by Countersign.
import { tool, type FunctionTool } from '@openai/agents';
import type { ActionDescription, CountersignClient } from './client.js';
import {
  governedDescription,
  governedInputSchema,
  runGoverned,
  toolName,
  type GovernedInput,
  type GovernedToolOptions,
} from './governed.js';

/** The SDK's non-strict JSON Schema shape (strict mode would rewrite the action's own schema). */
interface NonStrictParameters {
  type: 'object';
  properties: Record<string, Record<string, unknown>>;
  required: string[];
  additionalProperties: true;
}

/** One governed function tool for an action (non-strict: the action's own JSON Schema is used as it is). */
export function countersignTool(
  client: CountersignClient,
  action: ActionDescription,
  options: GovernedToolOptions = {},
): FunctionTool {
  return tool({
    name: toolName(action.name),
    description: governedDescription(action),
    parameters: governedInputSchema(action) as unknown as NonStrictParameters,
    strict: false,
    execute: async (input, _context, details) =>
      JSON.stringify(
        await runGoverned(client, action, input as GovernedInput, details?.toolCall?.callId, {
          keyPrefix: 'openai-agents',
          ...options,
        }),
      ),
  }) as unknown as FunctionTool;
}

/** Every action the agent may request, as function tools. */
export async function countersignTools(
  client: CountersignClient,
  options: GovernedToolOptions = {},
): Promise<FunctionTool[]> {
  return (await client.actions()).map((a) => countersignTool(client, a, options));
}
