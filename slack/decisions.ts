// A decision made in Slack: identify the clicker, answer them at once with the same authorization code the workflow
// runs, send the decision to the workflow (which records every attempt, refused ones included), then confirm what the
// workflow actually did, since it is the authority (two approvers racing, say).
import { authorizeDecision, describeRefusal, eligibleUsergroups } from '../src/contracts/authorization';
import {
  isTerminal,
  type ActionRequestState,
  type DecisionChoice,
  type DecisionSubmission,
  type RefusalCode,
} from '../src/contracts/types';
import type { CountersignConfig } from '../src/config/schema';
import { excludedApprovers } from '../src/directory';
import type { Logger } from '../src/logger';
import { progressText } from './blocks/approval-message';
import type { SlackDirectory, SlackIdentity } from './directory';
import type { SlackRequestGateway } from './requests';

export interface SlackDecisionDeps {
  config: CountersignConfig;
  logger: Logger;
  gateway: SlackRequestGateway;
  directory: SlackDirectory;
  /** How long to wait for the workflow to record the decision before answering "sent" (default 3 s). */
  confirmTimeoutMs?: number;
}

/** One click (or modal submission) as Slack delivered it, ids only. */
export interface SlackDecision {
  requestId: string;
  /** The params hash the message showed. */
  paramsHash: string;
  decision: DecisionChoice;
  reason?: string;
  slackUser: string;
  slackTeam?: string;
  channel?: string;
  messageTs?: string;
}

export type SlackDecisionResult =
  | { kind: 'recorded'; text: string; state: ActionRequestState }
  | { kind: 'refused'; code: RefusalCode; text: string }
  | { kind: 'sent'; text: string }
  | { kind: 'unavailable'; text: string };

/** Decides a request from Slack and returns the words for the clicker. */
export async function decideFromSlack(deps: SlackDecisionDeps, d: SlackDecision): Promise<SlackDecisionResult> {
  const log = deps.logger.child({ component: 'slack-decisions', requestId: d.requestId, slackUser: d.slackUser });
  let state: ActionRequestState | undefined;
  try {
    state = await deps.gateway.state(d.requestId);
  } catch (err) {
    log.warn({ err: message(err) }, 'request state unavailable');
    return sendUnchecked(deps, d, log);
  }
  if (!state) return { kind: 'unavailable', text: 'Countersign knows no such request.' };

  let identity: SlackIdentity;
  try {
    identity = await deps.directory.identify(d.slackUser, state);
  } catch (err) {
    // Without Slack's answer we cannot rule out self-approval or confirm a user group: fail closed.
    log.warn({ err: message(err) }, 'cannot identify the Slack user');
    return {
      kind: 'unavailable',
      text: 'Countersign could not check who you are with Slack just now; nothing was recorded. Try again.',
    };
  }

  const submission = submissionOf(d, identity.approver, identity.usergroups);
  const escalated = new Set(state.requirements.filter((r) => r.escalated).map((r) => r.ruleId));
  const refusal = authorizeDecision(
    {
      status: state.status,
      paramsHash: state.paramsHash,
      excludedApprovers: excludedApprovers(deps.config, state.agent.owner, state.onBehalfOf),
      eligibleApprovers: state.eligibleApprovers,
      decidedBy: [...state.approvals, ...state.rejections].map((x) => x.approver),
      eligibleUsergroups: eligibleUsergroups(state.decision.approvals, escalated),
    },
    submission,
  );

  // The workflow records every attempt; a closed workflow cannot take signals and has nothing left to record.
  if (!isTerminal(state.status)) {
    try {
      await deps.gateway.submitDecision(d.requestId, submission);
    } catch (err) {
      log.warn({ err: message(err) }, 'decision signal failed');
      return {
        kind: 'unavailable',
        text: 'Countersign could not deliver your decision; nothing was recorded. Try again.',
      };
    }
  }
  log.info({ approver: submission.approver, decision: d.decision, refusal }, 'slack decision');
  if (refusal) return { kind: 'refused', code: refusal, text: describeRefusal(refusal) };
  return confirm(deps, d, submission);
}

/**
 * No worker answered the state query (a restart, say). The signal is durable, so a rejection is sent anyway with what
 * is known without the request (the person the Slack id belongs to, no user-group attestation) and the workflow
 * decides when it runs again: a rejection can never make anything run. An approval is not sent blind, since without
 * the request Slack cannot rule out self-approval through an e-mail alias: the approver is asked to try again.
 */
async function sendUnchecked(deps: SlackDecisionDeps, d: SlackDecision, log: Logger): Promise<SlackDecisionResult> {
  const unavailable = {
    kind: 'unavailable',
    text: 'Countersign cannot reach this request right now; nothing was recorded. Try again shortly.',
  } as const;
  try {
    if (d.decision !== 'reject' || !(await deps.gateway.isOpen(d.requestId))) return unavailable;
    const approver = deps.directory.approverIdOf(d.slackUser) ?? `slack:${d.slackUser}`;
    await deps.gateway.submitDecision(d.requestId, submissionOf(d, approver, []));
  } catch (err) {
    log.warn({ err: message(err) }, 'decision not delivered');
    return unavailable;
  }
  log.info({ decision: d.decision }, 'slack decision sent unchecked');
  return { kind: 'sent', text: 'Your decision was sent; the message will update once Countersign has recorded it.' };
}

function submissionOf(d: SlackDecision, approver: string, usergroups: string[]): DecisionSubmission {
  return {
    approver,
    decision: d.decision,
    channel: 'slack',
    paramsHash: d.paramsHash,
    at: new Date().toISOString(),
    ...(d.reason ? { reason: d.reason } : {}),
    context: {
      slackUser: d.slackUser,
      ...(d.slackTeam ? { slackTeam: d.slackTeam } : {}),
      ...(d.messageTs ? { messageTs: d.messageTs } : {}),
      ...(d.channel ? { slackChannel: d.channel } : {}),
    },
    ...(usergroups.length ? { usergroups } : {}),
  };
}

/** Waits (briefly) for the workflow to record the decision and reports what it decided. */
async function confirm(
  deps: SlackDecisionDeps,
  d: SlackDecision,
  submission: DecisionSubmission,
): Promise<SlackDecisionResult> {
  const deadline = Date.now() + (deps.confirmTimeoutMs ?? 3_000);
  const mine = (x: { approver: string; at: string }) => x.approver === submission.approver && x.at === submission.at;
  for (;;) {
    // A query that fails now (the worker restarting) is simply asked again until the deadline.
    const state = await deps.gateway.state(d.requestId).catch(() => undefined);
    if (state) {
      const refused = state.refused.find(mine);
      if (refused) return { kind: 'refused', code: refused.refusal, text: describeRefusal(refused.refusal) };
      if ([...state.approvals, ...state.rejections].some(mine)) {
        const text =
          d.decision === 'approve'
            ? `Your approval of ${state.action} is recorded (${progressText(state, deps.config.people)}).`
            : `You rejected ${state.action}; the request is ${state.status}.`;
        return { kind: 'recorded', text, state };
      }
    }
    if (Date.now() > deadline) {
      return {
        kind: 'sent',
        text: 'Your decision was sent; the message will update once Countersign has recorded it.',
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
