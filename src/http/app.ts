// The HTTP API (Express 5). Routes stay thin: authenticate, validate, call the request service, present.
// createHttpApp never listens; the entry point owns the server and its shutdown.
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { JSONWebKeySet } from 'jose';
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { ActionCatalog } from '../catalog';
import type { CountersignConfig } from '../config/schema';
import { AppError } from '../errors';
import type { ExecutionLedger } from '../ledger';
import { withRequestId, type Logger } from '../logger';
import { serverSpan, withActiveSpan } from '../tracing';
import type { Metrics } from '../metrics';
import type { RequestService } from '../requests';
import type { Authenticator } from './auth';
import { agentOf, callerOf } from './context';
import {
  bootstrapOperatorHandler,
  createPublicIdentityRouter,
  registerIdentityRoutes,
  type IdentityHttp,
  type RouteRegistrar,
} from './identity-routes';
import { createMcpRouter } from '../mcp/http';
import { createCodecRouter, type CodecHttp } from './codec-routes';
import { jsonBodyParser } from './input-limits';
import { buildOpenApiDocument } from './openapi';
import { presentRequest, presentSummary, requestPath, type LinkOptions } from './present';
import { notFoundHandler, pathOf, problemHandler } from './problems';
import {
  cancelRequestSchema,
  decisionRequestSchema,
  idempotencyKeySchema,
  listQuerySchema,
  parseOrThrow,
  submitRequestSchema,
  waitQuerySchema,
} from './schemas';

export interface HttpDeps {
  service: RequestService;
  authenticator: Authenticator;
  config: CountersignConfig;
  catalog: ActionCatalog;
  logger: Logger;
  metrics: Metrics;
  readiness: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  /** Mounted at POST /slack/events before any body parser: Bolt verifies the signature over the raw body. */
  slack?: { handler: express.RequestHandler };
  links?: LinkOptions;
  /**
   * Agent identity: the token endpoint and JWKS, kill switches and rate limits at submit, and the operator API for
   * agents, credentials, kill switches and operators. Without it, only the request routes are served.
   */
  identity?: IdentityHttp;
  /** The payload codec server at /codec (Temporal's remote codec protocol), for operators. */
  codec?: CodecHttp;
  /** The execution ledger: list entries of failed requests say when their outcome is unknown. */
  ledger?: Pick<ExecutionLedger, 'unknownOutcomes'>;
  /** The public keys of approval receipts, served at /.well-known/receipt-jwks.json for downstream verifiers. */
  receiptJwks?: () => JSONWebKeySet;
  /** Pending requests by approver group, counted at scrape time (Temporal visibility). */
  pendingByGroup?: () => Promise<Map<string, number>>;
}

/** Request bodies above this are refused with 413 before they are parsed. */
export const MAX_BODY_BYTES = 64 * 1024;
const JSON_TYPES = ['application/json', 'application/*+json'];
const WWW_AUTHENTICATE = 'Bearer realm="countersign"';

/** Builds the Express app over its dependencies; it never listens. */
export function createHttpApp(deps: HttpDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(observeHttp(deps));

  if (deps.slack) app.post('/slack/events', deps.slack.handler);

  const openapi = buildOpenApiDocument({
    config: deps.config,
    ...(deps.links?.publicUrl ? { serverUrl: deps.links.publicUrl } : {}),
    identity: Boolean(deps.identity),
    receipts: Boolean(deps.receiptJwks),
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const readiness = await deps.readiness();
    res.status(readiness.ready ? 200 : 503).json(readiness);
  });
  app.get('/metrics', async (_req, res) => {
    try {
      deps.metrics.pendingApprovals.set(await deps.service.count({ status: 'pending_approval' }));
      if (deps.pendingByGroup) {
        const byGroup = await deps.pendingByGroup();
        deps.metrics.pendingApprovalsByGroup.reset();
        for (const [group, n] of byGroup) deps.metrics.pendingApprovalsByGroup.set({ group }, n);
      }
    } catch (err) {
      // The other metrics still help while Temporal is away. A stale count (or reset()'s 0) would mislead; NaN reads as
      // "unknown" in Prometheus.
      deps.metrics.pendingApprovals.set(Number.NaN);
      deps.metrics.pendingApprovalsByGroup.reset();
      deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'pending approvals not counted');
    }
    res.type(deps.metrics.contentType).send(await deps.metrics.text());
  });

  app.use(createPublicIdentityRouter({ identity: deps.identity, receiptJwks: deps.receiptJwks }));
  if (deps.codec) app.use(createCodecRouter(deps.codec, deps.authenticator));
  app.use(
    createMcpRouter({
      service: deps.service,
      config: deps.config,
      catalog: deps.catalog,
      authenticator: deps.authenticator,
      tokenEndpoint: Boolean(deps.identity),
      maxBodyBytes: MAX_BODY_BYTES,
      ...(deps.links ? { links: deps.links } : {}),
      ...(deps.links?.publicUrl ? { publicUrl: deps.links.publicUrl } : {}),
    }),
  );
  app.use('/v1', createV1Router(deps));
  app.use(notFoundHandler());
  app.use(problemHandler(deps.logger));
  return app;
}

