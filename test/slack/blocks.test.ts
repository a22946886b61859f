// The Block Kit builders are pure: hostile agent text must come out inert and every payload within Block Kit limits.
import { describe, expect, it } from 'vitest';
import { buildApprovalMessage, LIMITS } from '../../slack/blocks/approval-message';
import { buildAppHome } from '../../slack/blocks/app-home';
import { ACTION_IDS } from '../../slack/blocks/ids';
import { redactParams, WITHHELD } from '../../slack/blocks/params';
import { buildRejectModal } from '../../slack/blocks/reject-modal';
import { createInertRenderer, escapeSlack, truncate } from '../../slack/blocks/text';
import type { ActionRequestState } from '../../src/contracts/types';

const people = {
  alice: { name: 'Alice', slack: 'U0ALICE01' },
  bob: { name: 'Bob', slack: 'U0BOB0001' },
  carol: { name: 'Carol', slack: 'U0CAROL01' },
};

const HOSTILE = [
  '<!channel> <!here> <!everyone> <@U0ALICE01> <#C0GENERAL|general> <!subteam^S0ADMINS>',
  '<https://evil.example/login|Click to verify> https://evil.example/raw',
  '*bold* _italic_ ~strike~ `code` ```block``` > quote',
  '&lt;!channel&gt; &amp; entities',
  'Refund to \u202Eexe.doc\u202C and zero\u200Bwidth and tag\u{E0041}s',
].join('\n');

function state(overrides: Partial<ActionRequestState> = {}): ActionRequestState {
  return {
    requestId: 'req_0123456789abcdef0123456789abcdef',
    status: 'pending_approval',
    agent: { id: 'support-bot', owner: 'carol' },
    action: 'payments.refund',
    risk: 'high',
    paramsHash: `sha256:${'b'.repeat(64)}`,
    reason: HOSTILE,
    onBehalfOf: '<@U0BOB0001> bob@example.com',
    target: { system: 'billing *prod*', environment: '<!channel>', resource: 'cus_123' },
    submittedAt: '2030-01-01T00:00:00.000Z',
    decision: {
      effect: 'require_approval',
      evaluatedEffect: 'require_approval',
      mode: 'enforce',
      rules: ['large-refunds'],
      policyVersion: 'p-0123456789abcdef',
      approvals: [
        {
          ruleId: 'large-refunds',
          group: 'finance',
          quorum: 2,
          members: ['alice', 'bob'],
          escalationMembers: [],
          expireAfterMs: 1000,
        },
      ],
    },
    expiresAt: '2030-01-02T00:00:00.000Z',
    eligibleApprovers: ['alice', 'bob'],
    requirements: [
      { ruleId: 'large-refunds', group: 'finance', quorum: 2, approvedBy: [], satisfied: false, escalated: false },
    ],
    approvals: [],
    rejections: [],
    refused: [],
    timeline: [],
    ...overrides,
  };
}

/** Every mrkdwn/plain text string in a payload. */
function texts(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => texts(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'text' && typeof v === 'string') out.push(v);
      else texts(v, out);
    }
  }
  return out;
}

/** Control sequences Slack would act on: mentions, links, dates and commands in angle brackets. */
function liveSequences(text: string): string[] {
  return [...text.matchAll(/<[^>]*>/g)].map((m) => m[0]);
}

