// How the CLI talks to a person: plain text on stdout, problems on stderr (./conventions.ts reports errors).
import type { ActionRequestResource, ActionRequestSummaryResource } from '../http/schemas';

/** Where CLI text goes; tests and the dev banner pass their own. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** stdout and stderr. */
export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** A fixed-width table. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** The request list as a table. */
export function formatRequestList(items: readonly ActionRequestSummaryResource[]): string {
  if (items.length === 0) return 'No requests.';
  return table(
    ['ID', 'STATUS', 'ACTION', 'AGENT', 'SUBMITTED'],
    items.map((r) => [
      r.id,
      r.outcome === 'unknown' ? `${r.status} (outcome unknown)` : r.status,
      r.action,
      r.agent,
      r.submittedAt.replace('T', ' ').slice(0, 19),
    ]),
  );
}

/** One request in full, for `requests show` and after a decision. */
export function formatRequest(r: ActionRequestResource): string {
  const d = r.decision;
  const lines = [
    `${r.id}  ${r.status}`,
    `  action      ${r.action} (risk ${r.risk})`,
    `  agent       ${r.agent}${r.onBehalfOf ? `, on behalf of ${r.onBehalfOf}` : ''}`,
    r.target
      ? `  target      ${[r.target.system, r.target.environment, r.target.resource].filter(Boolean).join(' / ')}`
      : '',
    `  reason      ${r.reason}`,
    `  params      ${r.paramsHash}`,
    `  policy      ${d.effect}${d.mode === 'shadow' ? ` (shadow; rules said ${d.evaluatedEffect})` : ''} by ${d.rules.join(', ') || 'no rule (default deny)'}, ${d.policyVersion}`,
    d.reason ? `  why         ${d.reason}` : '',
    ...d.approvals.map(
      (a) =>
        `  approvals   ${a.group}: ${a.approvedBy.length}/${a.quorum}${a.approvedBy.length ? ` (${a.approvedBy.join(', ')})` : ''}${a.satisfied ? ' ✓' : ''}${a.escalated ? ' escalated' : ''}`,
    ),
    r.expiresAt ? `  expires     ${r.expiresAt}` : '',
    r.cancellation
      ? `  cancelled   by ${r.cancellation.by}${r.cancellation.reason ? `: ${r.cancellation.reason}` : ''}`
      : '',
    r.outcome
      ? `  outcome     ${r.outcome.ok ? 'ok' : r.outcome.unknown ? 'unknown' : 'failed'}: ${r.outcome.summary}`
      : '',
    r.links.temporalUi ? `  history     ${r.links.temporalUi}` : '',
    '  timeline',
    ...r.timeline.map((t) => `    ${t.at}  ${t.event}${t.detail ? `: ${t.detail}` : ''}`),
  ];
  return lines.filter(Boolean).join('\n');
}
