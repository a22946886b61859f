// A Slack test environment whose Slack app's Temporal calls are counted (by gRPC method), with Slack user groups on
// the finance and security approver groups.
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { Client, type Connection } from '@temporalio/client';
import { inject } from 'vitest';
import { connectTemporal } from '../../src/temporal/adapter';
import { createDataConverter } from '../../src/temporal/codec';
import { startSlackEnv, type SlackEnv, type SlackEnvOptions } from './slack-env';

export const FIN_USERGROUP = 'S0FINOPS2';
export const SEC_USERGROUP = 'S0SECOPS2';
/** In the finance user group only. */
export const ZED = 'U0ZED0002';
/** In the security user group only: security is where the e-mail rule escalates. */
export const YAN = 'U0YAN0002';

export interface TemporalCall {
  method: string;
  at: number;
}

/** An environment whose Slack app's Temporal calls are counted, with user groups on finance and security. */
export async function countedEnv(
  options: SlackEnvOptions,
): Promise<{ env: SlackEnv; calls: TemporalCall[]; close(): Promise<void> }> {
  const calls: TemporalCall[] = [];
  const counting: Interceptor = (o, nextCall) => {
    calls.push({ method: o.method_definition.path.split('/').at(-1) ?? '', at: Date.now() });
    return new InterceptingCall(nextCall(o));
  };
  const connection: Connection = await connectTemporal({
    address: inject('temporalAddress'),
    interceptors: [counting],
  });
  const env = await startSlackEnv({
    ...options,
    configure(config) {
      const finance = config.approvers.finance;
      const security = config.approvers.security;
      if (!finance || !security) throw new Error('test config changed: finance or security missing');
      finance.slackUsergroup = FIN_USERGROUP;
      security.slackUsergroup = SEC_USERGROUP;
    },
    slackTemporal: (h) => new Client({ connection, namespace: 'default', dataConverter: createDataConverter(h.codec) }),
  });
  env.stub.usergroups.set(FIN_USERGROUP, [ZED]);
  env.stub.usergroups.set(SEC_USERGROUP, [YAN]);
  return {
    env,
    calls,
    async close() {
      await env.close();
      await connection.close();
    },
  };
}
