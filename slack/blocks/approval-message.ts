// The approval message: facts first (action, agent, target, amount, approvals, expiry, parameters, hash), then the
// agent's reason labelled as its own words, then the decision buttons. Every agent-written string goes through the
// inert renderer, and every block stays within Block Kit's limits whatever the agent sent.
import type { types } from '@slack/bolt';
import type { NotifiedState } from '../../src/contracts/types';
import { ACTION_IDS, encodeButtonValue } from './ids';
import { redactParams } from './params';
import { mentionPerson, type PeopleDirectory } from './people';
import { createInertRenderer, escapeAndTruncate, truncate, type InertRenderer } from './text';

type KnownBlock = types.KnownBlock;

/** Block Kit limits the builders respect. */
export const LIMITS = {
  blocks: 50,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  headerText: 150,
  buttonText: 75,
  contextElements: 10,
  fallbackText: 3000,
} as const;

const PARAMS_PREVIEW_MAX = 2500;
const REASON_MAX = 2800;

/** What a message needs besides the request state; all of it comes from the config and settings. */
export interface MessageContext {
  people: PeopleDirectory;
  /** The action's description from the catalog (operator-written). */
  actionDescription?: string;
  /** The action's parameter JSON Schema, to withhold secret values. */
  paramsSchema?: unknown;
  /** Link to the request in the Temporal UI. */
  temporalUrl?: string;
}

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Builds the approval message for a request in any status; buttons only while it waits for a decision. */
export function buildApprovalMessage(
  state: NotifiedState,
  params: Record<string, unknown> | undefined,
  ctx: MessageContext,
): SlackMessage {
  const inert = createInertRenderer();
  const redacted = params ? redactParams(params, ctx.paramsSchema) : undefined;
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncate(`${headerPrefix(state)}: ${state.action}`, LIMITS.headerText),
        emoji: true,
      },
    },
  ];
  if (ctx.actionDescription) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: escapeAndTruncate(ctx.actionDescription, 1000) } });
  }
  blocks.push({ type: 'section', fields: factFields(state, redacted, ctx, inert) });
  blocks.push({
    type: 'section',
    text: {
      type: 'mrkdwn',
      verbatim: true,
      text: `*Parameters* (secret values withheld)\n${
        redacted === undefined
          ? '_Not shown here; the params hash below identifies them._'
          : inert.block(json(redacted), PARAMS_PREVIEW_MAX)
      }`,
    },
  });
  const reason = inert.block(state.reason, REASON_MAX);
  blocks.push({
    type: 'section',
    text: {
      type: 'mrkdwn',
      verbatim: true,
      text: `*The agent's reason* (its own words, not verified by Countersign)\n${reason}`,
    },
  });
  if (inert.flagged || hasHiddenInState(state, inert)) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: ':warning: *Hidden characters:* the agent’s text contains invisible or bidirectional Unicode, shown as ⟦U+…⟧. Read it character by character.',
        },
      ],
    });
  }
  blocks.push(contextBlock(state));
  blocks.push({
    type: 'section',
    text: { type: 'mrkdwn', verbatim: true, text: statusText(state, ctx.people, inert) },
  });
  const actions = actionButtons(state, ctx.temporalUrl);
  if (actions) blocks.push(actions);
  return { text: fallbackText(state), blocks };
}

