// Helpers for the workflow suites: a notifier that records what people were told, and polling on the workflow state.
import { getStateQuery } from '../../src/contracts/messages';
import type {
  ActionRequestState,
  NotificationKind,
  NotifyApproversInput,
  NotifyOutcomeInput,
} from '../../src/contracts/types';
import type { AgentRecord } from '../../src/agents';
import type { Notifier } from '../../src/notifier';
import type { SubmitBody, SubmitResult } from '../../src/requests';
import type { Harness } from '../support/harness';

export interface RecordedNotification {
  requestId: string;
  kind: NotificationKind;
  group?: string;
  status: string;
}

export interface RecordingNotifier extends Notifier {
  approverNotifications: RecordedNotification[];
  outcomes: { requestId: string; status: string }[];
  kindsFor(requestId: string): NotificationKind[];
}

/** A notifier that keeps every call, so tests can assert reminders and escalations reached people. */
export function createRecordingNotifier(): RecordingNotifier {
  const approverNotifications: RecordedNotification[] = [];
  const outcomes: { requestId: string; status: string }[] = [];
  return {
    approverNotifications,
    outcomes,
    notifyApprovers(input: NotifyApproversInput) {
      approverNotifications.push({
        requestId: input.state.requestId,
        kind: input.kind,
        ...(input.group ? { group: input.group } : {}),
        status: input.state.status,
      });
      return Promise.resolve([]);
    },
    notifyOutcome(input: NotifyOutcomeInput) {
      outcomes.push({ requestId: input.state.requestId, status: input.state.status });
      return Promise.resolve();
    },
    kindsFor(requestId) {
      return approverNotifications.filter((n) => n.requestId === requestId).map((n) => n.kind);
    },
  };
}

/** Polls the workflow's state until `predicate` holds; fails with the last state seen after `timeoutMs`. */
export async function waitForState(
  h: Harness,
  requestId: string,
  predicate: (state: ActionRequestState) => boolean,
  timeoutMs = 20_000,
): Promise<ActionRequestState> {
  const deadline = Date.now() + timeoutMs;
  let last: ActionRequestState | undefined;
  for (;;) {
    last = await h.client.workflow.getHandle(requestId).query(getStateQuery);
    if (predicate(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`state of ${requestId} did not reach the expected condition: ${JSON.stringify(last, null, 1)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The workflow's final result (its terminal state). */
export async function finalState(h: Harness, requestId: string): Promise<ActionRequestState> {
  return (await h.client.workflow.getHandle(requestId).result()) as ActionRequestState;
}

/** The test config's agents by id. */
export async function agentOf(h: Harness, id: 'support-bot' | 'other-bot'): Promise<AgentRecord> {
  const agent = await h.agents.get(id);
  if (!agent) throw new Error(`no agent ${id} in the test config`);
  return agent;
}

/** Submits as the support bot. */
export async function submit(h: Harness, body: SubmitBody, idempotencyKey?: string): Promise<SubmitResult> {
  return h.service.submit(await agentOf(h, 'support-bot'), body, idempotencyKey);
}

export const refund = (amount: number, extra: Partial<SubmitBody> = {}): SubmitBody => ({
  action: 'payments.refund',
  params: { paymentId: 'pay_abcd1234', amount, currency: 'USD' },
  reason: `refund ${amount}`,
  ...extra,
});

export const email = (extra: Partial<SubmitBody> = {}): SubmitBody => ({
  action: 'email.send_external',
  params: { to: 'customer@example.org', subject: 'Your refund' },
  reason: 'tell the customer',
  ...extra,
});

export const OPERATOR = { kind: 'operator', id: 'ops' } as const;
