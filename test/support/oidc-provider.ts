// A real OpenID provider (panva's certified `oidc-provider`) on loopback, for the federation suites: client credentials
// with JWT access tokens for agents, the device authorization grant (RFC 8628) for `countersign login`, and key
// rotation and outages driven by the test. The end user's part of the device flow (entering the code, confirming,
// signing in) is done over the provider's own HTTP endpoints with a small cookie-keeping browser.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';

export interface TestAccount {
  email: string;
  emailVerified?: boolean;
}

export interface TestOidcProviderOptions {
  /** Agent clients (client credentials), by client id, with their secret and the scopes they may ask for. */
  agentClients?: Record<string, { secret: string; scope?: string }>;
  /** The public client of `countersign login`. */
  cliClientId?: string;
  /** People who can sign in, by account id (their `sub`). */
  accounts?: Record<string, TestAccount>;
  /** The `aud` of agents' JWT access tokens. */
  audience?: string;
}

export interface TestOidcProvider {
  issuer: string;
  jwksUri: string;
  /** The key ids the provider publishes now, signing key first. */
  kids(): string[];
  /** A client credentials access token (JWT) for an agent client. */
  agentToken(clientId: string, options?: { resource?: string }): Promise<string>;
  /** Replaces the signing keys: a new key signs, and the old ones stay published only when `keepOld`. */
  rotateKeys(options?: { keepOld?: boolean }): Promise<string>;
  /** The end user's part of a device flow: opens the verification URI, confirms the code and signs in as `account`. */
  approveDevice(verificationUriComplete: string, account: string): Promise<void>;
  /** Stops answering (connections refused) until `start` again, on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const RESOURCE = 'urn:countersign:api';
const AGENT_SCOPES = 'payments.refund customers.read email.send_external';

/** Starts the provider on 127.0.0.1 (a random port). */
export async function startOidcProvider(options: TestOidcProviderOptions = {}): Promise<TestOidcProvider> {
  const accounts = options.accounts ?? {};
  const audience = options.audience ?? 'countersign-test';
  let keys: JWK[] = [await newKey()];
  let handler: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
  let provider: Provider | undefined;
  let server: Server | undefined;
  let port = 0;

  const listen = async () => {
    server = createServer((req, res) => handler(req, res));
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
    port = (server.address() as AddressInfo).port;
  };
  await listen();
  const issuer = `http://127.0.0.1:${port}`;

  /** A fresh provider over the current keys; the server's handler is swapped, so the issuer and port stay. */
  const build = () => {
    const clients: ClientMetadata[] = Object.entries(options.agentClients ?? {}).map(([id, c]) => ({
      client_id: id,
      client_secret: c.secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      ...(c.scope ? { scope: c.scope } : {}),
    }));
    if (options.cliClientId) {
      clients.push({
        client_id: options.cliClientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        response_types: [],
        redirect_uris: [],
      });
    }
    const configuration: Configuration = {
      clients,
      jwks: { keys },
      cookies: { keys: ['test-cookie-key-1'] },
      clientDefaults: { id_token_signed_response_alg: 'ES256' },
      scopes: ['openid', 'email', 'offline_access', ...AGENT_SCOPES.split(' ')],
      claims: { openid: ['sub'], email: ['email', 'email_verified'] },
      conformIdTokenClaims: false,
      findAccount: (_ctx, id) => {
        const account = accounts[id];
        if (!account) return undefined;
        return {
          accountId: id,
          claims: () => ({ sub: id, email: account.email, email_verified: account.emailVerified ?? true }),
        };
      },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        deviceFlow: {
          enabled: true,
          userCodeConfirmSource: (ctx, form) => {
            ctx.body = `<!DOCTYPE html><html><body>${form}</body></html>`;
          },
          successSource: (ctx) => {
            ctx.body = '<!DOCTYPE html><html><body><p>Signed in: success</p></body></html>';
          },
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => RESOURCE,
          useGrantedResource: () => true,
          // The resource indicator picks the audience: the API's by default, the named resource otherwise.
          getResourceServerInfo: (_ctx, resource) => {
            return {
              scope: AGENT_SCOPES,
              audience: resource === RESOURCE ? audience : resource,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg: 'ES256' } },
            };
          },
        },
      },
      issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
      // Sign-in grants the CLI what it asked for: there is no consent screen to click through.
      loadExistingGrant: async (ctx) => {
        const clientId = ctx.oidc.client?.clientId ?? '';
        const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(clientId);
        if (grantId) return ctx.oidc.provider.Grant.find(grantId);
        const grant = new ctx.oidc.provider.Grant({ clientId, accountId: ctx.oidc.session?.accountId ?? '' });
        grant.addOIDCScope('openid email offline_access');
        await grant.save();
        return grant;
      },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      ttl: {
        AccessToken: 600,
        ClientCredentials: 600,
        IdToken: 600,
        DeviceCode: 600,
        RefreshToken: 3600,
        Session: 3600,
        Interaction: 600,
        Grant: 3600,
      },
    };
    const next = new Provider(issuer, configuration);
    const callback = next.callback();
    provider = next;
    handler = (req, res) => {
      const m = /^\/interaction\/([^/?]+)(?:\?(.*))?$/.exec(req.url ?? '');
      if (!m) {
        void callback(req, res);
        return;
      }
      // The sign-in page: the test's browser names the account to sign in as.
      const account = new URLSearchParams(m[2] ?? '').get('login');
      void (async () => {
        try {
          await next.interactionDetails(req, res);
          if (!account) {
            res.writeHead(200, { 'content-type': 'text/html' }).end('<p>sign in</p>');
            return;
          }
          await next.interactionFinished(
            req,
            res,
            { login: { accountId: account } },
            { mergeWithLastSubmission: false },
          );
        } catch (err) {
          res.writeHead(500).end(err instanceof Error ? err.message : String(err));
        }
      })();
    };
  };
  build();

  const stop = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    kids: () => keys.map((k) => k.kid ?? ''),
    async agentToken(clientId, tokenOptions = {}) {
      const client = options.agentClients?.[clientId];
      if (!client) throw new Error(`no agent client ${clientId}`);
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        resource: tokenOptions.resource ?? RESOURCE,
      });
      if (client.scope) form.set('scope', client.scope);
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${clientId}:${client.secret}`).toString('base64')}`,
        },
        body: form.toString(),
      });
      const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!res.ok || !body.access_token) throw new Error(`token endpoint: ${res.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async rotateKeys(rotation = {}) {
      const key = await newKey();
      keys = rotation.keepOld ? [key, ...keys] : [key];
      build();
      return key.kid ?? '';
    },
    async approveDevice(verificationUriComplete, account) {
      const browser = createBrowser();
      // The verification URI with the code auto-submits a form; the next page asks to confirm the code.
      const first = await browser.get(verificationUriComplete);
      const confirm = await browser.post(`${issuer}/device`, hiddenFields(first.text));
      const signIn = await browser.post(`${issuer}/device`, { ...hiddenFields(confirm.text), confirm: 'yes' });
      const interaction = signIn.location;
      if (!interaction?.includes('/interaction/')) {
        throw new Error(`expected the sign-in page, got ${signIn.status} ${signIn.text.slice(0, 300)}`);
      }
      let next: string | undefined = `${new URL(interaction, issuer).href}?login=${encodeURIComponent(account)}`;
      // Follow the provider back to its device resume endpoint and on to the success page.
      for (let hops = 0; next && hops < 10; hops += 1) {
        const page = await browser.get(next);
        next = page.location ? new URL(page.location, issuer).href : undefined;
        if (!next && page.status !== 200) throw new Error(`device sign-in failed: ${page.status} ${page.text}`);
        if (!next && !/success|signed in|sign-in/i.test(page.text)) {
          throw new Error(`device sign-in did not succeed: ${page.text.slice(0, 300)}`);
        }
      }
    },
    stop,
    start: listen,
    async close() {
      await stop();
      void provider;
    },
  };
}

async function newKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `k-${Math.random().toString(36).slice(2, 10)}`, alg: 'ES256', use: 'sig' };
}

/** Hidden inputs of the page's form. */
function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input[^>]*>/g)) {
    const tag = m[0];
    const name = /name="([^"]+)"/.exec(tag)?.[1];
    const value = /value="([^"]*)"/.exec(tag)?.[1];
    if (name && value !== undefined && /type="hidden"/.test(tag)) out[name] = value;
  }
  return out;
}

/** Fetch with a cookie jar and manual redirects. */
function createBrowser() {
  const jar = new Map<string, string>();
  const request = async (url: string, init: RequestInit) => {
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: {
        ...(init.headers as Record<string, string>),
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
      },
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair && eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return { status: res.status, location: res.headers.get('location') ?? undefined, text: await res.text() };
  };
  return {
    get: (url: string) => request(url, { method: 'GET' }),
    post: (url: string, form: Record<string, string>) =>
      request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      }),
  };
}
