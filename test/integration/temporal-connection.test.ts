// A Temporal call whose retry is still pending when its connection closes: the SDK's retry interceptor fires its next
// attempt from a timer, and without the closed-connection guard that attempt throws "Channel has been shut down"
// from the timer, an uncaught exception that takes the process down during a clean shutdown.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { connectTemporal } from '../../src/temporal/adapter';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

describe('a Temporal connection closed while a call waits to retry', () => {
  let proxy: TcpProxy;
  beforeAll(async () => {
    const [host, port] = inject('temporalAddress').split(':');
    proxy = await startTcpProxy({ host: host ?? '127.0.0.1', port: Number(port) });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('when the retry fires after close, then the call fails as cancelled and nothing is thrown from the timer', async () => {
    let retries = 0;
    let closing: Promise<void> | undefined;
    // The retry delay closes the connection, so the scheduled attempt always finds it shut down.
    const retry = makeGrpcRetryInterceptor({
      ...defaultGrpcRetryOptions({ maxAttempts: 3 }),
      delayFunction: () => {
        retries += 1;
        closing = connection.close();
        return 50;
      },
    });
    const connection = await connectTemporal({
      address: `127.0.0.1:${proxy.port}`,
      connectTimeout: '5 seconds',
      interceptors: [retry],
    });
    await proxy.stop();
    try {
      await expect(connection.workflowService.getSystemInfo({})).rejects.toThrow(/connection closed/);
    } finally {
      await proxy.start();
    }
    await closing;
    expect(retries).toBe(1);
  });

  it('when a call is made after close, then it fails as cancelled instead of throwing from the retry interceptor', async () => {
    const connection = await connectTemporal({ address: `127.0.0.1:${proxy.port}`, connectTimeout: '5 seconds' });
    await connection.workflowService.getSystemInfo({});
    await connection.close();
    await expect(connection.workflowService.getSystemInfo({})).rejects.toThrow(/connection closed/);
  });
});
