// The identity half of the HTTP API. Public: the OAuth2 token endpoint and the JWKS documents that verifiers of access
// tokens and approval receipts fetch. Under /v1, for operators with a personal token: the agent registry and its
// credentials, kill switches, and operators. Every change is attributed to the token's owner.
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { JSONWebKeySet } from 'jose';
import { AppError } from '../errors';
import type { Identity } from '../identity';
import { parseKillScope, type CancelInScopeResult, type KillScope } from '../identity/kill-switch';
import { sameSecret } from '../identity/secrets';
import type { OperationProgress } from '../temporal/adapter';
import { bearerToken } from './auth';
import { callerOf, operatorActor, operatorOf } from './context';
import {
  agentListQuerySchema,
  agentPatchSchema,
  killSwitchLiftSchema,
  killSwitchListQuerySchema,
  killSwitchRequestSchema,
  newAgentSchema,
  newOperatorSchema,
  newOperatorTokenSchema,
  rotateCredentialsSchema,
  statusChangeSchema,
} from './identity-schemas';
import { parseOrThrow } from './schemas';

/** What the HTTP app needs of the identity services. */
export interface IdentityHttp {
  identity: Identity;
  /** COUNTERSIGN_ADMIN_TOKEN: creates the first operator, nothing else. */
  adminToken?: string;
  /** Starts cancelling the running requests in a kill switch's scope (one Temporal operation). */
  cancelInScope(
    scope: KillScope,
    input: { by: string; reason: string; switchId?: string },
  ): Promise<CancelInScopeResult>;
  /** Progress of such an operation; undefined when it is unknown. */
  cancelProgress?(operationId: string): Promise<OperationProgress | undefined>;
}

/** A route registration that labels metrics with the template (see createHttpApp). */
export type RouteRegistrar = (
  method: 'get' | 'post' | 'patch' | 'delete',
  path: string,
  handler: (req: Request, res: Response) => Promise<void>,
) => void;

const FORM_TYPE = 'application/x-www-form-urlencoded';
const TOKEN_BODY_LIMIT = 8 * 1024;

/** `POST /oauth/token`, `GET /.well-known/jwks.json` and `GET /.well-known/receipt-jwks.json`. */
export function createPublicIdentityRouter(deps: {
  identity?: IdentityHttp;
  receiptJwks?: () => JSONWebKeySet;
}): express.Router {
  const router = express.Router();
  const identity = deps.identity?.identity;
  if (identity) {
    const form = express.urlencoded({ extended: false, limit: TOKEN_BODY_LIMIT, type: FORM_TYPE });
    router.post('/oauth/token', form, async (req, res) => {
      res.locals.route = '/oauth/token';
      const hasBody = req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? '0') > 0;
      if (hasBody && !req.is(FORM_TYPE)) {
        // RFC 6749 §4.4.2: the request is form-encoded; anything else is a malformed request, answered the OAuth way.
        res
          .status(400)
          .set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' })
          .json({ error: 'invalid_request', error_description: `the body must be ${FORM_TYPE}` });
        return;
      }
      const result = await identity.tokens.tokenEndpoint({
        authorization: req.get('authorization'),
        form: (req.body ?? {}) as Record<string, unknown>,
      });
      res.status(result.status).set(result.headers).json(result.body);
    });
    router.get('/.well-known/jwks.json', async (_req, res) => {
      res.locals.route = '/.well-known/jwks.json';
      // Short: verifiers also refetch when they meet an unknown kid, so a rotation reaches them either way.
      res.set('Cache-Control', 'public, max-age=60').json(await identity.signingKeys.jwks());
    });
  }
  const receiptJwks = deps.receiptJwks;
  if (receiptJwks) {
    router.get('/.well-known/receipt-jwks.json', (_req, res) => {
      res.locals.route = '/.well-known/receipt-jwks.json';
      res.set('Cache-Control', 'public, max-age=60').json(receiptJwks());
    });
  }
  return router;
}

