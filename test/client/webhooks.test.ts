// The client's Standard Webhooks helper, checked against the reference implementation (the `standardwebhooks` package).
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  createWebhookHandler,
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
} from '../../packages/client/src/webhooks';

const SECRET = `whsec_${Buffer.from('countersign-test-webhook-secret-32b').toString('base64')}`;
const body = JSON.stringify({ type: 'request.succeeded', data: { requestId: 'req_1', status: 'succeeded' } });

describe('completion webhook signatures (Standard Webhooks)', () => {
  it('when the reference implementation signs a delivery, then verifyWebhook accepts it and returns the payload', async () => {
    const at = new Date();
    const signature = new Webhook(SECRET).sign('msg_1', at, body);
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    };
    await expect(verifyWebhook(SECRET, headers, body)).resolves.toMatchObject({ type: 'request.succeeded' });
  });

  it('when signWebhook signs a delivery, then the reference implementation verifies it', async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'webhook-id': 'msg_2',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': await signWebhook(SECRET, 'msg_2', timestamp, body),
    };
    expect(new Webhook(SECRET).verify(body, headers)).toMatchObject({ data: { requestId: 'req_1' } });
  });

  it('when the body, the id or the secret differ, or the timestamp is stale, then verification fails', async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'webhook-id': 'msg_3',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': await signWebhook(SECRET, 'msg_3', timestamp, body),
    };
    await expect(verifyWebhook(SECRET, headers, `${body} `)).rejects.toBeInstanceOf(WebhookVerificationError);
    await expect(verifyWebhook(SECRET, { ...headers, 'webhook-id': 'msg_4' }, body)).rejects.toThrow(/signature/);
    const other = `whsec_${Buffer.from('another-secret-entirely-000000000').toString('base64')}`;
    await expect(verifyWebhook(other, headers, body)).rejects.toThrow(/signature/);
    await expect(verifyWebhook(SECRET, headers, body, { now: () => (timestamp + 3600) * 1000 })).rejects.toThrow(
      /tolerance/,
    );
    const unsigned: Record<string, string> = { ...headers };
    delete unsigned['webhook-signature'];
    await expect(verifyWebhook(SECRET, unsigned, body)).rejects.toThrow(/missing webhook-signature/);
  });
});

describe('createWebhookHandler', () => {
  const signed = async (id: string, payload = body) => {
    const timestamp = Math.floor(Date.now() / 1000);
    return new Request('http://receiver.test/hooks', {
      method: 'POST',
      body: payload,
      headers: {
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': await signWebhook(SECRET, id, timestamp, payload),
      },
    });
  };

  it('when the same delivery arrives twice, then the event is handled once and both answers are 204', async () => {
    const handled: string[] = [];
    const handler = createWebhookHandler({ secret: SECRET, onEvent: (e, id) => void handled.push(`${id}:${e.type}`) });
    expect((await handler(await signed('msg_dup'))).status).toBe(204);
    expect((await handler(await signed('msg_dup'))).status).toBe(204);
    expect(handled).toEqual(['msg_dup:request.succeeded']);
  });

  it('when a delivery is unsigned or onEvent throws, then it answers 400 or 500 and the event counts as not handled', async () => {
    let fail = true;
    const handled: string[] = [];
    const handler = createWebhookHandler({
      secret: SECRET,
      onEvent: (_e, id) => {
        if (fail) throw new Error('database down');
        handled.push(id);
      },
    });
    const unsigned = new Request('http://receiver.test/hooks', { method: 'POST', body });
    expect((await handler(unsigned)).status).toBe(400);
    expect((await handler(await signed('msg_retry'))).status).toBe(500);
    fail = false;
    expect((await handler(await signed('msg_retry'))).status).toBe(204);
    expect(handled).toEqual(['msg_retry']);
  });
});