/** The one-line status of a request, in mrkdwn (used by the message, App Home and the slash command). */
export function statusText(state: NotifiedState, people: PeopleDirectory, inert: InertRenderer): string {
  const approvedBy = names(
    state.approvals.map((a) => a.approver),
    people,
  );
  switch (state.status) {
    case 'pending_approval':
      return `:hourglass_flowing_sand: *Waiting for approval* — ${progressText(state, people)}`;
    case 'approved':
    case 'executing':
      return `:white_check_mark: *Approved* by ${approvedBy} — executing…`;
    case 'succeeded':
      return `:white_check_mark: *Approved* by ${approvedBy} · *Executed:* ${inert.inline(state.outcome?.summary ?? 'succeeded', 500)}`;
    case 'failed':
      return `:warning: *Approved* by ${approvedBy || '—'} · *Failed:* ${inert.inline(state.outcome?.summary ?? 'failed', 500)}`;
    case 'rejected': {
      const rejection = state.rejections[0];
      const who = rejection ? mentionPerson(rejection.approver, people) : 'an approver';
      return `:x: *Rejected* by ${who}: ${inert.inline(rejection?.reason ?? 'no reason given', 600)}`;
    }
    case 'expired':
      return `:hourglass: *Expired* without a decision${state.expiresAt ? ` (${slackDate(state.expiresAt)})` : ''}.`;
    case 'terminated':
      return ':octagonal_sign: *Terminated* in Temporal; nothing further runs for this request.';
    case 'cancelled': {
      const c = state.cancellation;
      return `:no_entry_sign: *Cancelled* by ${inert.inline(c?.by ?? 'the agent', 120)}${c?.reason ? `: ${inert.inline(c.reason, 600)}` : ''}`;
    }
    case 'denied':
      return ':no_entry: *Denied* by policy.';
  }
}

/** "1 of 2 finance: @alice" for each requirement. */
export function progressText(state: NotifiedState, people: PeopleDirectory): string {
  if (state.requirements.length === 0) return 'no approval required';
  return state.requirements
    .map((r) => {
      const who = r.approvedBy.length > 0 ? `: ${names(r.approvedBy, people)}` : '';
      return `${r.approvedBy.length} of ${r.quorum} ${escapeAndTruncate(r.group, 64)}${r.escalated ? ' (escalated)' : ''}${who}`;
    })
    .join('; ');
}

/** Approve (with a confirm dialog) and Reject while pending; always the link to the Temporal UI. */
export function actionButtons(state: NotifiedState, temporalUrl: string | undefined): types.ActionsBlock | undefined {
  const elements: types.ActionsBlockElement[] = [];
  const value = encodeButtonValue(state.requestId, state.paramsHash);
  if (state.status === 'pending_approval') {
    elements.push(
      {
        type: 'button',
        action_id: ACTION_IDS.approve,
        style: 'primary',
        text: { type: 'plain_text', text: 'Approve' },
        value,
        confirm: {
          title: { type: 'plain_text', text: 'Approve this request?' },
          text: {
            type: 'mrkdwn',
            text: truncate(
              `You approve ${escapeAndTruncate(state.action, 64)} with params ${shortHash(state.paramsHash)}. It runs once every required approval is in.`,
              300,
            ),
          },
          confirm: { type: 'plain_text', text: 'Approve' },
          deny: { type: 'plain_text', text: 'Cancel' },
        },
      },
      {
        type: 'button',
        action_id: ACTION_IDS.reject,
        style: 'danger',
        text: { type: 'plain_text', text: 'Reject…' },
        value,
      },
    );
  }
  if (temporalUrl) {
    elements.push({
      type: 'button',
      action_id: ACTION_IDS.openInTemporal,
      text: { type: 'plain_text', text: 'Open in Temporal' },
      url: temporalUrl,
    });
  }
  if (elements.length === 0) return undefined;
  return { type: 'actions', block_id: `cs_decide:${truncate(state.requestId, 200)}`, elements };
}

/** Request id, short params hash and policy version. */
export function contextBlock(state: NotifiedState): types.ContextBlock {
  return {
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `Request \`${escapeAndTruncate(state.requestId, 100)}\` · params ${shortHash(state.paramsHash)} · policy \`${escapeAndTruncate(state.decision.policyVersion, 64)}\``,
      },
    ],
  };
}

/** `sha256:1a2b3c4d5e6f` in a code span. */
export function shortHash(hash: string): string {
  return `\`${escapeAndTruncate(hash.slice(0, 19), 40)}\``;
}