function createV1Router(deps: HttpDeps): express.Router {
  const { service, links } = deps;
  const router = express.Router();
  const jsonBody = [requireJsonBody, ...jsonBodyParser({ limit: MAX_BODY_BYTES, type: JSON_TYPES })];
  // The bootstrap token proves no caller, so the first operator's creation is matched before authentication.
  if (deps.identity) router.post('/operators', bootstrapOperatorHandler(deps.identity, jsonBody));
  // Authentication comes first: nobody gets a body parsed, or learns which routes exist, without a credential.
  router.use(authenticate(deps.authenticator));
  router.use(...jsonBody);
  // The route template labels metrics; it is noted here because an error leaves the router before the response ends.
  const on: RouteRegistrar = (method, path, handler) =>
    router[method](path, (req, res) => {
      res.locals.route = `/v1${path}`;
      // Body parsing may run outside the request's async context: the route re-enters its server span.
      return withActiveSpan(res.locals.span as Span | undefined, () => handler(req, res));
    });
  const identity = deps.identity?.identity;

  on('post', '/action-requests', async (req, res) => {
    const agent = agentOf(res);
    if (req.body === undefined) throw missingBody();
    const body = parseOrThrow(submitRequestSchema, req.body);
    const key = idempotencyKey(req);
    const { wait } = parseOrThrow(waitQuerySchema, req.query, { code: 'bad_request' });
    if (identity) {
      // A halted agent or action is refused with the switch's reason before anything is decided or started.
      await refusedAs(deps, body.action, 'kill_switch', () => identity.killSwitches.enforce(agent.id, body.action));
      await refusedAs(deps, body.action, 'rate_limited', () => identity.rateLimiter.enforce(agent.id));
    }
    const { created, state } = await service.submit(agent, body, key, {
      waitSeconds: wait ?? 0,
      signal: hangUpSignal(res),
    });
    if (created) res.status(201).location(requestPath(state.requestId));
    res.json(presentRequest(state, links));
  });

  on('get', '/action-requests', async (req, res) => {
    const caller = callerOf(res);
    const query = parseOrThrow(listQuerySchema, req.query, { code: 'bad_request' });
    const items = await service.list(caller, {
      ...(query.status ? { status: query.status } : {}),
      ...(query.agent && caller.kind === 'operator' ? { agentId: query.agent } : {}),
      ...(query.action ? { action: query.action } : {}),
      ...(query.limit ? { limit: query.limit } : {}),
    });
    const failed = items.filter((s) => s.status === 'failed').map((s) => s.id);
    const unknown = deps.ledger && failed.length > 0 ? await deps.ledger.unknownOutcomes(failed) : new Set<string>();
    res.json({ items: items.map((s) => presentSummary(s, links, unknown.has(s.id))) });
  });

  on('get', '/action-requests/:id', async (req, res) => {
    const { wait } = parseOrThrow(waitQuerySchema, req.query, { code: 'bad_request' });
    const state = await service.get(callerOf(res), String(req.params.id), wait ?? 0, { signal: hangUpSignal(res) });
    res.json(presentRequest(state, links));
  });

  on('post', '/action-requests/:id/cancel', async (req, res) => {
    const { reason } = parseOrThrow(cancelRequestSchema, req.body ?? {});
    const state = await service.cancel(callerOf(res), String(req.params.id), reason);
    res.json(presentRequest(state, links));
  });

  on('post', '/action-requests/:id/decisions', async (req, res) => {
    const caller = callerOf(res);
    if (caller.kind !== 'operator') throw new AppError('forbidden', 'recording decisions needs an operator token');
    if (req.body === undefined) throw missingBody();
    const { approver, ...decision } = parseOrThrow(decisionRequestSchema, req.body);
    // The decision is the token owner's; a body naming someone else is refused rather than silently re-attributed.
    if (approver !== undefined && approver !== caller.id) {
      throw new AppError('forbidden', `decisions are recorded as the operator token's owner (${caller.id})`, {
        errors: [{ path: 'approver', message: `must be ${caller.id} or omitted` }],
      });
    }
    const { queued, ...state } = await service.decide(String(req.params.id), { ...decision, approver: caller.id });
    // No worker running: a rejection is kept by Temporal and recorded when one runs again; the answer says so.
    if (queued) res.status(202).json({ ...presentRequest(state, links), queued: true });
    else res.json(presentRequest(state, links));
  });

  if (deps.identity) registerIdentityRoutes(on, deps.identity);
  return router;
}

