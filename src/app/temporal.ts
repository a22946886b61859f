// Reaching Temporal: connecting to the endpoint that ./temporal-endpoint.ts starts or names.
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { closeClient, connectClient, eagerStartClient, type Client } from '../temporal/adapter';

export { startOrConnectTemporal, type TemporalEndpoint } from './temporal-endpoint';

/** The SDK clients of one process. */
export interface TemporalConnections {
  client: Client;
  /** For workers; undefined in the API process. */
  native?: NativeConnection;
  /** A client over `native` for eager starts (only where a control worker runs on it: dev mode). */
  eagerStarter?: Client;
  close(): Promise<void>;
}

/** Connects the client (and, for workers, the native connection) to `address`. */
export async function connectTemporal(options: {
  address: string;
  namespace: string;
  forWorkers: boolean;
  /** The payload codec's converter, for the client (workers take it at creation). */
  dataConverter?: DataConverter;
  /** The tracing client interceptors, when tracing is on. */
  clientInterceptors?: WorkflowClientInterceptor[];
}): Promise<TemporalConnections> {
  const client = await connectClient({
    address: options.address,
    namespace: options.namespace,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    ...(options.clientInterceptors ? { interceptors: options.clientInterceptors } : {}),
  });
  const native = options.forWorkers ? await NativeConnection.connect({ address: options.address }) : undefined;
  return {
    client,
    native,
    ...(native
      ? {
          eagerStarter: eagerStartClient(native, {
            namespace: options.namespace,
            ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
            ...(options.clientInterceptors ? { interceptors: options.clientInterceptors } : {}),
          }),
        }
      : {}),
    async close() {
      await native?.close();
      await closeClient(client);
    },
  };
}

/** The worker connection that a `forWorkers` connect always opens. */
export function requireNative(native: NativeConnection | undefined): NativeConnection {
  if (!native) throw new Error('no worker connection: connect with forWorkers');
  return native;
}