/** A Slack date token: each reader sees their own time zone; the fallback is the ISO time. */
export function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return escapeAndTruncate(iso, 40);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} at {time}|${new Date(ms).toISOString()}>`;
}

/** The notification text: ids and counts only, never agent-written text. */
export function fallbackText(state: NotifiedState): string {
  const progress = state.requirements.map((r) => `${r.approvedBy.length} of ${r.quorum} ${r.group}`).join(', ');
  return escapeAndTruncate(
    `${headerPrefix(state)}: ${state.action} requested by ${state.agent.id}${progress ? ` (${progress})` : ''} · ${state.requestId}`,
    LIMITS.fallbackText,
  );
}

function factFields(
  state: NotifiedState,
  redacted: unknown,
  ctx: MessageContext,
  inert: InertRenderer,
): types.MrkdwnElement[] {
  const field = (label: string, value: string): types.MrkdwnElement => ({
    type: 'mrkdwn',
    verbatim: true,
    text: truncate(`*${label}*\n${value}`, LIMITS.fieldText),
  });
  const target = state.target
    ? [state.target.system, state.target.environment, state.target.resource]
        .filter((p) => p !== undefined && p !== '')
        .join(' / ')
    : '';
  const fields = [
    field('Agent', `${inert.inline(state.agent.id, 100)} (owner ${mentionPerson(state.agent.owner, ctx.people)})`),
    field('On behalf of', state.onBehalfOf ? inert.inline(state.onBehalfOf, 300) : '—'),
    field('Target', target ? inert.inline(target, 600) : '—'),
    field('Risk', `${riskEmoji(state.risk)} ${state.risk}`),
    field('Required by', state.decision.rules.length ? inert.inline(state.decision.rules.join(', '), 500) : '—'),
    field('Approvals', progressText(state, ctx.people)),
    field('Expires', state.expiresAt ? slackDate(state.expiresAt) : '—'),
  ];
  const amount = amountOf(redacted);
  if (amount) fields.push(field('Amount', inert.inline(amount, 200)));
  return fields.slice(0, LIMITS.fields);
}

function amountOf(redacted: unknown): string | undefined {
  if (typeof redacted !== 'object' || redacted === null || Array.isArray(redacted)) return undefined;
  const { amount, currency } = redacted as Record<string, unknown>;
  if (typeof amount !== 'number') return undefined;
  return `${amount.toLocaleString('en-US', { maximumFractionDigits: 6 })}${typeof currency === 'string' ? ` ${currency}` : ''}`;
}

function hasHiddenInState(state: NotifiedState, inert: InertRenderer): boolean {
  // The cancellation and rejection reasons are rendered only in some statuses; the flag must not depend on that.
  for (const text of [state.cancellation?.reason, ...state.rejections.map((r) => r.reason)]) {
    if (text) inert.inline(text, 10);
  }
  return inert.flagged;
}

function headerPrefix(state: NotifiedState): string {
  switch (state.status) {
    case 'pending_approval':
      return 'Approval needed';
    case 'approved':
    case 'executing':
      return 'Approved';
    case 'succeeded':
      return 'Done';
    case 'failed':
      return 'Failed';
    case 'rejected':
      return 'Rejected';
    case 'expired':
      return 'Expired';
    case 'cancelled':
      return 'Cancelled';
    case 'denied':
      return 'Denied';
    case 'terminated':
      return 'Terminated';
  }
}

function riskEmoji(risk: NotifiedState['risk']): string {
  return {
    low: ':large_green_circle:',
    medium: ':large_yellow_circle:',
    high: ':large_orange_circle:',
    critical: ':red_circle:',
  }[risk];
}

function names(ids: readonly string[], people: PeopleDirectory): string {
  return [...new Set(ids)].map((id) => mentionPerson(id, people)).join(', ');
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'null';
}