function authenticate(authenticator: Authenticator): RequestHandler {
  return async (req, res, next) => {
    let caller;
    try {
      caller = await authenticator.authenticate(req.get('authorization'));
    } catch (err) {
      // A refused access token says why (expired, wrong audience…); the problem names the field it came in.
      if (err instanceof AppError && err.code === 'unauthorized' && err.errors.length === 0) {
        throw new AppError('unauthorized', err.message, {
          errors: [{ path: 'Authorization', message: err.message }],
          headers: err.headers,
        });
      }
      throw err;
    }
    if (!caller) {
      const detail = req.get('authorization') ? 'the credential is not valid' : 'a Bearer credential is required';
      throw new AppError('unauthorized', detail, {
        errors: [{ path: 'Authorization', message: detail }],
        headers: { 'WWW-Authenticate': WWW_AUTHENTICATE },
      });
    }
    res.locals.caller = caller;
    next();
  };
}

/** Bodies must be JSON; a POST without a body (cancel, say) is fine. */
function requireJsonBody(req: Request, _res: Response, next: NextFunction): void {
  const length = Number(req.get('content-length') ?? '0');
  const hasBody = req.get('transfer-encoding') !== undefined || length > 0;
  if (hasBody && !req.is(JSON_TYPES)) {
    throw new AppError('unsupported_media_type', 'the request body must be application/json', {
      errors: [
        {
          path: 'Content-Type',
          message: `expected application/json, got ${req.get('content-type') ? 'another type' : 'none'}`,
        },
      ],
    });
  }
  next();
}

function idempotencyKey(req: Request): string | undefined {
  const value = req.get('idempotency-key');
  if (value === undefined) return undefined;
  return parseOrThrow(idempotencyKeySchema, value, { code: 'bad_request', prefix: 'Idempotency-Key' });
}

/** Runs a refusal check at submit; a refusal is counted under `reason` before it propagates. */
async function refusedAs(deps: HttpDeps, action: string, reason: string, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (err) {
    // An action outside the catalog is labelled `unknown`: agent-chosen strings would explode the label set.
    const label = deps.catalog.get(action) ? action : 'unknown';
    if (err instanceof AppError) deps.metrics.actionRequests.inc({ action: label, outcome: reason });
    throw err;
  }
}

function missingBody(): AppError {
  return new AppError('bad_request', 'a JSON body is required', { errors: [{ path: 'body', message: 'required' }] });
}

/** Aborts when the client goes away before the response is sent, so a long poll stops waiting for nobody. */
function hangUpSignal(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** Probes and scrapes: no span for them. */
const UNTRACED_PATHS = new Set(['/metrics', '/healthz', '/readyz']);

/** A caller's X-Request-Id is kept when it is a plain token; anything else is replaced. */
const REQUEST_ID_HEADER = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request an id (the caller's X-Request-Id, else a new one), echoed in the response and on every log line
 * written while it is handled; counts and times it by route template and writes the access log line.
 */
function observeHttp(deps: HttpDeps): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const given = req.get('x-request-id');
    const requestId = given && REQUEST_ID_HEADER.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    res.locals.requestId = requestId;
    let span: Span | undefined;
    res.on('finish', () => {
      const route = routeLabel(req, res);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (span) {
        span.updateName(`${req.method} ${route}`);
        span.setAttributes({ 'http.route': route, 'http.response.status_code': res.statusCode });
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
      deps.metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      deps.metrics.httpSeconds.observe({ method: req.method, route }, seconds);
      deps.logger.info(
        {
          httpRequestId: requestId,
          method: req.method,
          route,
          status: res.statusCode,
          ms: Math.round(seconds * 1000),
        },
        'http',
      );
    });
    // An incoming `traceparent` is joined: the server span is its child. Probes and scrapes stay out of traces.
    if (UNTRACED_PATHS.has(req.path)) return withRequestId(requestId, next);
    serverSpan(
      req.method,
      req.headers,
      { 'http.request.method': req.method, 'countersign.http_request_id': requestId },
      (started) => {
        span = started;
        res.locals.span = started;
        withRequestId(requestId, next);
      },
    );
  };
}

function routeLabel(req: Request, res: Response): string {
  if (typeof res.locals.route === 'string') return res.locals.route;
  if (req.route) return String((req.route as { path: unknown }).path);
  // Refused before a route matched (401, 415, 413 under /v1) or no such route: one label each, never the raw path.
  return pathOf(req).startsWith('/v1/') ? '/v1/*' : 'unmatched';
}
