// `countersign policy test <request.json>`: a dry run of one request through the same checks a submit makes (action
// known, allowed for the agent, parameters valid) and the policy engine, showing every candidate rule and why it did
// or did not match. Nothing is started or executed.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Core } from '../app/core';
import type { PolicyDecision, RequestSignals } from '../contracts/types';
import { excludedApprovers } from '../directory';
import { AppError, formatPath, type FieldIssue } from '../errors';
import type { RuleTrace } from '../policy/engine';
import { UsageSnapshot, usageKey } from '../usage/budget';
import { outsideWorkingHours } from '../usage/signals';

const requestFileSchema = z
  .object({
    agent: z.string().min(1).describe('Agent id.'),
    action: z.string().min(1),
    params: z.record(z.string(), z.unknown()).default({}),
    reason: z.string().default(''),
    onBehalfOf: z.string().optional(),
    target: z
      .object({ system: z.string().optional(), environment: z.string().optional(), resource: z.string().optional() })
      .strict()
      .optional(),
    time: z.iso.datetime({ offset: true }).optional().describe('Evaluate as if submitted at this time (default now).'),
    usage: z
      .record(z.string(), z.number())
      .default({})
      .describe(
        "The agent's usage figures by CEL call, e.g. \"sum('payments.refund', 'amount', '24h')\"; others are 0.",
      ),
    signals: z
      .object({
        firstUse: z.boolean().optional(),
        volumeAboveBaseline: z.boolean().optional(),
        outsideWorkingHours: z.boolean().optional(),
        recentVolume: z.number().optional(),
        baselineVolume: z.number().optional(),
      })
      .strict()
      .default({})
      .describe('Signal values to assume; outsideWorkingHours defaults to what `time` and the config say.'),
  })
  .strict();

export type PolicyTestRequest = z.output<typeof requestFileSchema>;

export interface PolicyTestReport {
  request: PolicyTestRequest;
  /** Why a submit would be refused before policy runs (unknown agent or action, not allowed, bad params). */
  refusals: FieldIssue[];
  decision?: PolicyDecision;
  trace: RuleTrace[];
  /** The usage figures and signals the rules saw (a dry run reads no history: figures not given are 0). */
  assumed?: { usage: Record<string, number>; signals: RequestSignals };
  excludedApprovers: string[];
}

/** Reads and validates a request file. */
export function readPolicyTestRequest(path: string): PolicyTestRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new AppError('bad_request', `cannot read ${path} as JSON`, {
      cause,
      errors: [{ path, message: cause instanceof Error ? cause.message : String(cause) }],
    });
  }
  const parsed = requestFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new AppError('bad_request', `${path}: not a policy test request`, {
      errors: parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
    });
  }
  return parsed.data;
}

/** Runs the request through the submit checks and the policy engine without starting anything. */
export async function dryRunPolicy(core: Core, request: PolicyTestRequest): Promise<PolicyTestReport> {
  const refusals: FieldIssue[] = [];
  const agent = await core.agents.get(request.agent);
  if (!agent) refusals.push({ path: 'agent', message: `unknown agent "${request.agent}"` });
  else if (!agent.enabled) refusals.push({ path: 'agent', message: `agent ${agent.id} is disabled` });
  if (!core.catalog.get(request.action)) {
    refusals.push({
      path: 'action',
      message: `unknown action "${request.action}"; known: ${core.catalog.names().join(', ')}`,
    });
  } else {
    if (agent && !agent.allowedActions.includes(request.action)) {
      refusals.push({ path: 'action', message: `not in ${agent.id}'s allowedActions (the API answers 403)` });
    }
    refusals.push(...core.catalog.validate(request.action, request.params));
  }
  if (!agent || !core.catalog.get(request.action)) return { request, refusals, trace: [], excludedApprovers: [] };

  const time = request.time ? new Date(request.time) : new Date();
  const usage = new UsageSnapshot(new Map(core.usagePlan.map((q) => [usageKey(q), request.usage[usageKey(q)] ?? 0])));
  const base = {
    firstUse: false,
    volumeAboveBaseline: false,
    outsideWorkingHours: outsideWorkingHours(time, core.config.signals.workingHours),
    recentVolume: 0,
    baselineVolume: 0,
    ...request.signals,
  };
  const raised = (['firstUse', 'volumeAboveBaseline', 'outsideWorkingHours'] as const).filter((k) => base[k]);
  const signals: RequestSignals = { ...base, raised };
  const { decision, trace } = core.policy.evaluate({
    action: request.action,
    params: request.params,
    agent: { id: agent.id, owner: agent.owner, description: agent.description, allowedActions: agent.allowedActions },
    request: {
      reason: request.reason,
      onBehalfOf: request.onBehalfOf,
      target: request.target,
      time,
    },
    extra: { usage, signals },
  });
  return {
    request,
    refusals,
    decision,
    trace,
    assumed: { usage: usage.toJSON(), signals },
    excludedApprovers: excludedApprovers(core.config, agent.owner, request.onBehalfOf),
  };
}

/** The report as text: effect first, then each rule with its verdict and reason. */
export function formatPolicyTestReport(report: PolicyTestReport): string {
  const { request, decision } = report;
  const lines = [
    `Request: ${request.action} by ${request.agent}${request.onBehalfOf ? ` on behalf of ${request.onBehalfOf}` : ''}`,
  ];
  if (report.refusals.length > 0) {
    lines.push('Refused before policy (the API would answer 4xx and start nothing):');
    for (const r of report.refusals) lines.push(`  ${r.path}: ${r.message}`);
  }
  if (!decision) return lines.join('\n');
  lines.push(
    decision.mode === 'shadow'
      ? `Effect: ${decision.effect} (shadow mode; the rules said ${decision.evaluatedEffect})`
      : `Effect: ${decision.effect}`,
    `Policy version: ${decision.policyVersion}`,
  );
  if (decision.reason) lines.push(`Reason: ${decision.reason}`);
  const figures = Object.entries(report.assumed?.usage ?? {});
  if (figures.length > 0) lines.push(`Usage assumed: ${figures.map(([call, v]) => `usage.${call} = ${v}`).join(', ')}`);
  if (report.assumed?.signals.raised.length) lines.push(`Signals raised: ${report.assumed.signals.raised.join(', ')}`);
  lines.push('Rules:');
  if (report.trace.length === 0) lines.push('  (no rule applies to this action: default deny)');
  for (const t of report.trace) {
    lines.push(`  ${t.matched ? 'matched    ' : 'not matched'}  ${t.ruleId} (${t.effect}): ${t.why}`);
  }
  for (const a of decision.approvals) {
    const eligible = a.members.filter((m) => !report.excludedApprovers.includes(m));
    lines.push(
      `Approval: ${a.quorum} of ${a.group} [${eligible.join(', ') || 'nobody eligible'}] (rule ${a.ruleId}, expires after ${formatMs(a.expireAfterMs)})`,
    );
  }
  if (decision.approvals.length > 0 && report.excludedApprovers.length > 0) {
    lines.push(`May not approve: ${report.excludedApprovers.join(', ')} (the agent's owner or the person it acts for)`);
  }
  return lines.join('\n');
}

function formatMs(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}
