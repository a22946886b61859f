// How people hear about requests. The default writes structured log lines; Slack implements the same interface.
import type { Logger } from './logger';
import type { NotificationRef, NotifyApproversInput, NotifyOutcomeInput } from './contracts/types';

export interface Notifier {
  notifyApprovers(input: NotifyApproversInput): Promise<NotificationRef[]>;
  notifyOutcome(input: NotifyOutcomeInput): Promise<void>;
}

/** A notifier that only logs; approvals then go through the API and CLI. */
export function createLogNotifier(logger: Logger): Notifier {
  return {
    async notifyApprovers({ kind, group, state }) {
      logger.info(
        {
          requestId: state.requestId,
          action: state.action,
          kind,
          group,
          approvers: state.eligibleApprovers,
          expiresAt: state.expiresAt,
        },
        `approval ${kind}: ${state.action} by ${state.agent.id} waits for ${state.requirements
          .map((r) => `${r.approvedBy.length}/${r.quorum} ${r.group}`)
          .join(', ')}`,
      );
      return [];
    },
    async notifyOutcome({ state }) {
      logger.info(
        { requestId: state.requestId, action: state.action, status: state.status, outcome: state.outcome?.summary },
        `request ${state.requestId} ${state.status}`,
      );
    },
  };
}
