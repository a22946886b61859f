// `countersign login` and `logout`: operator sign-in through the company's OpenID provider with the OAuth 2.0 device
// authorization grant (RFC 8628). The person opens the provider's page on any device, confirms the code and signs in
// there; the CLI keeps the resulting session (src/cli/session.ts) and the operator commands send its ID token, so
// decisions are attributed to the person the provider vouches for.
import type { Command } from 'commander';
import * as oidc from 'openid-client';
import type { Core } from '../app/core';
import { sessionFilePath, type Settings } from '../config/settings';
import { AppError } from '../errors';
import type { CliIo } from './output';
import { discoverProvider, removeSession, sessionFrom, writeSession } from './session';

export interface LoginCommandDeps {
  io: CliIo;
  settings: () => Settings;
  core: () => Promise<Core>;
}

/** Registers `login` and `logout`. */
export function registerLoginCommands(program: Command, deps: LoginCommandDeps): void {
  const { io } = deps;
  program
    .command('login')
    .description(
      "Sign in as an operator through the company's identity provider (device flow); operator commands then act as you.",
    )
    .option('--json', 'print the session summary as JSON (the tokens are never printed)')
    .action(async (opts: { json?: boolean }) => {
      const signIn = (await deps.core()).config.federation.operatorSignIn;
      if (!signIn) {
        throw new AppError('config_invalid', 'operator sign-in is not configured', {
          errors: [{ path: 'federation.operatorSignIn', message: 'set issuer and clientId of the OpenID provider' }],
        });
      }
      const file = sessionFilePath(deps.settings());
      const config = await discoverProvider(signIn);
      const device = await oidc.initiateDeviceAuthorization(config, { scope: signIn.scopes.join(' ') });
      // With --json, stdout is the result alone and the prompt goes to stderr.
      const prompt = (text: string) => (opts.json ? io.err(text) : io.out(text));
      prompt(
        `To sign in, open ${device.verification_uri_complete ?? device.verification_uri}\n` +
          `and confirm the code ${device.user_code} (valid for ${Math.round(device.expires_in / 60)} min).`,
      );
      let tokens;
      try {
        tokens = await oidc.pollDeviceAuthorizationGrant(config, device);
      } catch (cause) {
        const error = cause instanceof oidc.ResponseBodyError ? cause.error : undefined;
        throw new AppError('unauthorized', `sign-in did not complete${error ? ` (${error})` : ''}`, { cause });
      }
      const session = sessionFrom(signIn, tokens);
      writeSession(file, session);
      const summary = {
        issuer: session.issuer,
        subject: session.subject,
        ...(session.email ? { email: session.email } : {}),
        expiresAt: session.expiresAt,
        refreshable: Boolean(session.refreshToken),
        sessionFile: file,
      };
      io.out(
        opts.json
          ? JSON.stringify(summary, null, 2)
          : `Signed in as ${session.email ?? session.subject} at ${session.issuer}; session kept in ${file}.`,
      );
    });

  program
    .command('logout')
    .description('Forget the sign-in session of `countersign login`.')
    .action(() => {
      const file = sessionFilePath(deps.settings());
      io.out(removeSession(file) ? `Signed out; removed ${file}.` : 'Not signed in.');
    });
}
