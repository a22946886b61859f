// Who may decide a request, and when a quorum is met. Pure and workflow-safe: the workflow is the authority and uses
// these functions; Slack and the API use the same ones to answer a clicker at once.
import type {
  ApprovalRequirement,
  DecisionSubmission,
  RefusalCode,
  RequestStatus,
  RequirementProgress,
} from './types';

export interface DecisionContext {
  status: RequestStatus;
  paramsHash: string;
  excludedApprovers: readonly string[];
  eligibleApprovers: readonly string[];
  /** Approvers whose decision was already accepted. */
  decidedBy: readonly string[];
  /** Slack user groups whose (attested) members may decide; absent means none. */
  eligibleUsergroups?: readonly string[];
}

/** Returns why a decision must be refused, or undefined when it counts. */
export function authorizeDecision(ctx: DecisionContext, submission: DecisionSubmission): RefusalCode | undefined {
  if (ctx.status !== 'pending_approval') return 'already_decided';
  if (ctx.excludedApprovers.includes(submission.approver)) return 'self_approval';
  if (!ctx.eligibleApprovers.includes(submission.approver) && !attestedMember(ctx, submission)) {
    return 'not_an_approver';
  }
  if (ctx.decidedBy.includes(submission.approver)) return 'duplicate';
  if (submission.paramsHash !== ctx.paramsHash) return 'params_mismatch';
  return undefined;
}

/** The people who may approve a requirement now. */
export function requirementMembers(requirement: ApprovalRequirement, escalated: boolean): string[] {
  return escalated ? unique([...requirement.members, ...requirement.escalationMembers]) : [...requirement.members];
}

/** The Slack user groups whose members may approve a requirement now. */
export function requirementUsergroups(requirement: ApprovalRequirement, escalated: boolean): string[] {
  const base = requirement.usergroups ?? [];
  return escalated ? unique([...base, ...(requirement.escalationUsergroups ?? [])]) : [...base];
}

/** Every Slack user group whose members may approve at least one requirement now. */
export function eligibleUsergroups(
  requirements: readonly ApprovalRequirement[],
  escalated: ReadonlySet<string>,
): string[] {
  return unique(requirements.flatMap((r) => requirementUsergroups(r, escalated.has(r.ruleId))));
}

/**
 * Progress of each requirement given the accepted approvals; one approval counts toward every group it belongs to,
 * by membership or by an attested Slack user group (`memberships`: approver → user groups attested with the decision).
 */
export function requirementProgress(
  requirements: readonly ApprovalRequirement[],
  approvers: readonly string[],
  escalated: ReadonlySet<string>,
  memberships: ReadonlyMap<string, readonly string[]> = new Map(),
): RequirementProgress[] {
  return requirements.map((r) => {
    const isEscalated = escalated.has(r.ruleId);
    const members = requirementMembers(r, isEscalated);
    const usergroups = requirementUsergroups(r, isEscalated);
    const approvedBy = unique(
      approvers.filter((a) => members.includes(a) || (memberships.get(a) ?? []).some((g) => usergroups.includes(g))),
    );
    return {
      ruleId: r.ruleId,
      group: r.group,
      quorum: r.quorum,
      approvedBy,
      satisfied: approvedBy.length >= r.quorum,
      escalated: isEscalated,
    };
  });
}

/** Everyone who may approve at least one requirement, minus the excluded. */
export function eligibleApprovers(
  requirements: readonly ApprovalRequirement[],
  escalated: ReadonlySet<string>,
  excluded: readonly string[],
): string[] {
  return unique(requirements.flatMap((r) => requirementMembers(r, escalated.has(r.ruleId)))).filter(
    (a) => !excluded.includes(a),
  );
}

/** Human wording of a refusal, for Slack ephemerals and API problems. */
export function describeRefusal(code: RefusalCode): string {
  switch (code) {
    case 'not_an_approver':
      return 'You are not in an approver group for this request.';
    case 'self_approval':
      return 'You cannot decide a request made by your own agent or on your behalf.';
    case 'duplicate':
      return 'Your decision on this request is already recorded.';
    case 'already_decided':
      return 'This request is no longer waiting for a decision.';
    case 'params_mismatch':
      return 'The parameters you saw are not the ones in the request.';
  }
}

function attestedMember(ctx: DecisionContext, submission: DecisionSubmission): boolean {
  const eligible = ctx.eligibleUsergroups ?? [];
  return (submission.usergroups ?? []).some((g) => eligible.includes(g));
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
