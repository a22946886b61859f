// A connector worker in its own process, so a test can kill -9 it mid-call. Reads its setup from the environment
// (test-only variables, set by the test that spawns it) and prints "ready" once polling.
import { NativeConnection, Worker } from '@temporalio/worker';
import { createConnectorActivities } from '../../activities/connectors';
import { openDatabase } from '../../src/db/database';
import { createExecutionLedger } from '../../src/ledger';
import { createLogger } from '../../src/logger';
import { createDataConverter, EncryptionCodec } from '../../src/temporal/codec';
import { createMasterKeyring, parseMasterKey } from '../../src/vault';
import { testConfig } from './config';

const env = process.env;
const address = env.CS_TEST_TEMPORAL_ADDRESS ?? '';
const taskQueue = env.CS_TEST_TASK_QUEUE ?? '';
const sqliteFile = env.CS_TEST_SQLITE_FILE ?? '';
const config = testConfig({
  targetHost: env.CS_TEST_TARGET_HOST ?? '',
  idempotency: env.CS_TEST_IDEMPOTENCY === 'none' ? 'none' : 'key',
});
const logger = createLogger({ level: 'warn' });
// The same payload key as the test's client and control worker, or the sealed inputs could not be read.
const payloadKey = env.CS_TEST_PAYLOAD_KEY;
const dataConverter = createDataConverter(
  payloadKey ? new EncryptionCodec(createMasterKeyring(parseMasterKey(payloadKey, 'CS_TEST_PAYLOAD_KEY'))) : undefined,
);
const database = await openDatabase({ sqliteFile });
const connection = await NativeConnection.connect({ address });
const worker = await Worker.create({
  connection,
  namespace: 'default',
  taskQueue,
  dataConverter,
  activities: createConnectorActivities({ config, logger, ledger: createExecutionLedger(database.db) }),
});
process.stdout.write('ready\n');
await worker.run();
