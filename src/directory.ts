// People lookups over the config: who owns an agent, who a request acts for, who is in a group.
import type { CountersignConfig } from './config/schema';

/** Resolves a person reference (person id, email or Slack user id) to a person id, if known. */
export function resolvePersonId(config: CountersignConfig, ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  if (ref in config.people) return ref;
  const lower = ref.toLowerCase();
  for (const [id, person] of Object.entries(config.people)) {
    if (person.email?.toLowerCase() === lower || person.slack === ref) return id;
  }
  return undefined;
}

/** People who may never decide a request: the agent's owner and the person it acts for. */
export function excludedApprovers(config: CountersignConfig, owner: string, onBehalfOf: string | undefined): string[] {
  const out = new Set<string>([owner]);
  const behalf = resolvePersonId(config, onBehalfOf);
  if (behalf) out.add(behalf);
  else if (onBehalfOf) out.add(onBehalfOf);
  return [...out];
}

/** Members (person ids) of an approver group. */
export function groupMembers(config: CountersignConfig, group: string | undefined): string[] {
  if (!group) return [];
  return [...(config.approvers[group]?.members ?? [])];
}
