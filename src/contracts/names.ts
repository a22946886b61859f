// Names shared by the API, the worker and operators. Workflow-safe.
import { defineSearchAttributeKey } from '@temporalio/common';

export { CONTROL_TASK_QUEUE, connectorTaskQueue } from './task-queues';

export const WORKFLOW_TYPE = 'actionRequestWorkflow';

/**
 * The generation new requests start as (ActionRequestInput.generation). A new generation folds the patches of the one
 * before into its code: workers must run it before any API starts requests with it (see docs/operations.md).
 */
export const WORKFLOW_GENERATION = 3;

/** The memo key new-generation workflows keep a pending request's per-group progress under (RequirementProgress[]). */
export const PROGRESS_MEMO_KEY = 'requirements';

/** Search attributes: ids and enums only, they are stored unencrypted. */
export const SEARCH_ATTRIBUTES = {
  agent: defineSearchAttributeKey('CsAgent', 'KEYWORD'),
  action: defineSearchAttributeKey('CsAction', 'KEYWORD'),
  status: defineSearchAttributeKey('CsStatus', 'KEYWORD'),
  risk: defineSearchAttributeKey('CsRisk', 'KEYWORD'),
  policy: defineSearchAttributeKey('CsPolicy', 'KEYWORD'),
  approvers: defineSearchAttributeKey('CsApprovers', 'KEYWORD_LIST'),
} as const;

/** `--search-attribute` values for the Temporal CLI dev server and the operator namespace setup. */
export const SEARCH_ATTRIBUTE_DECLARATIONS: readonly string[] = [
  'CsAgent=Keyword',
  'CsAction=Keyword',
  'CsStatus=Keyword',
  'CsRisk=Keyword',
  'CsPolicy=Keyword',
  'CsApprovers=KeywordList',
];

/** The path of a URL template (`/v1/payments/{paymentId}/refunds`): placeholders kept, values never filled in. */
export function templatePathOf(template: string): string {
  const match = /^[a-z]+:\/\/[^/]*(\/[^?#]*)?/i.exec(template);
  return match?.[1] ?? '/';
}