/**
 * `POST /v1/operators` with the bootstrap token: creates the first operator. Mounted before authentication, because
 * the bootstrap token proves no caller; any other credential falls through to the authenticated route.
 */
export function bootstrapOperatorHandler(deps: IdentityHttp, jsonBody: RequestHandler[]): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const presented = bearerToken(req.get('authorization'));
    if (!deps.adminToken || !presented || !sameSecret(presented, deps.adminToken)) {
      next();
      return;
    }
    res.locals.route = '/v1/operators';
    for (const parse of jsonBody) await runMiddleware(parse, req, res);
    const body = parseOrThrow(newOperatorSchema, req.body ?? {});
    const issued = await deps.identity.operators.bootstrap(body, presented, deps.adminToken);
    res
      .status(201)
      .location(`/v1/operators/${encodeURIComponent(issued.operatorId)}`)
      .json(issued);
  };
}

/** Registers the operator API routes on the authenticated /v1 router. */
export function registerIdentityRoutes(on: RouteRegistrar, deps: IdentityHttp): void {
  const { identity } = deps;
  const { registry, credentials, killSwitches, operators } = identity;

  // --- agents --------------------------------------------------------------------------------------------------------
  on('get', '/agents', async (req, res) => {
    operatorOf(res, 'the agent inventory');
    const query = parseOrThrow(agentListQuerySchema, req.query, { code: 'bad_request' });
    res.json({ items: await registry.list(query) });
  });

  on('post', '/agents', async (req, res) => {
    const actor = operatorActor(operatorOf(res, 'registering agents'));
    const body = parseOrThrow(newAgentSchema, requireBody(req));
    const { agent, secret } = await identity.createAgent(body, actor);
    res.status(201).location(agentPath(agent.id)).json({ agent, credentials: secret });
  });

  on('get', '/agents/:id', async (req, res) => {
    operatorOf(res, 'reading agents');
    const id = String(req.params.id);
    const agent = await registry.get(id);
    if (!agent) throw noAgent(id);
    const [creds, changes] = await Promise.all([credentials.list(id), registry.changes(id)]);
    res.json({ agent, credentials: creds, changes });
  });

  on('patch', '/agents/:id', async (req, res) => {
    const actor = operatorActor(operatorOf(res, 'changing agents'));
    const patch = parseOrThrow(agentPatchSchema, requireBody(req));
    res.json(await registry.update(String(req.params.id), patch, actor));
  });

  for (const transition of ['suspend', 'resume', 'decommission'] as const) {
    on('post', `/agents/:id/${transition}`, async (req, res) => {
      const actor = operatorActor(operatorOf(res, `${transition === 'resume' ? 'resuming' : transition} agents`));
      const { reason } = parseOrThrow(statusChangeSchema, req.body ?? {});
      res.json(await registry[transition](String(req.params.id), actor, reason));
    });
  }

  on('post', '/agents/:id/credentials/rotate', async (req, res) => {
    const actor = operatorActor(operatorOf(res, 'rotating credentials'));
    const { overlapSeconds } = parseOrThrow(rotateCredentialsSchema, req.body ?? {});
    // Without an overlap the configured default applies (the parameter's default, for undefined).
    const issued = await credentials.rotate(
      String(req.params.id),
      actor,
      overlapSeconds !== undefined ? overlapSeconds * 1000 : undefined,
    );
    res.status(201).json(issued);
  });

  // --- kill switches -------------------------------------------------------------------------------------------------
  on('post', '/kill-switches', async (req, res) => {
    const actor = operatorActor(operatorOf(res, 'pulling a kill switch'));
    const body = parseOrThrow(killSwitchRequestSchema, requireBody(req));
    const scope = parseKillScope(body);
    const { killSwitch, created } = await killSwitches.engage(scope, { reason: body.reason, by: actor });
    // Cancelled also when the switch was already on: a retried call reaches requests that slipped in meanwhile. The
    // answer comes at once; the operation drains in Temporal and its progress is read at `operation.href`.
    const { inScope, operationId } = await deps.cancelInScope(scope, {
      by: actor,
      reason: killSwitch.reason,
      switchId: killSwitch.id,
    });
    res.status(202).json({
      killSwitch,
      created,
      inScope,
      operation: { id: operationId, href: `/v1/kill-switches/operations/${encodeURIComponent(operationId)}` },
    });
  });

  on('get', '/kill-switches/operations/:id', async (req, res) => {
    operatorOf(res, 'reading kill switch operations');
    const id = String(req.params.id);
    const progress = /^[A-Za-z0-9_-]{1,128}$/.test(id) ? await deps.cancelProgress?.(id) : undefined;
    if (!progress) throw new AppError('not_found', 'no such kill switch operation');
    res.json(progress);
  });

  on('get', '/kill-switches', async (req, res) => {
    operatorOf(res, 'reading kill switches');
    const { history } = parseOrThrow(killSwitchListQuerySchema, req.query, { code: 'bad_request' });
    const active = await killSwitches.active();
    res.json({ active, ...(history === 'true' ? { history: await killSwitches.history() } : {}) });
  });

  on('delete', '/kill-switches', async (req, res) => {
    const actor = operatorActor(operatorOf(res, 'lifting a kill switch'));
    const body = parseOrThrow(killSwitchLiftSchema, requireBody(req));
    const lifted = await killSwitches.lift(parseKillScope(body), {
      by: actor,
      ...(body.reason ? { reason: body.reason } : {}),
    });
    res.json({ lifted });
  });

  // --- operators -----------------------------------------------------------------------------------------------------
  on('post', '/operators', async (req, res) => {
    const actor = operatorActor(operatorOf(res, 'creating operators'));
    const body = parseOrThrow(newOperatorSchema, requireBody(req));
    const issued = await operators.create(body, actor);
    res
      .status(201)
      .location(`/v1/operators/${encodeURIComponent(issued.operatorId)}`)
      .json(issued);
  });

  on('get', '/operators', async (_req, res) => {
    operatorOf(res, 'listing operators');
    res.json({ items: await operators.list() });
  });

  on('post', '/operators/:id/tokens', async (req, res) => {
    const self = operatorOf(res, 'issuing operator tokens');
    const id = String(req.params.id);
    // Only for oneself: a token for someone else would let its holder act in their name.
    if (id !== self) {
      throw new AppError('forbidden', 'operators issue tokens only for themselves', {
        errors: [{ path: 'id', message: `the token's owner is ${self}` }],
      });
    }
    const { label } = parseOrThrow(newOperatorTokenSchema, req.body ?? {});
    res.status(201).json(await operators.issueToken(id, operatorActor(self), label));
  });

  on('delete', '/operator-tokens/:tokenId', async (req, res) => {
    operatorOf(res, 'revoking operator tokens');
    await operators.revokeToken(String(req.params.tokenId));
    res.status(204).end();
  });

  // The caller's own identity, so a CLI can say who it acts as.
  on('get', '/me', (_req, res) => {
    const caller = callerOf(res);
    res.json(caller.kind === 'operator' ? { kind: 'operator', id: caller.id } : { kind: 'agent', id: caller.agent.id });
    return Promise.resolve();
  });
}

/** The path of an agent in this API. */
export function agentPath(id: string): string {
  return `/v1/agents/${encodeURIComponent(id)}`;
}

function requireBody(req: Request): unknown {
  if (req.body === undefined) {
    throw new AppError('bad_request', 'a JSON body is required', { errors: [{ path: 'body', message: 'required' }] });
  }
  return req.body as unknown;
}

function noAgent(id: string): AppError {
  return new AppError('not_found', `no agent "${id}"`);
}

/** Runs a body parser inline (it calls next(err) on failure; the error handler maps parser errors). */
function runMiddleware(handler: RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    void handler(req, res, (err?: unknown) => {
      if (err === undefined || err === null) resolve();
      else reject(err instanceof Error ? err : new Error('the request body could not be read'));
    });
  });
}
