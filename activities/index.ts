// Control activities: the re-check before execution and notifications. Dependencies come in; nothing is global.
import { Context } from '@temporalio/activity';
import type { AgentDirectory } from '../src/agents';
import { paramsHash } from '../src/canonical';
import type {
  ActionRequestState,
  NotificationRef,
  NotifyApproversInput,
  NotifyOutcomeInput,
  RecheckInput,
  RecheckResult,
} from '../src/contracts/types';
import type { Logger } from '../src/logger';
import type { Notifier } from '../src/notifier';

/** Answers whether execution is halted for an agent or action (the kill switch); undefined when it is not. */
export interface ExecutionGuard {
  blockedReason(agentId: string, action: string): Promise<string | undefined>;
}

export interface ActivityDeps {
  logger: Logger;
  agents: AgentDirectory;
  notifier: Notifier;
  guard?: ExecutionGuard;
  /** Told once when a request reaches its terminal status (the metrics' closed requests and decision times). */
  observeClosed?: (state: ActionRequestState) => void;
}

/** The control activities registered on the control task queue. */
export function createActivities(deps: ActivityDeps) {
  return {
    /** Confirms, just before execution, that the agent is active, nothing halts it and the params are those approved. */
    async recheckBeforeExecution(input: RecheckInput): Promise<RecheckResult> {
      const agent = await deps.agents.get(input.agentId);
      if (!agent) return { ok: false, reason: `agent ${input.agentId} no longer exists` };
      if (!agent.enabled) return { ok: false, reason: `agent ${input.agentId} is not active` };
      if (!agent.allowedActions.includes(input.action)) {
        return { ok: false, reason: `agent ${input.agentId} may no longer request ${input.action}` };
      }
      const blocked = await deps.guard?.blockedReason(input.agentId, input.action);
      if (blocked) return { ok: false, reason: `kill switch: ${blocked}` };
      const actual = paramsHash(input.params);
      if (actual !== input.paramsHash) return { ok: false, reason: 'parameters differ from the submitted ones' };
      if (input.approvedParamsHashes.some((h) => h !== actual)) {
        return { ok: false, reason: 'parameters differ from the approved ones' };
      }
      return { ok: true };
    },

    /** Tells approvers a request waits for them (or reminds, escalates, updates progress). */
    async notifyApprovers(input: NotifyApproversInput): Promise<NotificationRef[]> {
      try {
        return await deps.notifier.notifyApprovers(input);
      } catch (err) {
        deps.logger.warn(
          { requestId: input.state.requestId, kind: input.kind, err: errorText(err) },
          'notify approvers failed',
        );
        throw err;
      }
    },

    /** Tells people and the agent's trail how the request ended. */
    async notifyOutcome(input: NotifyOutcomeInput): Promise<void> {
      // The workflow's last step: its first attempt is where the request is counted as closed, retries are not.
      if (Context.current().info.attempt === 1) deps.observeClosed?.(input.state);
      try {
        await deps.notifier.notifyOutcome(input);
      } catch (err) {
        deps.logger.warn({ requestId: input.state.requestId, err: errorText(err) }, 'notify outcome failed');
        throw err;
      }
    },
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
