// Which callback URLs a completion webhook may be sent to. A callback is a request Countersign makes on an agent's
// behalf, so it must not become a way into the network Countersign runs in (SSRF): https to public addresses only,
// unless the operator allow-lists a host or opens private networks. Checked at submit (the URL as written) and again
// at every delivery (the addresses the name resolves to, so DNS cannot point a public name at an internal host).
import { BlockList, isIP } from 'node:net';
import type { WebhooksConfig } from '../config/schema';

/** Longest callback URL accepted. */
export const MAX_CALLBACK_URL_LENGTH = 2048;

export type CallbackPolicy = Pick<WebhooksConfig, 'allowedHosts' | 'allowPrivateNetworks'>;

// Private, loopback, link-local, shared, benchmark, multicast and reserved ranges: nothing a public receiver lives in.
const NON_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

/** True when an IP address is not a public unicast one (an IPv4-mapped IPv6 address counts as its IPv4 address). */
export function isNonPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return NON_PUBLIC.check(mapped[1], 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return NON_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The URL's hostname without IPv6 brackets. */
export function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/** True when the operator listed this URL's host (as `host` or `host:port`). */
export function isAllowListedHost(url: URL, policy: CallbackPolicy): boolean {
  const host = bareHostname(url);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return policy.allowedHosts.some((entry) => {
    const e = entry.toLowerCase().replace(/^\[(.*)\](:\d+)?$/, '$1$2');
    return e === host || e === `${host}:${port}` || e === url.host.toLowerCase();
  });
}

/** Why a callback URL is refused as written, or undefined when it may be used (its addresses are checked later). */
export function callbackUrlProblem(raw: string, policy: CallbackPolicy): string | undefined {
  if (raw.length > MAX_CALLBACK_URL_LENGTH) return `at most ${MAX_CALLBACK_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an https URL';
  if (url.username || url.password) return 'must not carry credentials; receivers verify the signature instead';
  const allowListed = isAllowListedHost(url, policy);
  if (url.protocol === 'http:' && !allowListed) return 'must be https (plain http only to allow-listed hosts)';
  const host = bareHostname(url);
  const nonPublic = isIP(host) !== 0 ? isNonPublicAddress(host) : host === 'localhost' || host.endsWith('.localhost');
  if (nonPublic && !allowListed && !policy.allowPrivateNetworks) {
    return 'must not point at a private, loopback or link-local address';
  }
  return undefined;
}

/** Why a resolved address may not be reached for this URL, or undefined when it may. */
export function addressProblem(url: URL, address: string, policy: CallbackPolicy): string | undefined {
  if (!isNonPublicAddress(address) || policy.allowPrivateNetworks || isAllowListedHost(url, policy)) return undefined;
  return `${bareHostname(url)} resolves to a non-public address`;
}

/** True when an agent has a signing secret, so a callback it names can be signed. */
export function hasWebhookSecret(config: Pick<WebhooksConfig, 'secret' | 'agentSecrets'>, agentId: string): boolean {
  return config.secret !== undefined || agentId in config.agentSecrets;
}
