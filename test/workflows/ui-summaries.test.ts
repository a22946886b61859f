// What the Temporal UI shows for a request's events: every activity and timer carries a summary naming what it is for
// (ids, group names and URL templates only, never a parameter value), and the details are separate markdown lines.
import { readFileSync } from 'node:fs';
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { email, finalState, refund, submit } from './helpers';

let target: TargetServer;
let h: Harness;

beforeAll(async () => {
  process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_summaries_7d1e';
  target = await startTargetServer();
  h = await startHarness({
    config: testConfig({ targetHost: target.host, remindAfter: '1s', escalateAfter: '2s', expireAfter: '4s' }),
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
  await target?.close();
});

interface Summaries {
  activities: string[];
  timers: string[];
  details: string;
}

/** The summaries of the request's scheduled activities and started timers, and its static details, from its history. */
async function summariesOf(requestId: string): Promise<Summaries> {
  const history = await h.client.workflow.getHandle(requestId).fetchHistory();
  // Summaries are payloads like any other: sealed by the codec, read as the UI reads them through the codec endpoint.
  const text = async (payload: Parameters<typeof defaultPayloadConverter.fromPayload>[0] | null | undefined) => {
    if (!payload) return '';
    const [opened] = h.codec ? await h.codec.decode([payload]) : [payload];
    return defaultPayloadConverter.fromPayload<string>(opened ?? payload);
  };
  const out: Summaries = { activities: [], timers: [], details: '' };
  for (const event of history.events ?? []) {
    const summary = await text(event.userMetadata?.summary);
    if (event.activityTaskScheduledEventAttributes) out.activities.push(summary);
    if (event.timerStartedEventAttributes) out.timers.push(summary);
    if (event.workflowExecutionStartedEventAttributes) out.details = await text(event.userMetadata?.details);
  }
  return out;
}

describe('Temporal UI summaries', () => {
  it('when a request waits, is reminded, escalated and expires, then its notifications and timers are named', async () => {
    const { state } = await submit(h, email());
    expect((await finalState(h, state.requestId)).status).toBe('expired');
    const { activities, timers, details } = await summariesOf(state.requestId);
    expect(activities).toEqual(
      expect.arrayContaining([
        'approval request to communications',
        'reminder to communications',
        'escalation to security',
        'outcome notice',
      ]),
    );
    expect(
      activities.every((s) => s.length > 0),
      'every activity has a summary',
    ).toBe(true);
    expect(timers).toEqual(expect.arrayContaining(['reminder to communications', 'escalation to security', 'expiry']));
    expect(
      timers.every((s) => s.length > 0),
      'every timer has a summary',
    ).toBe(true);
    expect(JSON.stringify({ activities, timers })).not.toContain('customer@example.org');
    // One fact per paragraph: the UI's markdown would run single lines together.
    expect(details.split('\n\n').map((line) => line.split(':')[0])).toEqual(
      expect.arrayContaining(['**Action', '**Agent', '**Policy', '**Params hash']),
    );
  });

  it('when an allowed request executes, then the connector call is named by connector, method and URL template', async () => {
    const { state } = await submit(h, refund(10));
    expect((await finalState(h, state.requestId)).status).toBe('succeeded');
    const { activities } = await summariesOf(state.requestId);
    expect(activities).toContain('billing: POST /v1/payments/{paymentId}/refunds');
    expect(JSON.stringify(activities)).not.toContain('pay_abcd1234');
  });

  it('when the saved-view queries of docs/temporal-ui.md are run, then Temporal accepts every one', async () => {
    const doc = readFileSync(new URL('../../docs/temporal-ui.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Saved views'));
    const queries = [...section.matchAll(/^\| [^|]+ \| `([^`]+)`/gm)].map((m) => m[1]!.replace('<version>', 'v1'));
    expect(queries.length).toBeGreaterThanOrEqual(10);
    for (const query of queries) {
      await expect(h.client.workflow.count(query), query).resolves.toHaveProperty('count');
    }
  });
});
