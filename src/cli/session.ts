// The operator's sign-in session: the ID token (and refresh token) `countersign login` obtained from the company's
// OpenID provider, kept in one file only its owner can read (mode 0600), refreshed when it is about to expire.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import type { OperatorSignInConfig } from '../config/schema';
import { AppError } from '../errors';

/** What the session file holds. */
export interface OperatorSession {
  issuer: string;
  clientId: string;
  idToken: string;
  refreshToken?: string;
  /** When the ID token expires (ISO time). */
  expiresAt: string;
  subject: string;
  email?: string;
}

/** An ID token this close to its expiry is refreshed before use. */
const REFRESH_MARGIN_MS = 60_000;

/** Reads the session file; undefined when there is none. */
export function readSession(file: string): OperatorSession | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<OperatorSession>;
  if (typeof parsed.idToken !== 'string' || typeof parsed.issuer !== 'string' || typeof parsed.clientId !== 'string') {
    throw new AppError('validation_failed', `the session file ${file} is not one \`countersign login\` wrote`, {
      errors: [{ path: file, message: 'run `countersign login` again' }],
    });
  }
  return parsed as OperatorSession;
}

/** Writes the session, readable by its owner only (the directory too, when it is created). */
export function writeSession(file: string, session: OperatorSession): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600 });
  // An existing file keeps its mode on write: tighten it.
  chmodSync(file, 0o600);
}

/** Removes the session file (logout); true when there was one. */
export function removeSession(file: string): boolean {
  const existed = readSession(file) !== undefined;
  rmSync(file, { force: true });
  return existed;
}

/** The provider's client configuration by discovery; plain HTTP only for a loopback issuer (tests, local IdPs). */
export async function discoverProvider(signIn: Pick<OperatorSignInConfig, 'issuer' | 'clientId'>) {
  const url = new URL(signIn.issuer);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  try {
    return await oidc.discovery(url, signIn.clientId, undefined, oidc.None(), {
      ...(loopback ? { execute: [oidc.allowInsecureRequests] } : {}),
      timeout: 10,
    });
  } catch (cause) {
    throw new AppError('not_ready', `cannot reach the identity provider ${signIn.issuer} (${describe(cause)})`, {
      cause,
    });
  }
}

/** The session from a token response. */
export function sessionFrom(
  signIn: Pick<OperatorSignInConfig, 'issuer' | 'clientId'>,
  tokens: { id_token?: string; refresh_token?: string },
  previous?: OperatorSession,
): OperatorSession {
  if (!tokens.id_token) {
    throw new AppError('unauthorized', 'the identity provider returned no ID token (is `openid` among the scopes?)');
  }
  const claims = decodeJwt(tokens.id_token);
  const refreshToken = tokens.refresh_token ?? previous?.refreshToken;
  return {
    issuer: signIn.issuer,
    clientId: signIn.clientId,
    idToken: tokens.id_token,
    ...(refreshToken ? { refreshToken } : {}),
    expiresAt: new Date((claims.exp ?? 0) * 1000).toISOString(),
    subject: String(claims.sub),
    ...(typeof claims.email === 'string' ? { email: claims.email } : {}),
  };
}

/**
 * The ID token of the session, refreshed (and the file rewritten) when it expires within a minute; throws with what
 * to do when it has expired and cannot be refreshed.
 */
export async function sessionToken(file: string, session: OperatorSession, now = new Date()): Promise<string> {
  if (Date.parse(session.expiresAt) - now.getTime() > REFRESH_MARGIN_MS) return session.idToken;
  const expired = () =>
    new AppError('unauthorized', 'your sign-in has expired', {
      errors: [{ path: file, message: 'run `countersign login` again' }],
    });
  if (!session.refreshToken) throw expired();
  const config = await discoverProvider(session);
  let tokens;
  try {
    tokens = await oidc.refreshTokenGrant(config, session.refreshToken);
  } catch (cause) {
    if (cause instanceof oidc.ResponseBodyError) throw expired();
    throw new AppError('not_ready', `cannot refresh the sign-in (${describe(cause)})`, { cause });
  }
  const refreshed = sessionFrom(session, tokens, session);
  writeSession(file, refreshed);
  return refreshed.idToken;
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause?.code;
  return cause ?? (err instanceof Error ? err.message : String(err));
}
