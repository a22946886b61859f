// The other export formats: CSV (one row per request, for spreadsheets) and OCSF API Activity (class 6003) events, for
// security data lakes. Both are projections of the same evidence records; only JSONL carries the hash chain.
import type { EvidenceRecord } from './record';

/** The formats `evidence export` writes. */
export const EVIDENCE_FORMATS = ['jsonl', 'csv', 'ocsf'] as const;
export type EvidenceFormat = (typeof EVIDENCE_FORMATS)[number];

/** The OCSF schema version the events follow (schema/ocsf/api_activity-1.8.0.schema.json is generated from it). */
export const OCSF_VERSION = '1.8.0';
const API_ACTIVITY_CLASS_UID = 6003;
const APPLICATION_CATEGORY_UID = 6;
/** activity_id 99 (Other): a governed action request is none of create, read, update or delete as such. */
const ACTIVITY_OTHER = 99;

const CSV_COLUMNS = [
  'request_id',
  'status',
  'agent',
  'owner',
  'on_behalf_of',
  'action',
  'risk',
  'params_hash',
  'params',
  'submitted_at',
  'decided_at',
  'closed_at',
  'target_system',
  'target_environment',
  'target_resource',
  'connector',
  'reason',
  'effect',
  'evaluated_effect',
  'mode',
  'matched_rules',
  'policy_version',
  'deny_reason',
  'signals',
  'approvers',
  'refused_attempts',
  'outcome_ok',
  'http_status',
  'outcome_summary',
  'receipt_id',
] as const;

/** CSV (RFC 4180) with a header row; lists are joined with `;`, decisions as `person:decision`. */
export function evidenceCsv(records: readonly EvidenceRecord[]): string {
  const rows = records.map((r) => {
    const row: Record<(typeof CSV_COLUMNS)[number], string> = {
      request_id: r.requestId,
      status: r.status,
      agent: r.who.agent,
      owner: r.who.owner,
      on_behalf_of: r.who.onBehalfOf ?? '',
      action: r.what.action,
      risk: r.what.risk,
      params_hash: r.what.paramsHash,
      params: JSON.stringify(r.what.params),
      submitted_at: r.when.submittedAt,
      decided_at: r.when.decidedAt ?? '',
      closed_at: r.when.closedAt ?? '',
      target_system: r.where.target?.system ?? '',
      target_environment: r.where.target?.environment ?? '',
      target_resource: r.where.target?.resource ?? '',
      connector: r.where.connector,
      reason: r.why.reason,
      effect: r.why.effect,
      evaluated_effect: r.why.evaluatedEffect,
      mode: r.why.mode,
      matched_rules: r.why.matchedRules.join(';'),
      policy_version: r.why.policyVersion,
      deny_reason: r.why.denyReason ?? '',
      signals: (r.why.signals ?? []).join(';'),
      approvers: r.who.approvers.map((d) => `${d.approver}:${d.decision}`).join(';'),
      refused_attempts: r.who.refusedAttempts.map((d) => `${d.approver}:${d.refusal}`).join(';'),
      outcome_ok: r.outcome.ok === undefined ? '' : String(r.outcome.ok),
      http_status: r.outcome.httpStatus === undefined ? '' : String(r.outcome.httpStatus),
      outcome_summary: r.outcome.summary ?? '',
      receipt_id: r.receiptId ?? '',
    };
    return CSV_COLUMNS.map((c) => csvCell(row[c])).join(',');
  });
  return `${[CSV_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`;
}

function csvCell(value: string): string {
  // A leading =, +, - or @ would run as a formula in a spreadsheet: agent-written text must stay text.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One OCSF API Activity event for a request. */
export function ocsfEvent(r: EvidenceRecord): Record<string, unknown> {
  const statusId = r.status === 'succeeded' ? 1 : r.status === 'open' ? 0 : 2;
  const severityId = r.status === 'failed' || r.status === 'terminated' ? 3 : r.status === 'denied' ? 2 : 1;
  const closed = r.when.closedAt ? Date.parse(r.when.closedAt) : undefined;
  const target = r.where.target;
  return {
    class_uid: API_ACTIVITY_CLASS_UID,
    class_name: 'API Activity',
    category_uid: APPLICATION_CATEGORY_UID,
    category_name: 'Application Activity',
    activity_id: ACTIVITY_OTHER,
    activity_name: 'Governed action request',
    type_uid: API_ACTIVITY_CLASS_UID * 100 + ACTIVITY_OTHER,
    type_name: 'API Activity: Other',
    severity_id: severityId,
    time: Date.parse(r.when.submittedAt),
    start_time: Date.parse(r.when.submittedAt),
    ...(closed !== undefined ? { end_time: closed } : {}),
    status_id: statusId,
    status: r.status,
    ...(r.outcome.summary ? { status_detail: r.outcome.summary } : {}),
    message: `${r.what.action} by ${r.who.agent}: ${r.why.effect}, ${r.status}`,
    metadata: {
      version: OCSF_VERSION,
      uid: r.requestId,
      correlation_uid: r.requestId,
      product: { name: 'Countersign', vendor_name: 'Countersign' },
      log_name: 'evidence',
    },
    actor: {
      app_name: r.who.agent,
      app_uid: r.who.agent,
      ...(r.who.onBehalfOf ? { user: { uid: r.who.onBehalfOf, name: r.who.onBehalfOf } } : {}),
      authorizations: [
        {
          decision: r.why.effect,
          policy: {
            uid: r.why.policyVersion,
            version: r.why.policyVersion,
            name: r.why.matchedRules.join(', ') || 'default deny',
            is_applied: r.why.mode === 'enforce',
          },
        },
        ...r.who.approvers.map((d) => ({
          decision: d.decision,
          policy: { name: `human approval by ${d.approver} via ${d.channel}` },
        })),
      ],
    },
    api: {
      operation: r.what.action,
      service: { name: r.where.connector },
      request: { uid: r.requestId, data: { params: r.what.params, params_hash: r.what.paramsHash } },
      ...(r.outcome.httpStatus !== undefined || r.outcome.summary
        ? {
            response: {
              ...(r.outcome.httpStatus !== undefined ? { code: r.outcome.httpStatus } : {}),
              ...(r.outcome.summary ? { message: r.outcome.summary } : {}),
            },
          }
        : {}),
    },
    src_endpoint: { name: 'countersign', svc_name: 'countersign' },
    ...(target?.system ? { dst_endpoint: { name: target.system, svc_name: target.system } } : {}),
    ...(target?.resource
      ? {
          resources: [
            {
              name: target.resource,
              ...(target.system ? { type: target.system } : {}),
              ...(target.environment ? { zone: target.environment } : {}),
            },
          ],
        }
      : {}),
    // The full record, so nothing the trail holds is lost in the mapping.
    unmapped: { countersign: r },
  };
}

/** OCSF events as JSON lines. */
export function evidenceOcsf(records: readonly EvidenceRecord[]): string {
  return records.map((r) => `${JSON.stringify(ocsfEvent(r))}\n`).join('');
}
