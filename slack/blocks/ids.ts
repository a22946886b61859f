// Block Kit identifiers shared by the builders and the listeners; Slack sends them back with every interaction.

export const ACTION_IDS = {
  approve: 'approve_request',
  reject: 'reject_request',
  openInTemporal: 'open_in_temporal',
} as const;

export const VIEW_IDS = {
  rejectModal: 'reject_request_modal',
} as const;

export const REJECT_REASON = { blockId: 'reject_reason', actionId: 'reason_input' } as const;

/** Longest rejection reason the modal accepts. */
export const MAX_REASON_LENGTH = 2000;

/** What a decision button carries: the request and the params hash the approver was shown. */
export interface DecisionButtonValue {
  r: string;
  h: string;
}

/** Serialises a decision button's value (well under Slack's 2,000-character limit). */
export function encodeButtonValue(requestId: string, paramsHash: string): string {
  return JSON.stringify({ r: requestId, h: paramsHash } satisfies DecisionButtonValue);
}