function expectWithinLimits(blocks: Record<string, unknown>[]) {
  expect(blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
  for (const block of blocks) {
    if (block.type === 'section') {
      const text = (block.text as { text?: string } | undefined)?.text ?? '';
      expect(text.length).toBeLessThanOrEqual(LIMITS.sectionText);
      const fields = (block.fields as { text: string }[] | undefined) ?? [];
      expect(fields.length).toBeLessThanOrEqual(LIMITS.fields);
      for (const f of fields) expect(f.text.length).toBeLessThanOrEqual(LIMITS.fieldText);
    }
    if (block.type === 'header')
      expect((block.text as { text: string }).text.length).toBeLessThanOrEqual(LIMITS.headerText);
    if (block.type === 'context')
      expect((block.elements as unknown[]).length).toBeLessThanOrEqual(LIMITS.contextElements);
    if (block.type === 'actions') {
      for (const el of block.elements as { value?: string; text: { text: string } }[]) {
        expect(el.text.text.length).toBeLessThanOrEqual(LIMITS.buttonText);
        expect((el.value ?? '').length).toBeLessThanOrEqual(2000);
      }
    }
  }
}

describe('Block Kit builders', () => {
  it('when the agent writes mentions, links and markdown, then none of it can act and every character stays visible', () => {
    const message = buildApprovalMessage(
      state(),
      { paymentId: 'pay_1', amount: 2500, currency: 'USD', note: HOSTILE },
      { people },
    );
    const all = texts(message.blocks).join('\n');
    const live = liveSequences(all);
    // Only our own mentions (the owner) and the expiry date token may be live.
    expect(live.every((s) => s === '<@U0CAROL01>' || s.startsWith('<!date^'))).toBe(true);
    expect(all).toContain('&lt;!channel&gt;');
    expect(all).toContain('&lt;@U0ALICE01&gt;');
    expect(all).toContain('&lt;https://evil.example/login|Click to verify&gt;');
    expect(all).toContain('&amp;lt;!channel&amp;gt;');
    expect(all).toContain('ˋcodeˋ ˋˋˋblockˋˋˋ');
    // Agent text sits in code spans/blocks with verbatim on, so markdown and bare URLs do not render.
    const reasonBlock = message.blocks.find((b) => JSON.stringify(b).includes("The agent's reason")) as {
      text: { text: string; verbatim: boolean };
    };
    expect(reasonBlock.text.verbatim).toBe(true);
    // One code block, opened and closed by us: the agent's own backticks cannot close it early.
    expect(reasonBlock.text.text).toMatch(/^[^`]*\n```[^`]*```$/);
    expect(message.text).not.toContain('evil');
    expect(message.text).not.toContain('<');
  });

  it('when the agent hides characters (bidi overrides, zero-width, tags), then they are shown as markers and the message is flagged', () => {
    const message = buildApprovalMessage(state(), undefined, { people });
    const all = texts(message.blocks).join('\n');
    expect(all).toContain('⟦U+202E⟧');
    expect(all).toContain('⟦U+200B⟧');
    expect(all).toContain('⟦U+E0041⟧');
    expect(all).not.toMatch(/[\u202A-\u202E\u200B\u{E0000}-\u{E007F}]/u);
    expect(all).toContain('Hidden characters');
    const clean = buildApprovalMessage(
      state({ reason: 'Plain reason.', onBehalfOf: 'bob@example.com', target: { system: 'billing' } }),
      undefined,
      {
        people,
      },
    );
    expect(texts(clean.blocks).join('\n')).not.toContain('Hidden characters');
  });

  it('when the facts and the reason are both shown, then the facts come first and the reason is labelled as the agent’s words', () => {
    const message = buildApprovalMessage(
      state(),
      { amount: 2500, currency: 'USD' },
      { people, temporalUrl: 'http://localhost:8233/x' },
    );
    const order = message.blocks.map((b) => JSON.stringify(b));
    const facts = order.findIndex((b) => b.includes('*Agent*') && b.includes('*Amount*') && b.includes('*Target*'));
    const params = order.findIndex((b) => b.includes('*Parameters*'));
    const reason = order.findIndex((b) => b.includes("The agent's reason") && b.includes('its own words'));
    const context = order.findIndex(
      (b) => b.includes('req_0123456789abcdef') && b.includes('sha256:bbbbbbbbbbb') && b.includes('p-0123456789abcdef'),
    );
    expect(facts).toBeGreaterThan(0);
    expect(params).toBeGreaterThan(facts);
    expect(reason).toBeGreaterThan(params);
    expect(context).toBeGreaterThan(reason);
    expect(order[facts]).toContain('2,500 USD');
    expect(order[facts]).toContain('<!date^1893542400^');
  });

  it('when the agent sends 10,000-character texts, then every block stays within Block Kit limits', () => {
    const huge = '<@U0ALICE01> '.repeat(800) + 'x'.repeat(10_000);
    const message = buildApprovalMessage(
      state({
        reason: huge,
        onBehalfOf: huge,
        target: { system: huge, environment: huge, resource: huge },
        action: `a.${'b'.repeat(400)}`,
        rejections: [],
      }),
      { blob: huge, list: Array.from({ length: 500 }, () => huge), amount: 1, currency: huge },
      { people, actionDescription: huge, temporalUrl: 'http://localhost:8233/x' },
    );
    expectWithinLimits(message.blocks as unknown as Record<string, unknown>[]);
    expect(message.text.length).toBeLessThanOrEqual(LIMITS.fallbackText);
    expect(texts(message.blocks).join('\n')).toContain('…');
    const rejected = buildApprovalMessage(
      state({
        status: 'rejected',
        rejections: [
          {
            approver: 'bob',
            decision: 'reject',
            channel: 'slack',
            paramsHash: 'x',
            at: '',
            receivedAt: '',
            reason: huge,
          },
        ],
      }),
      undefined,
      { people },
    );
    expectWithinLimits(rejected.blocks as unknown as Record<string, unknown>[]);
  });

  it('when the request is pending, then Approve (with confirm) and Reject are offered; once it ends, only the Temporal link stays', () => {
    const pending = buildApprovalMessage(state(), undefined, { people, temporalUrl: 'http://ui/wf' });
    const actions = pending.blocks.find((b) => b.type === 'actions') as unknown as {
      elements: Record<string, unknown>[];
    };
    expect(actions.elements.map((e) => e.action_id)).toEqual([
      ACTION_IDS.approve,
      ACTION_IDS.reject,
      ACTION_IDS.openInTemporal,
    ]);
    expect(actions.elements[0]).toMatchObject({
      style: 'primary',
      confirm: { title: { text: 'Approve this request?' } },
    });
    expect(actions.elements[1]).toMatchObject({ style: 'danger' });
    const done = buildApprovalMessage(
      state({ status: 'succeeded', outcome: { ok: true, status: 200, summary: '<!channel> HTTP 200' }, approvals: [] }),
      undefined,
      { people, temporalUrl: 'http://ui/wf' },
    );
    const after = done.blocks.find((b) => b.type === 'actions') as unknown as { elements: Record<string, unknown>[] };
    expect(after.elements.map((e) => e.action_id)).toEqual([ACTION_IDS.openInTemporal]);
    expect(texts(done.blocks).join('\n')).toContain('&lt;!channel&gt; HTTP 200');
  });

  it('when progress is shown, then it reads "1 of 2 finance: @alice"', () => {
    const message = buildApprovalMessage(
      state({
        requirements: [
          {
            ruleId: 'large-refunds',
            group: 'finance',
            quorum: 2,
            approvedBy: ['alice'],
            satisfied: false,
            escalated: false,
          },
        ],
      }),
      undefined,
      { people },
    );
    expect(texts(message.blocks).join('\n')).toContain('1 of 2 finance: <@U0ALICE01>');
  });

  it('when the schema marks values secret (writeOnly, x-secret, nested, through $ref), then they are withheld', () => {
    const schema = {
      type: 'object',
      $defs: { token: { type: 'string', 'x-secret': true } },
      properties: {
        password: { type: 'string', writeOnly: true },
        nested: { type: 'object', properties: { apiKey: { $ref: '#/$defs/token' }, visible: { type: 'string' } } },
        list: { type: 'array', items: { type: 'object', properties: { pin: { type: 'string', 'x-secret': true } } } },
        elsewhere: { $ref: 'https://example.com/schema.json' },
      },
    };
    const redacted = redactParams(
      {
        password: 'hunter2',
        nested: { apiKey: 'sk_live_1', visible: 'ok' },
        list: [{ pin: '1234' }],
        elsewhere: 'x',
        extra: 'shown',
      },
      schema,
    );
    expect(redacted).toEqual({
      password: WITHHELD,
      nested: { apiKey: WITHHELD, visible: 'ok' },
      list: [{ pin: WITHHELD }],
      elsewhere: '[not shown: schema reference]',
      extra: 'shown',
    });
    const message = buildApprovalMessage(state(), { password: 'hunter2' }, { people, paramsSchema: schema });
    expect(JSON.stringify(message)).not.toContain('hunter2');
  });

  it('when the App Home and the reject modal are built, then they hold only inert text and stay within limits', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({
      state: state({ requestId: `req_${i}` }),
      temporalUrl: 'http://ui',
    }));
    const home = buildAppHome({ pending: many, recent: [], people, known: true, notice: '<!channel> notice' });
    expect(home.blocks.length).toBeLessThanOrEqual(100);
    const all = texts(home.blocks).join('\n');
    expect(liveSequences(all).every((s) => s.startsWith('<!date^') || s.startsWith('<@U0'))).toBe(true);
    expect(all).toContain('25 more');
    const modal = buildRejectModal({ r: 'req_1', h: `sha256:${'c'.repeat(64)}`, c: 'C0FIN', t: '1.000100' }, state());
    expect(modal.title.text.length).toBeLessThanOrEqual(24);
    expect(JSON.parse(modal.private_metadata ?? '{}')).toMatchObject({ r: 'req_1', c: 'C0FIN' });
    expect(JSON.stringify(modal)).not.toContain('evil');
  });

  it('when text is escaped or truncated, then entities and surrogate pairs are never split', () => {
    expect(escapeSlack('a&b<c>d')).toBe('a&amp;b&lt;c&gt;d');
    expect(truncate('😀😀😀', 5)).toBe('😀😀…');
    const inert = createInertRenderer();
    const out = inert.inline('<'.repeat(100), 20);
    expect(out.length).toBeLessThanOrEqual(20);
    expect(out).toMatch(/^`(&lt;)+…`$/);
    expect(inert.inline('', 10)).toBe('—');
    expect(inert.flagged).toBe(false);
  });
});
