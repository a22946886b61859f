// A decision made in Slack: identify the clicker, then one update to the workflow, which authorizes the decision,
// records the attempt (refused ones included) and answers with its verdict and the state after it. The clicker is
// identified from the request's fixed facts (slack/request-facts.ts), never from a read of its state: the update is
// the only Temporal call when this process has the facts, and a Describe (no worker) precedes it when it has not.
import { describeRefusal } from '../src/contracts/authorization';
import type { ActionRequestState, DecisionChoice, DecisionSubmission, RefusalCode } from '../src/contracts/types';
import type { CountersignConfig } from '../src/config/schema';
import { AppError } from '../src/errors';
import type { Logger } from '../src/logger';
import { progressText } from './blocks/approval-message';
import type { SlackDirectory, SlackIdentity } from './directory';
import type { RequestFacts } from './request-facts';
import type { SlackRequestGateway } from './requests';

export interface SlackDecisionDeps {
  config: CountersignConfig;
  logger: Logger;
  gateway: SlackRequestGateway;
  directory: SlackDirectory;
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
  | { kind: 'queued'; text: string }
  | { kind: 'unavailable'; text: string };

const QUEUED_TEXT =
  'Countersign’s worker is not answering right now, so your rejection is queued: it is kept by Temporal and recorded as soon as the worker runs again (nothing can execute meanwhile without a decision).';

/** Decides a request from Slack and returns the words for the clicker. */
export async function decideFromSlack(deps: SlackDecisionDeps, d: SlackDecision): Promise<SlackDecisionResult> {
  const log = deps.logger.child({ component: 'slack-decisions', requestId: d.requestId, slackUser: d.slackUser });
  let facts: RequestFacts | undefined;
  try {
    facts = await deps.gateway.facts(d.requestId);
  } catch (err) {
    log.warn({ err: message(err) }, 'request unavailable');
    return queueIfRejection(deps, d, log);
  }
  if (!facts) return { kind: 'unavailable', text: 'Countersign knows no such request.' };

  let identity: SlackIdentity;
  try {
    identity = await deps.directory.identify(d.slackUser, facts);
  } catch (err) {
    // Without Slack's answer we cannot rule out self-approval or confirm a user group: fail closed.
    log.warn({ err: message(err) }, 'cannot identify the Slack user');
    return {
      kind: 'unavailable',
      text: 'Countersign could not check who you are with Slack just now; nothing was recorded. Try again.',
    };
  }

  const submission = submissionOf(d, identity.approver, identity.usergroups);
  let result;
  try {
    result = await deps.gateway.decide(d.requestId, submission);
  } catch (err) {
    log.warn({ err: message(err) }, 'decision not delivered');
    if (err instanceof AppError && err.code === 'not_ready' && d.decision === 'reject') {
      return queueIfRejection(deps, d, log, identity.approver);
    }
    return {
      kind: 'unavailable',
      text:
        err instanceof AppError && err.code === 'not_ready'
          ? `Countersign could not confirm your decision: ${err.message}.`
          : 'Countersign could not deliver your decision; nothing was recorded. Try again.',
    };
  }
  if (!result) return { kind: 'refused', code: 'already_decided', text: describeRefusal('already_decided') };
  log.info({ approver: submission.approver, decision: d.decision, refusal: result.refusal }, 'slack decision');
  if (result.refusal) return { kind: 'refused', code: result.refusal, text: describeRefusal(result.refusal) };
  const text =
    d.decision === 'approve'
      ? `Your approval of ${result.state.action} is recorded (${progressText(result.state, deps.config.people)}).`
      : `You rejected ${result.state.action}; the request is ${result.state.status}.`;
  return { kind: 'recorded', text, state: result.state };
}

/**
 * No worker answered the update (a restart, say), or the request could not be looked up at all. A rejection is queued
 * durably as identified (or, without the request, as the person the Slack id belongs to, with no user-group
 * attestation) and the workflow decides when it runs again: a rejection can never make anything run. An approval is
 * never queued: without the request Slack cannot rule out self-approval through an e-mail alias, and an approval the
 * update could not confirm is reported as such.
 */
async function queueIfRejection(
  deps: SlackDecisionDeps,
  d: SlackDecision,
  log: Logger,
  approverId?: string,
): Promise<SlackDecisionResult> {
  const unavailable = {
    kind: 'unavailable',
    text: 'Countersign cannot reach this request right now; nothing was recorded. Try again shortly.',
  } as const;
  if (d.decision !== 'reject') return unavailable;
  try {
    const approver = approverId ?? deps.directory.approverIdOf(d.slackUser) ?? `slack:${d.slackUser}`;
    if (!(await deps.gateway.queueRejection(d.requestId, submissionOf(d, approver, [])))) {
      return { kind: 'refused', code: 'already_decided', text: describeRefusal('already_decided') };
    }
  } catch (err) {
    log.warn({ err: message(err) }, 'rejection not queued');
    return unavailable;
  }
  log.info({ decision: d.decision }, 'slack rejection queued');
  return { kind: 'queued', text: QUEUED_TEXT };
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

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
