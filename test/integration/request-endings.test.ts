// Every path ends in a recorded terminal state, read the same way by the API, CsStatus and the outcome notice: a
// cancellation from Temporal, a terminated workflow, an unexpected workflow error; reads and decisions with no worker;
// and the rejection's who, why and when in the agent's own read.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPE } from '../../src/contracts/names';
import type { ActionRequestInput } from '../../src/contracts/types';
import { TEST_AGENT_KEY, testConfig } from '../support/config';
import { startHarness, type Harness } from '../support/harness';
import { startTargetServer, type TargetServer } from '../support/target-server';
import { createRecordingNotifier, type RecordingNotifier } from '../workflows/helpers';
import {
  call,
  eventually,
  operatorToken,
  startApi,
  type ActionRequestResource,
  type Api,
  type Problem,
  type RequestList,
} from './http-support';

const largeRefund = (id: string) => ({
  action: 'payments.refund',
  params: { paymentId: `pay_${id}`, amount: 5000, currency: 'EUR' },
  reason: 'contract ended',
});

describe('requests that always end', () => {
  let target: TargetServer;
  let h: Harness;
  let api: Api;
  let notifier: RecordingNotifier;

  beforeAll(async () => {
    process.env.COUNTERSIGN_TEST_BILLING_TOKEN = 'tok_request_endings_7d1e';
    target = await startTargetServer();
    notifier = createRecordingNotifier();
    h = await startHarness({ config: testConfig({ targetHost: target.host }), identity: {}, notifier });
    api = await startApi(h);
  });
  afterAll(async () => {
    await api?.close();
    await h?.close();
    await target?.close();
  });

  const submit = (body: unknown) =>
    call<ActionRequestResource>(api, 'POST', '/v1/action-requests', {
      token: TEST_AGENT_KEY,
      body,
      headers: { 'idempotency-key': randomUUID() },
    });
  const read = (id: string, token = operatorToken(h, 'erin')) =>
    call<ActionRequestResource>(api, 'GET', `/v1/action-requests/${id}`, { token });
  const csStatus = async (id: string) =>
    (await h.client.workflow.getHandle(id).describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.status);

  it('when a pending request is cancelled from the Temporal client, then it ends cancelled by temporal with the reason everywhere', async () => {
    const { json } = await submit(largeRefund('tcancel01'));
    expect(json.status).toBe('pending_approval');
    await h.client.workflowService.requestCancelWorkflowExecution({
      namespace: h.namespace,
      workflowExecution: { workflowId: json.id },
      identity: 'ops@console',
      reason: 'stale request cleanup',
      requestId: randomUUID(),
    });

    const ended = await eventually(
      () => read(json.id),
      (r) => r.json.status === 'cancelled',
    );
    expect(ended.json.cancellation).toMatchObject({ by: 'temporal', reason: 'stale request cleanup' });
    // The workflow completes (with its record) rather than closing as CANCELED with none.
    const result = (await h.client.workflow.getHandle(json.id).result()) as { status: string };
    expect(result.status).toBe('cancelled');
    expect((await h.client.workflow.getHandle(json.id).describe()).status.name).toBe('COMPLETED');
    expect(await csStatus(json.id)).toBe('cancelled');
    await eventually(
      async () => notifier.outcomes.filter((o) => o.requestId === json.id),
      (o) => o.length === 1,
    );
    expect(notifier.outcomes.find((o) => o.requestId === json.id)?.status).toBe('cancelled');
    const pending = await call<RequestList>(api, 'GET', '/v1/action-requests?status=pending_approval', {
      token: operatorToken(h, 'erin'),
    });
    expect(pending.json.items.map((i) => i.id)).not.toContain(json.id);
    expect(target.callsFor(json.id)).toHaveLength(0);
  });

  it('when a workflow is terminated in Temporal, then the API reads Temporal’s status and answers terminated', async () => {
    const { json } = await submit(largeRefund('terminate01'));
    await h.client.workflow.getHandle(json.id).terminate('operator terminated it');

    const res = await read(json.id);
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('terminated');
    expect(res.json.timeline.at(-1)).toMatchObject({ event: 'terminated' });
    const agentView = await read(json.id, TEST_AGENT_KEY);
    expect(agentView.json.status).toBe('terminated');
    const listed = await eventually(
      () => call<RequestList>(api, 'GET', '/v1/action-requests', { token: operatorToken(h, 'erin') }),
      (l) => l.json.items.some((i) => i.id === json.id && i.status === 'terminated'),
    );
    expect(listed.status).toBe(200);
  });

  it('when the workflow meets an unexpected error, then the request ends failed with a bounded reason and the workflow completes', async () => {
    const { json } = await submit(largeRefund('unexpected01'));
    // A request whose approval requirement lists no expiry the workflow can wait on: started straight through the
    // client, as a buggy or hand-made start would.
    const recorded = (await h.client.workflow.getHandle(json.id).fetchHistory()).events?.[0]
      ?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    if (!recorded) throw new Error('no input recorded');
    // The history holds the payload as the codec sealed it; open it with the harness's key.
    const [input] = h.codec ? await h.codec.decode([recorded]) : [recorded];
    if (!input?.data) throw new Error('no input recorded');
    const broken = JSON.parse(Buffer.from(input.data).toString('utf8')) as ActionRequestInput;
    broken.requestId = `req_${randomUUID().replace(/-/g, '')}`;
    broken.decision.approvals = [];
    await h.client.workflow.start(WORKFLOW_TYPE, {
      workflowId: broken.requestId,
      taskQueue: h.taskQueues.control,
      args: [broken],
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.agent, value: 'support-bot' },
        { key: SEARCH_ATTRIBUTES.status, value: 'pending_approval' },
      ],
    });
    const final = (await h.client.workflow.getHandle(broken.requestId).result()) as {
      status: string;
      outcome?: { summary: string };
    };
    expect(final.status).toBe('failed');
    expect(final.outcome?.summary).toMatch(/^Not completed: /);
    expect(final.outcome?.summary.length ?? 0).toBeLessThanOrEqual(400);
    expect(await csStatus(broken.requestId)).toBe('failed');
    await h.client.workflow.getHandle(json.id).terminate('test cleanup');
  });

  it('when an approver rejects with a reason, then the agent’s own read shows who, why and when', async () => {
    const { json } = await submit(largeRefund('reason01'));
    const rejected = await call<ActionRequestResource>(api, 'POST', `/v1/action-requests/${json.id}/decisions`, {
      token: operatorToken(h, 'bob'),
      body: { decision: 'reject', reason: 'already refunded by hand' },
    });
    expect(rejected.status).toBe(200);
    expect(rejected.json.status).toBe('rejected');

    const seen = await read(json.id, TEST_AGENT_KEY);
    expect(seen.json.status).toBe('rejected');
    expect(seen.json.rejections).toEqual([
      { by: 'bob', reason: 'already refunded by hand', at: expect.any(String) as unknown, channel: 'api' },
    ]);
    expect(Date.parse(seen.json.rejections[0]?.at ?? '')).not.toBeNaN();
    const doc = await call<{ components: { schemas: Record<string, { properties: Record<string, unknown> }> } }>(
      api,
      'GET',
      '/openapi.json',
    );
    expect(doc.json.components.schemas.ActionRequest?.properties).toHaveProperty('rejections');
  });

  it('when no worker is running, then reads answer stale from Temporal, an approval is 503 and a rejection is queued', async () => {
    const { json } = await submit(largeRefund('noworker01'));
    await eventually(
      () => read(json.id),
      (r) => r.json.timeline.length > 0,
    );
    await h.stopWorkers();
    try {
      const stale = await read(json.id);
      expect(stale.status).toBe(200);
      expect(stale.json).toMatchObject({ id: json.id, status: 'pending_approval', stale: true });
      const agentStale = await read(json.id, TEST_AGENT_KEY);
      expect(agentStale.json).toMatchObject({ status: 'pending_approval', stale: true });

      const approve = await call<Problem>(api, 'POST', `/v1/action-requests/${json.id}/decisions`, {
        token: operatorToken(h, 'alice'),
        body: { decision: 'approve' },
      });
      expect(approve.status).toBe(503);
      expect(approve.json.code).toBe('not_ready');
      expect(approve.headers.get('retry-after')).toBe('5');

      const reject = await call<ActionRequestResource & { queued?: boolean }>(
        api,
        'POST',
        `/v1/action-requests/${json.id}/decisions`,
        { token: operatorToken(h, 'bob'), body: { decision: 'reject', reason: 'not during the freeze' } },
      );
      expect(reject.status).toBe(202);
      expect(reject.json.queued).toBe(true);

      const ready = await call<{ ready: boolean; checks: Record<string, string> }>(api, 'GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.json.checks.worker).toMatch(/no worker/);
    } finally {
      await h.startWorkers();
    }
    const rejected = await eventually(
      () => read(json.id),
      (r) => r.json.status === 'rejected',
      30_000,
    );
    expect(rejected.json.stale).toBeUndefined();
    expect(rejected.json.rejections).toEqual([expect.objectContaining({ by: 'bob', reason: 'not during the freeze' })]);
    expect(target.callsFor(json.id)).toHaveLength(0);
  });
});
