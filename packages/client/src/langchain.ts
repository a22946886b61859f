// LangChain adapter (@langchain/core tools, usable in LangGraph): catalog actions as tools governed by Countersign.
import { tool, type StructuredToolInterface } from '@langchain/core/tools';
import type { ActionDescription, CountersignClient } from './client.js';
import {
  governedDescription,
  governedInputSchema,
  runGoverned,
  toolName,
  type GovernedInput,
  type GovernedToolOptions,
} from './governed.js';

/** One governed LangChain tool for an action; its result is the JSON of the request's outcome. */
export function countersignTool(
  client: CountersignClient,
  action: ActionDescription,
  options: GovernedToolOptions = {},
): StructuredToolInterface {
  return tool(
    async (input: GovernedInput, config?: { toolCall?: { id?: string }; signal?: AbortSignal }) => {
      const callId = config?.toolCall?.id;
      return JSON.stringify(
        await runGoverned(client, action, input, callId, {
          keyPrefix: 'langchain',
          ...options,
          ...(config?.signal ? { signal: config.signal } : {}),
        }),
      );
    },
    {
      name: toolName(action.name),
      description: governedDescription(action),
      schema: governedInputSchema(action),
    },
  );
}

/** Every action the agent may request, as LangChain tools. */
export async function countersignTools(
  client: CountersignClient,
  options: GovernedToolOptions = {},
): Promise<StructuredToolInterface[]> {
  return (await client.actions()).map((a) => countersignTool(client, a, options));
}
