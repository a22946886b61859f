// How dev mode reads the config file: the example config's calls to the billing stand-in (127.0.0.1:8090) follow
// COUNTERSIGN_BILLING_PORT, so a second instance on the same machine moves the stand-in and its calls together. Applied
// while the config is loaded, once: compiling a config again (parameter schemas, policy) costs start-up time.
import type { Settings } from '../config/settings';

/** The port the example config's billing URLs name (127.0.0.1:8090); COUNTERSIGN_BILLING_PORT moves it in dev. */
export const BILLING_DEFAULT_PORT = 8090;
const BILLING_DEFAULT_HOST = `127.0.0.1:${BILLING_DEFAULT_PORT}`;

/** The loopback host:port the billing stand-in listens on in this process's dev mode. */
export function billingStandInHost(settings: Settings): string {
  return `127.0.0.1:${settings.COUNTERSIGN_BILLING_PORT}`;
}

/** The config text transform of dev mode; undefined when the stand-in keeps its default port. */
export function devConfigTransform(settings: Settings): ((text: string) => string) | undefined {
  const host = billingStandInHost(settings);
  return host === BILLING_DEFAULT_HOST ? undefined : (text) => text.replaceAll(BILLING_DEFAULT_HOST, host);
}
