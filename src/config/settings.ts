// Process settings from the environment: the only module that reads process.env. Parsed once at start-up.
import ms from 'ms';
import { z } from 'zod';
import { AppError, formatPath } from '../errors';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

/** A duration setting such as "90s" or "15m", in milliseconds, with a default and an optional upper bound. */
function duration(defaultValue: string, maxMs?: number) {
  return z
    .string()
    .default(defaultValue)
    .transform((value, ctx) => {
      const parsed = ms(value as ms.StringValue);
      if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed <= 0) {
        ctx.addIssue({ code: 'custom', message: `not a positive duration: "${value}"` });
        return z.NEVER;
      }
      if (maxMs !== undefined && parsed > maxMs) {
        ctx.addIssue({ code: 'custom', message: `at most ${ms(maxMs)}: "${value}"` });
        return z.NEVER;
      }
      return parsed;
    });
}

export const settingsSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080).describe('HTTP port of the API.'),
  HOST: z.string().default('127.0.0.1').describe('Interface the API listens on (0.0.0.0 in containers).'),
  COUNTERSIGN_PAYLOAD_ENCRYPTION: z
    .enum(['on', 'off'])
    .default('on')
    .describe(
      'Seal every Temporal payload (inputs, results, the request record) with AES-256-GCM under a key derived from the ' +
        'vault master key; `on` needs COUNTERSIGN_MASTER_KEY (dev mode makes one). Operators read histories through ' +
        'the API’s codec endpoint (/codec).',
    ),
  COUNTERSIGN_CODEC_CORS_ORIGIN: optionalString.describe(
    'Origin of the Temporal Web UI allowed to call the codec endpoint from the browser (dev: the dev server’s UI).',
  ),
  COUNTERSIGN_HTTP_HEADER_TIMEOUT: duration('10s', 120_000).describe(
    'Time a client has to send the request headers; slower ones get 408 and the connection closed.',
  ),
  COUNTERSIGN_HTTP_BODY_TIMEOUT: duration('30s', 600_000).describe(
    'Time a client has to send the whole request, body included; slower ones get 408 and the connection closed.',
  ),
  TEMPORAL_ADDRESS: optionalString.describe('Temporal frontend host:port; unset starts the embedded dev server.'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default').describe('Temporal namespace.'),
  TEMPORAL_UI_URL: optionalString.describe('Base URL of the Temporal Web UI, for links (dev: http://localhost:8233).'),
  TEMPORAL_CLI_PATH: optionalString.describe('Path to a Temporal CLI binary for the embedded dev server.'),
  TEMPORAL_DEV_PORT: z.coerce
    .number()
    .int()
    .min(1)
    .max(65535)
    .default(7233)
    .describe('gRPC port of the embedded dev server.'),
  TEMPORAL_UI_PORT: z.coerce
    .number()
    .int()
    .min(1)
    .max(65535)
    .default(8233)
    .describe('Web UI port of the embedded dev server.'),
  COUNTERSIGN_BILLING_PORT: z.coerce
    .number()
    .int()
    .min(1)
    .max(65535)
    .default(8090)
    .describe(
      'Port of the example billing stand-in (dev mode and examples/run-billing-service.ts); in dev the example config’s billing URLs follow it.',
    ),
  COUNTERSIGN_CACHE_DIR: optionalString.describe(
    'Where the Temporal CLI build is cached (default ~/.cache/countersign).',
  ),
  COUNTERSIGN_CONFIG: optionalString.describe('The YAML config file; unset loads examples/countersign.yaml.'),
  COUNTERSIGN_DATA_DIR: z.string().min(1).default('.countersign').describe('Data directory (dev server state).'),
  COUNTERSIGN_ADMIN_TOKEN: optionalString.describe(
    'Bootstrap token: creates the first operator over the API (`countersign operators create <person>`); opens nothing else.',
  ),
  COUNTERSIGN_OPERATOR_TOKEN: optionalString.describe(
    'The CLI’s personal operator token (`cs_op_…`); dev mode keeps one per person in the data directory instead.',
  ),
  COUNTERSIGN_SESSION_FILE: optionalString.describe(
    'Where `countersign login` keeps the operator’s sign-in session, mode 0600 (default: $XDG_CONFIG_HOME/countersign/session.json, else ~/.config/countersign/session.json).',
  ),
  COUNTERSIGN_PUBLIC_URL: optionalString.describe('Public base URL of the API, for links in messages.'),
  COUNTERSIGN_MASTER_KEY: optionalString.describe(
    'Vault master key: base64 of 32 random bytes (`openssl rand -base64 32`). Encrypts the data key of every secret.',
  ),
  COUNTERSIGN_MASTER_KEY_FILE: optionalString.describe(
    'File holding the vault master key (instead of COUNTERSIGN_MASTER_KEY).',
  ),
  COUNTERSIGN_MASTER_KEY_PREVIOUS: optionalString.describe(
    'Retired master keys (base64, comma-separated) still needed to read secrets until `secrets rewrap` has run.',
  ),
  COUNTERSIGN_RECEIPT_KEY: optionalString.describe(
    'Ed25519 private key (PKCS#8 PEM or private JWK) that signs approval receipts; unset: generated in the data directory.',
  ),
  COUNTERSIGN_RECEIPT_KEY_FILE: optionalString.describe(
    'File holding the receipt signing key (instead of COUNTERSIGN_RECEIPT_KEY).',
  ),
  COUNTERSIGN_RECEIPT_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(5)
    .max(60)
    .default(60)
    .describe('Lifetime of an approval receipt in seconds (at most 60).'),
  COUNTERSIGN_URL: optionalString.describe(
    'Base URL of the Countersign API for `countersign mcp` (default: http://127.0.0.1:$PORT).',
  ),
  COUNTERSIGN_CLIENT_ID: optionalString.describe('`countersign mcp`: the agent’s client id (its agent id).'),
  COUNTERSIGN_CLIENT_SECRET: optionalString.describe(
    '`countersign mcp`: the agent’s client secret, exchanged at /oauth/token for short-lived access tokens.',
  ),
  COUNTERSIGN_AGENT_TOKEN: optionalString.describe(
    '`countersign mcp`: a bearer credential instead of client credentials (an agent API key where they are allowed).',
  ),
  SLACK_BOT_TOKEN: optionalString.describe('Slack bot token (xoxb-…).'),
  SLACK_SIGNING_SECRET: optionalString.describe('Slack signing secret (HTTP mode).'),
  SLACK_APP_TOKEN: optionalString.describe('Slack app-level token (xapp-…): enables Socket Mode.'),
  SLACK_API_URL: optionalString.describe('Slack Web API base URL (proxies and tests).'),
  DATABASE_URL: optionalString.describe(
    'PostgreSQL connection URL (postgres://…); unset keeps the registry in SQLite at COUNTERSIGN_DATA_DIR/countersign.db.',
  ),
  COUNTERSIGN_TOKEN_TTL: duration('10m', 15 * 60_000).describe('Lifetime of agent access tokens (at most 15m).'),
  COUNTERSIGN_TOKEN_AUDIENCE: z.string().min(1).default('countersign').describe('`aud` of agent access tokens.'),
  COUNTERSIGN_TOKEN_ISSUER: optionalString.describe(
    '`iss` of agent access tokens; defaults to COUNTERSIGN_PUBLIC_URL or "countersign".',
  ),
  COUNTERSIGN_SIGNING_KEY_ROTATION: duration('30d').describe(
    'Age after which a new token signing key replaces the current one.',
  ),
  COUNTERSIGN_SECRET_ROTATION_OVERLAP: duration('24h').describe(
    'How long an agent’s previous client secret stays valid after rotation.',
  ),
  COUNTERSIGN_AGENT_CACHE: duration('2s', 5_000).describe('Longest age of a cached agent status (at most 5s).'),
  COUNTERSIGN_KILL_SWITCH_CACHE: duration('1s', 5_000).describe(
    'Longest age of the cached kill switches at submit (execution reads fresh).',
  ),
  COUNTERSIGN_RATE_LIMIT: z
    .string()
    .regex(/^\d+\/\d*(s|m|h)$/, 'a rate such as "60/m", "10/s" or "1000/h"')
    .default('60/m')
    .describe('Default per-agent request rate (token bucket, burst = the count); agents may carry their own.'),
  COUNTERSIGN_ALLOW_API_KEYS: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true'))
    .describe('Accept the config’s static agent API keys; unset: only in dev mode.'),
  CI: z
    .string()
    .optional()
    .transform((v) => v === 'true' || v === '1')
    .describe('Set by CI runners: tests that need PostgreSQL fail instead of skipping when it is unreachable.'),
  COUNTERSIGN_TOPOLOGY_TEMPORAL_OUTAGE_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(60_000)
    .describe('`npm run test:topology`: how long the Temporal server stays stopped in the outage case (ms).'),
  COUNTERSIGN_METRICS_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(9464)
    .describe('Port of the worker process’s /metrics (the API serves its metrics on PORT); 0 picks a free one.'),
  COUNTERSIGN_TEMPORAL_METRICS_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'host:port')
    .default('127.0.0.1:9465')
    .describe(
      'Where the Temporal SDK runtime’s Prometheus exporter binds in worker processes; its metrics are served through ' +
        'the process’s /metrics.',
    ),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString.describe(
    'OpenTelemetry: base URL of an OTLP/HTTP receiver (traces go to <url>/v1/traces). Set, tracing is on; unset, off.',
  ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalString.describe(
    'OpenTelemetry: the full OTLP/HTTP traces URL, instead of OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces (also turns tracing on).',
  ),
  OTEL_EXPORTER_OTLP_HEADERS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      const headers: Record<string, string> = {};
      for (const pair of v.split(',')) {
        const at = pair.indexOf('=');
        if (at <= 0) {
          ctx.addIssue({ code: 'custom', message: 'key=value pairs, comma-separated' });
          return z.NEVER;
        }
        headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
      }
      return headers;
    })
    .describe('OpenTelemetry: headers of every export request (`api-key=…,x-tenant=…`), for the tracing backend.'),
  OTEL_SERVICE_NAME: optionalString.describe(
    'OpenTelemetry `service.name` (default: countersign-api, countersign-worker, countersign-dev by process).',
  ),
  OTEL_SDK_DISABLED: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true')
    .describe('OpenTelemetry: `true` keeps tracing off even with an OTLP endpoint set.'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('Log level.'),
});

