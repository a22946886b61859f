// Policy replay: the recorded decisions of past requests decided again under another policy, from the inputs recorded
// with each decision (params, reason, target, agent, time, usage figures, signals), so a policy change can be judged
// against real traffic before it ships: what would have been allowed, held for people, or denied.
import type { ApprovalRequirement, PolicyDecision, PolicyEffect } from '../contracts/types';
import type { RecordedRequest } from '../temporal/adapter';
import { UsageSnapshot } from '../usage/budget';
import type { PolicyEngine, PolicyInput } from './engine';

/** How one request's decision changes. */
export interface ReplayChange {
  requestId: string;
  action: string;
  agent: string;
  submittedAt: string;
  /** `allow → require_approval`, or `approvers` when only the approvers or quorum differ. */
  kind: string;
  before: DecisionSummary;
  after: DecisionSummary;
}

export interface DecisionSummary {
  effect: PolicyEffect;
  rules: string[];
  /** `quorum of group` per requirement, sorted. */
  approvals: string[];
  policyVersion: string;
}

export interface ReplayReport {
  policyVersion: string;
  evaluated: number;
  unchanged: number;
  changed: ReplayChange[];
  /** Changes by kind. */
  counts: Record<string, number>;
  /** Requests decided before decisions recorded their inputs: replayed without usage figures and agent facts. */
  incompleteInputs: string[];
}

/** Re-decides every recorded request under `policy`. */
export function replayDecisions(recorded: readonly RecordedRequest[], policy: PolicyEngine): ReplayReport {
  const changed: ReplayChange[] = [];
  const counts: Record<string, number> = {};
  const incompleteInputs: string[] = [];
  for (const r of recorded) {
    const { input } = r;
    if (!input.decision.inputs) incompleteInputs.push(input.requestId);
    const { decision } = policy.evaluate(recordedPolicyInput(r));
    const before = summarize(input.decision);
    const after = summarize(decision);
    const kind = changeKind(before, after);
    if (!kind) continue;
    counts[kind] = (counts[kind] ?? 0) + 1;
    changed.push({
      requestId: input.requestId,
      action: input.action,
      agent: input.agent.id,
      submittedAt: input.submittedAt,
      kind,
      before,
      after,
    });
  }
  return {
    policyVersion: policy.version,
    evaluated: recorded.length,
    unchanged: recorded.length - changed.length,
    changed,
    counts,
    incompleteInputs,
  };
}

/** The policy input a recorded request was decided on. */
export function recordedPolicyInput({ input }: RecordedRequest): PolicyInput {
  const recorded = input.decision.inputs;
  const extra: Record<string, unknown> = {};
  if (recorded?.usage) extra.usage = new UsageSnapshot(new Map(Object.entries(recorded.usage)));
  if (input.decision.signals) extra.signals = input.decision.signals;
  return {
    action: input.action,
    params: input.params,
    agent: {
      id: input.agent.id,
      owner: input.agent.owner,
      ...(recorded?.agent.description !== undefined ? { description: recorded.agent.description } : {}),
      ...(recorded?.agent.allowedActions ? { allowedActions: recorded.agent.allowedActions } : {}),
    },
    request: {
      reason: input.reason,
      ...(input.onBehalfOf ? { onBehalfOf: input.onBehalfOf } : {}),
      ...(input.target ? { target: input.target } : {}),
      time: new Date(recorded?.time ?? input.submittedAt),
    },
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  };
}

function summarize(d: PolicyDecision): DecisionSummary {
  return {
    effect: d.effect,
    rules: [...d.rules],
    approvals: d.approvals.map(requirementText).sort(),
    policyVersion: d.policyVersion,
  };
}

function requirementText(a: ApprovalRequirement): string {
  return `${a.quorum} of ${a.group}`;
}

function changeKind(before: DecisionSummary, after: DecisionSummary): string | undefined {
  if (before.effect !== after.effect) return `${before.effect} → ${after.effect}`;
  if (before.approvals.join('\n') !== after.approvals.join('\n')) return 'approvers';
  return undefined;
}

/** The report for a person: the counts, then one line per changed request. */
export function formatReplayReport(report: ReplayReport): string {
  const lines = [
    `Replayed ${report.evaluated} request${report.evaluated === 1 ? '' : 's'} under policy ${report.policyVersion}: ` +
      `${report.changed.length} would change, ${report.unchanged} unchanged.`,
  ];
  for (const [kind, n] of Object.entries(report.counts).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${kind}: ${n}`);
  }
  if (report.incompleteInputs.length > 0) {
    lines.push(
      `  ${report.incompleteInputs.length} decided before decisions recorded their inputs (replayed without usage figures).`,
    );
  }
  for (const c of report.changed) {
    const show = (s: DecisionSummary) =>
      `${s.effect}${s.approvals.length ? ` (${s.approvals.join(', ')})` : ''} by ${s.rules.join(', ') || 'no rule'}`;
    lines.push(
      `${c.requestId}  ${c.submittedAt}  ${c.action}  ${c.agent}`,
      `    ${show(c.before)}  →  ${show(c.after)}`,
    );
  }
  return lines.join('\n');
}
