// The billing stand-in on its own (docker compose runs it next to the worker): `node dist/billing-service.js` in the
// image, `npx tsx examples/run-billing-service.ts` from a checkout. Its port is COUNTERSIGN_BILLING_PORT (8090).
import { loadSettings, readEnvironmentVariable } from '../src/config/settings';
import { createLogger } from '../src/logger';
import { BILLING_RECEIPT_JWKS_VARIABLE, BILLING_TOKEN_VARIABLE, startBillingService } from './billing-service';

const token = readEnvironmentVariable(BILLING_TOKEN_VARIABLE);
const jwks = readEnvironmentVariable(BILLING_RECEIPT_JWKS_VARIABLE);
const logger = createLogger({ name: 'billing-example' });
if (!token || !jwks) {
  logger.fatal(`${BILLING_TOKEN_VARIABLE} and ${BILLING_RECEIPT_JWKS_VARIABLE} must be set`);
  process.exit(1);
}
const port = loadSettings().COUNTERSIGN_BILLING_PORT;
const service = await startBillingService({
  token,
  logger,
  // The config calls it as http://127.0.0.1:<port>, so that is the audience its receipts name.
  receipts: { keys: { jwks: new URL(jwks) }, audience: `http://127.0.0.1:${port}` },
  port,
});
logger.info({ url: service.url }, 'billing stand-in listening');
const stop = () => void service.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
