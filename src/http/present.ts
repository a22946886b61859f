// What the API shows of a request. Parameters are the agent's own data and may be sensitive, so only their hash is
// shown; nothing here can carry a secret because the workflow state holds none.
import type { ActionRequestState } from '../contracts/types';
import type { RequestSummary } from '../requests';
import type { ActionRequestResource, ActionRequestSummaryResource } from './schemas';

/** Where links point: the API's public base URL (relative links without it) and the Temporal Web UI. */
export interface LinkOptions {
  publicUrl?: string;
  temporalUiUrl?: string;
  namespace: string;
}

/** The API resource for a request's full state. */
export function presentRequest(state: ActionRequestState, links?: LinkOptions): ActionRequestResource {
  const d = state.decision;
  return {
    id: state.requestId,
    status: state.status,
    action: state.action,
    agent: state.agent.id,
    risk: state.risk,
    paramsHash: state.paramsHash,
    reason: state.reason,
    ...(state.onBehalfOf ? { onBehalfOf: state.onBehalfOf } : {}),
    ...(state.target ? { target: state.target } : {}),
    submittedAt: state.submittedAt,
    decision: {
      effect: d.effect,
      evaluatedEffect: d.evaluatedEffect,
      mode: d.mode,
      rules: [...d.rules],
      policyVersion: d.policyVersion,
      ...(d.reason ? { reason: d.reason } : {}),
      approvals: state.requirements.map((r) => ({
        group: r.group,
        quorum: r.quorum,
        approvedBy: [...r.approvedBy],
        satisfied: r.satisfied,
        escalated: r.escalated,
      })),
    },
    ...(state.expiresAt && state.status === 'pending_approval' ? { expiresAt: state.expiresAt } : {}),
    rejections: state.rejections.map((r) => ({
      by: r.approver,
      ...(r.reason ? { reason: r.reason } : {}),
      at: r.receivedAt,
      channel: r.channel,
    })),
    ...(state.cancellation ? { cancellation: { ...state.cancellation } } : {}),
    ...(state.outcome
      ? {
          outcome: {
            ok: state.outcome.ok,
            ...(state.outcome.status !== undefined ? { status: state.outcome.status } : {}),
            summary: state.outcome.summary,
            ...(state.outcome.unknown ? { unknown: true } : {}),
          },
        }
      : {}),
    timeline: state.timeline.map((t) => ({ at: t.at, event: t.event, ...(t.detail ? { detail: t.detail } : {}) })),
    ...(state.stale ? { stale: true } : {}),
    links: requestLinks(state.requestId, links),
  };
}

/** The API resource for a list entry (from Temporal visibility). */
export function presentSummary(
  summary: RequestSummary,
  links?: LinkOptions,
  outcomeUnknown = false,
): ActionRequestSummaryResource {
  return {
    id: summary.id,
    status: summary.status,
    action: summary.action,
    agent: summary.agent,
    ...(summary.risk ? { risk: summary.risk } : {}),
    submittedAt: summary.submittedAt,
    ...(summary.closedAt ? { closedAt: summary.closedAt } : {}),
    ...(outcomeUnknown ? { outcome: 'unknown' as const } : {}),
    links: requestLinks(summary.id, links),
  };
}

/** The path of a request in this API. */
export function requestPath(id: string): string {
  return `/v1/action-requests/${encodeURIComponent(id)}`;
}

function requestLinks(id: string, links: LinkOptions | undefined): ActionRequestResource['links'] {
  const base = trimSlash(links?.publicUrl ?? '');
  const self = `${base}${requestPath(id)}`;
  return {
    self,
    cancel: `${self}/cancel`,
    ...(links?.temporalUiUrl
      ? {
          temporalUi: `${trimSlash(links.temporalUiUrl)}/namespaces/${encodeURIComponent(links.namespace)}/workflows/${encodeURIComponent(id)}`,
        }
      : {}),
  };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