export type Settings = z.output<typeof settingsSchema>;

/** Parses settings from an environment (process.env by default); throws AppError listing every problem. */
export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    throw new AppError('config_invalid', 'invalid environment', {
      errors: parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
    });
  }
  return parsed.data;
}

/** The default cache directory: $XDG_CACHE_HOME/countersign or ~/.cache/countersign. */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_CACHE_HOME || `${env.HOME || env.USERPROFILE || '.'}/.cache`;
  return `${base}/countersign`;
}

/** The session file of `countersign login`: COUNTERSIGN_SESSION_FILE, else under $XDG_CONFIG_HOME or ~/.config. */
export function sessionFilePath(settings: Settings, env: Record<string, string | undefined> = process.env): string {
  if (settings.COUNTERSIGN_SESSION_FILE) return settings.COUNTERSIGN_SESSION_FILE;
  const base = env.XDG_CONFIG_HOME || `${env.HOME || env.USERPROFILE || '.'}/.config`;
  return `${base}/countersign/session.json`;
}

/** A copy of the process environment, for child processes (the Temporal CLI, go install). */
export function childEnvironment(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { ...process.env, ...extra };
}

/** The environment variables the config file may name for connector credentials, read only by the resolver. */
export function readEnvironmentVariable(name: string): string | undefined {
  return process.env[name];
}
