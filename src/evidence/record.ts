// One evidence record per request: who, what, when, where, why, outcome and receipt id, built from what the workflow
// history holds. Pure: the same recorded request always gives the same record (exports of a range are reproducible).
import type { ActionCatalog } from '../catalog';
import type { ActionTarget, PolicyEffect, RefusalCode, RequestStatus } from '../contracts/types';
import { redactParams } from '../../slack/blocks/params';
import type { RecordedRequest } from '../temporal/adapter';

/** A decision someone made (or tried to make) on the request. */
export interface EvidenceDecision {
  approver: string;
  decision: 'approve' | 'reject';
  channel: string;
  at: string;
  reason?: string;
}

export interface EvidenceRecord {
  requestId: string;
  /** The request's status; `terminated` or `open` when Temporal closed or still runs the workflow without a result. */
  status: RequestStatus | 'terminated' | 'open';
  who: {
    agent: string;
    owner: string;
    onBehalfOf?: string;
    /** Accepted decisions, approvals and rejections, in order. */
    approvers: EvidenceDecision[];
    /** Attempts to decide that the workflow refused, with why. */
    refusedAttempts: (EvidenceDecision & { refusal: RefusalCode })[];
    cancelledBy?: string;
  };
  what: {
    action: string;
    risk: string;
    paramsHash: string;
    /** The parameters with every value the action's schema marks secret withheld. */
    params: unknown;
  };
  when: { submittedAt: string; decidedAt?: string; closedAt?: string };
  where: { target?: ActionTarget; connector: string };
  why: {
    reason: string;
    effect: PolicyEffect;
    evaluatedEffect: PolicyEffect;
    mode: string;
    matchedRules: string[];
    policyVersion: string;
    denyReason?: string;
    signals?: string[];
  };
  outcome: { status: string; ok?: boolean; httpStatus?: number; summary?: string; attempts?: number };
  /** The approval receipt presented downstream on the successful call, when there was one. */
  receiptId?: string;
}

/** Builds the record of one request. */
export function buildEvidenceRecord(recorded: RecordedRequest, catalog?: ActionCatalog): EvidenceRecord {
  const { input, state } = recorded;
  const status: EvidenceRecord['status'] = state
    ? recorded.workflowStatus === 'TERMINATED'
      ? 'terminated'
      : state.status
    : recorded.workflowStatus === 'RUNNING'
      ? 'open'
      : recorded.workflowStatus === 'TERMINATED'
        ? 'terminated'
        : 'open';
  const decisions = [...(state?.approvals ?? []), ...(state?.rejections ?? [])]
    .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt))
    .map(toDecision);
  const lastDecision = decisions.at(-1)?.at;
  const schema = catalog?.get(input.action)?.params;
  const outcome = state?.outcome;
  return {
    requestId: input.requestId,
    status,
    who: {
      agent: input.agent.id,
      owner: input.agent.owner,
      ...(input.onBehalfOf ? { onBehalfOf: input.onBehalfOf } : {}),
      approvers: decisions,
      refusedAttempts: (state?.refused ?? []).map((r) => ({ ...toDecision(r), refusal: r.refusal })),
      ...(state?.cancellation ? { cancelledBy: state.cancellation.by } : {}),
    },
    what: {
      action: input.action,
      risk: input.risk,
      paramsHash: input.paramsHash,
      // Without the action's schema nothing can be told apart as safe to show: every value is withheld.
      params: redactParams(input.params, schema ?? { type: 'object', additionalProperties: false }),
    },
    when: {
      submittedAt: input.submittedAt,
      ...(lastDecision ? { decidedAt: lastDecision } : {}),
      ...(recorded.closedAt ? { closedAt: recorded.closedAt } : {}),
    },
    where: { ...(input.target ? { target: input.target } : {}), connector: input.connector.name },
    why: {
      reason: input.reason,
      effect: input.decision.effect,
      evaluatedEffect: input.decision.evaluatedEffect,
      mode: input.decision.mode,
      matchedRules: input.decision.rules,
      policyVersion: input.decision.policyVersion,
      ...(input.decision.reason && input.decision.evaluatedEffect === 'deny'
        ? { denyReason: input.decision.reason }
        : {}),
      ...(input.decision.signals ? { signals: input.decision.signals.raised } : {}),
    },
    outcome: {
      status,
      ...(outcome ? { ok: outcome.ok, summary: outcome.summary } : {}),
      ...(outcome?.status !== undefined ? { httpStatus: outcome.status } : {}),
      ...(outcome?.attempts !== undefined ? { attempts: outcome.attempts } : {}),
    },
    ...(outcome?.receiptId ? { receiptId: outcome.receiptId } : {}),
  };
}

function toDecision(d: {
  approver: string;
  decision: 'approve' | 'reject';
  channel: string;
  receivedAt: string;
  reason?: string;
}): EvidenceDecision {
  return {
    approver: d.approver,
    decision: d.decision,
    channel: d.channel,
    at: d.receivedAt,
    ...(d.reason ? { reason: d.reason } : {}),
  };
}
