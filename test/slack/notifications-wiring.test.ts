// The composition root's seam: Slack settings select the Slack notifier and the /slack/events handler; without them
// approvals go through the API and CLI; a bot token without a transport is a start-up error.
import { Client, type Connection } from '@temporalio/client';
import { connectTemporal } from '../../src/temporal/adapter';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNotifications } from '../../src/app/notifications';
import { loadSettings } from '../../src/config/settings';
import { AppError } from '../../src/errors';
import { createLogger } from '../../src/logger';
import { testConfig } from '../support/config';

describe('notifications wiring', () => {
  const config = testConfig({ targetHost: '127.0.0.1:9' });
  const logger = createLogger({ level: 'silent' });
  let connection: Connection;
  let temporal: Client;
  beforeAll(async () => {
    connection = await connectTemporal({ address: inject('temporalAddress') });
    temporal = new Client({ connection, namespace: 'default' });
  });
  afterAll(async () => {
    await connection?.close();
  });

  it('when no Slack token is set, then approvals are logged and no handler is mounted', async () => {
    const n = await createNotifications({ settings: loadSettings({}), config, logger, temporal });
    expect(n.channel).toBe('log');
    expect(n.slack).toBeUndefined();
    await n.close();
  });

  it('when Slack is configured for HTTP mode, then the API process gets the Slack notifier and a handler', async () => {
    const settings = loadSettings({
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: 'secret',
      SLACK_API_URL: 'http://127.0.0.1:9/api/',
    });
    const api = await createNotifications({ settings, config, logger, temporal });
    expect(api.channel).toBe('slack');
    expect(typeof api.slack?.handler).toBe('function');
    await api.close();
    const worker = await createNotifications({ settings, config, logger });
    expect(worker.channel).toBe('slack');
    expect(worker.slack).toBeUndefined();
    expect(typeof worker.notifier.notifyApprovers).toBe('function');
  });

  it('when a bot token comes with neither a signing secret nor an app token, then start-up fails with the reason', async () => {
    const settings = loadSettings({ SLACK_BOT_TOKEN: 'xoxb-test' });
    const error = await createNotifications({ settings, config, logger, temporal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('config_invalid');
    expect((error as AppError).errors[0]?.path).toBe('SLACK_SIGNING_SECRET');
  });
});
