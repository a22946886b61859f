// What a submit hands the workflow: its one input object, and the Temporal UI's static details.
import type { AgentRecord } from '../agents';
import { paramsHash } from '../canonical';
import type { ActionConfig, CountersignConfig } from '../config/schema';
import { templatePathOf, WORKFLOW_GENERATION } from '../contracts/names';
import type { ActionRequestInput, ActionTarget, PolicyDecision } from '../contracts/types';
import { excludedApprovers } from '../directory';
import type { TaskQueues } from '../temporal/worker';

/** What an agent submits. */
export interface SubmitBody {
  action: string;
  params: Record<string, unknown>;
  reason: string;
  onBehalfOf?: string;
  target?: ActionTarget;
  /** Where to POST the request's signed webhook events (checked at submit against the callback policy). */
  callbackUrl?: string;
}

/** The workflow input of a request decided by policy. */
export function workflowInput(
  deps: { config: CountersignConfig; taskQueues: TaskQueues },
  requestId: string,
  agent: AgentRecord,
  body: SubmitBody,
  action: ActionConfig,
  decision: PolicyDecision,
): ActionRequestInput {
  const connector = deps.config.connectors[action.connector];
  return {
    requestId,
    generation: WORKFLOW_GENERATION,
    agent: { id: agent.id, owner: agent.owner },
    action: body.action,
    risk: action.risk,
    params: body.params,
    paramsHash: paramsHash(body.params),
    reason: body.reason,
    ...(body.onBehalfOf ? { onBehalfOf: body.onBehalfOf } : {}),
    ...(body.target ? { target: body.target } : {}),
    submittedAt: new Date().toISOString(),
    decision,
    excludedApprovers: excludedApprovers(deps.config, agent.owner, body.onBehalfOf),
    connector: {
      name: action.connector,
      type: connector?.type ?? 'http',
      taskQueue: deps.taskQueues.connector(action.connector),
      ...(deps.taskQueues.connector(action.connector) === deps.taskQueues.control ? { checked: true } : {}),
      timeoutMs: connector?.timeout ?? 10_000,
      ...(action.http ? { call: `${action.http.method} ${templatePathOf(action.http.url)}` } : {}),
    },
    recheckWindowMs: deps.config.execution.recheckWindow,
    ...(body.callbackUrl
      ? {
          callback: {
            url: body.callbackUrl,
            timeoutMs: deps.config.webhooks.timeout,
            firstRetryMs: deps.config.webhooks.firstRetryAfter,
            retryForMs: deps.config.webhooks.retryFor,
          },
        }
      : {}),
  };
}

/** The Temporal UI's details of a request: facts only, never parameters. */
export function staticDetails(input: ActionRequestInput): string {
  const d = input.decision;
  return (
    [
      `**Action:** ${input.action} (risk ${input.risk})`,
      `**Agent:** ${input.agent.id} (owner ${input.agent.owner})${input.onBehalfOf ? `, on behalf of ${input.onBehalfOf}` : ''}`,
      input.target
        ? `**Target:** ${[input.target.system, input.target.environment, input.target.resource].filter(Boolean).join(' / ')}`
        : '',
      `**Policy:** ${d.evaluatedEffect} (${d.mode}) by ${d.rules.join(', ') || 'default deny'}, version ${d.policyVersion}`,
      d.approvals.length ? `**Approvals:** ${d.approvals.map((a) => `${a.quorum} of ${a.group}`).join(', ')}` : '',
      `**Params hash:** ${input.paramsHash}`,
    ]
      .filter(Boolean)
      // A blank line between facts: the UI renders markdown, where one newline runs the lines together.
      .join('\n\n')
  );
}
