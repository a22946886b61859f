// The modal that a Reject click opens: a reason is required, and the modal remembers which message it came from.
import type { types } from '@slack/bolt';
import type { ActionRequestState } from '../../src/contracts/types';
import { MAX_REASON_LENGTH, REJECT_REASON, VIEW_IDS } from './ids';
import { escapeAndTruncate } from './text';

/** Where the Reject click came from, carried through the modal in `private_metadata`. */
export interface RejectModalMetadata {
  /** Request id. */
  r: string;
  /** Params hash the approver was shown. */
  h: string;
  /** Channel and ts of the message clicked, when the click came from a message. */
  c?: string;
  t?: string;
}

/** Builds the reject modal for a request; only ids and the action name appear, no agent-written text. */
export function buildRejectModal(
  meta: RejectModalMetadata,
  state?: Pick<ActionRequestState, 'action' | 'agent'>,
): types.ModalView {
  const what = state
    ? `You are rejecting *${escapeAndTruncate(state.action, 80)}* requested by \`${escapeAndTruncate(state.agent.id, 64)}\`.`
    : 'You are rejecting this request.';
  return {
    type: 'modal',
    callback_id: VIEW_IDS.rejectModal,
    private_metadata: JSON.stringify(meta),
    title: { type: 'plain_text', text: 'Reject request' },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `${what}\nRequest \`${escapeAndTruncate(meta.r, 100)}\`` },
      },
      {
        type: 'input',
        block_id: REJECT_REASON.blockId,
        label: { type: 'plain_text', text: 'Reason (the agent and the other approvers see it)' },
        element: {
          type: 'plain_text_input',
          action_id: REJECT_REASON.actionId,
          multiline: true,
          min_length: 3,
          max_length: MAX_REASON_LENGTH,
        },
      },
    ],
  };
}
