// MCP over Streamable HTTP at /mcp, with the API as an OAuth 2.0 protected resource: every request carries the
// agent's access token, a missing or refused one gets 401 with a `WWW-Authenticate` challenge naming the RFC 9728
// metadata, and /.well-known/oauth-protected-resource points clients at the authorization server's token endpoint.
import { randomUUID } from 'node:crypto';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { AgentRecord } from '../agents';
import { AppError } from '../errors';
import type { Authenticator } from '../http/auth';
import type { McpToolDeps } from './tools';

/** The MCP SDK and the tools, loaded by the first /mcp request (Node caches them): a tenth of the API's start-up. */
const loadMcp = () =>
  Promise.all([
    import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/types.js'),
    import('./tools'),
  ]);

export const MCP_PATH = '/mcp';
export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';
export const AUTHORIZATION_SERVER_PATH = '/.well-known/oauth-authorization-server';
/** Sessions one API process keeps at most; the oldest goes first. */
const MAX_SESSIONS = 1000;

export interface McpHttpDeps extends McpToolDeps {
  authenticator: Authenticator;
  /** The API's public base URL; unset: taken from the request's Host. */
  publicUrl?: string;
  /** True when the token endpoint is served (agent identity is wired). */
  tokenEndpoint: boolean;
  maxBodyBytes: number;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  agentId: string;
}

/** The discovery documents and the /mcp endpoint. Mounted before the problem handler. */
export function createMcpRouter(deps: McpHttpDeps): express.Router {
  const router = express.Router();
  const sessions = new Map<string, Session>();
  const base = (req: Request) =>
    (deps.publicUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`).replace(/\/+$/, '');
  const resourceMetadata = (req: Request) => ({
    resource: `${base(req)}${MCP_PATH}`,
    authorization_servers: [base(req)],
    bearer_methods_supported: ['header'],
    scopes_supported: deps.catalog.names(),
    resource_name: 'Countersign MCP server',
    resource_documentation: `${base(req)}/openapi.json`,
  });
  // RFC 9728 §3.1: the metadata of a resource with a path lives at the well-known prefix plus that path.
  for (const path of [PROTECTED_RESOURCE_PATH, `${PROTECTED_RESOURCE_PATH}${MCP_PATH}`]) {
    router.get(path, (req, res) => {
      res.locals.route = path;
      res.set('Cache-Control', 'public, max-age=300').json(resourceMetadata(req));
    });
  }
  if (deps.tokenEndpoint) {
    // RFC 8414: where the token endpoint is, for clients that start from the protected resource's metadata.
    router.get(AUTHORIZATION_SERVER_PATH, (req, res) => {
      res.locals.route = AUTHORIZATION_SERVER_PATH;
      res.set('Cache-Control', 'public, max-age=300').json({
        issuer: base(req),
        token_endpoint: `${base(req)}/oauth/token`,
        jwks_uri: `${base(req)}/.well-known/jwks.json`,
        grant_types_supported: ['client_credentials'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        scopes_supported: deps.catalog.names(),
        response_types_supported: [],
      });
    });
  }

  const authenticate: RequestHandler = async (req, res, next) => {
    res.locals.route = MCP_PATH;
    const challenge = `Bearer realm="countersign", resource_metadata="${base(req)}${PROTECTED_RESOURCE_PATH}${MCP_PATH}"`;
    let agent: AgentRecord | undefined;
    try {
      const caller = await deps.authenticator.authenticate(req.get('authorization'));
      if (caller?.kind === 'agent') agent = caller.agent;
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'unauthorized')) throw err;
      throw new AppError('unauthorized', err.message, {
        errors: [{ path: 'Authorization', message: err.message }],
        headers: { 'WWW-Authenticate': `${challenge}, error="invalid_token"` },
      });
    }
    if (!agent) {
      const detail = req.get('authorization')
        ? 'the credential is not an agent access token'
        : 'a Bearer token is required';
      throw new AppError('unauthorized', detail, {
        errors: [{ path: 'Authorization', message: detail }],
        headers: { 'WWW-Authenticate': req.get('authorization') ? `${challenge}, error="invalid_token"` : challenge },
      });
    }
    const auth: AuthInfo = {
      token: '',
      clientId: agent.id,
      scopes: [...agent.allowedActions],
      extra: { agent },
    };
    (req as Request & { auth?: AuthInfo }).auth = auth;
    res.locals.agent = agent;
    next();
  };

  const sessionOf = (req: Request, res: Response): Session | undefined => {
    const id = req.get('mcp-session-id');
    if (!id) return undefined;
    const session = sessions.get(id);
    // A session belongs to the agent that opened it; another agent's token cannot reach it.
    if (!session || session.agentId !== (res.locals.agent as AgentRecord).id) {
      throw new AppError('not_found', 'no such MCP session; initialize a new one', {
        errors: [{ path: 'Mcp-Session-Id', message: 'unknown or expired session' }],
      });
    }
    return session;
  };

  router.post(MCP_PATH, authenticate, express.json({ limit: deps.maxBodyBytes }), async (req, res) => {
    let session = sessionOf(req, res);
    if (!session) {
      const [{ StreamableHTTPServerTransport }, { isInitializeRequest }, { createMcpServer }] = await loadMcp();
      if (!isInitializeRequest(req.body)) {
        throw new AppError('bad_request', 'send initialize first, or the Mcp-Session-Id of your session', {
          errors: [{ path: 'Mcp-Session-Id', message: 'required after initialize' }],
        });
      }
      const agentId = (res.locals.agent as AgentRecord).id;
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          if (sessions.size >= MAX_SESSIONS) {
            const oldest = sessions.keys().next().value;
            if (oldest !== undefined) void sessions.get(oldest)?.transport.close();
          }
          sessions.set(id, { transport, agentId });
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      const server = createMcpServer(deps, (extra) => ({
        agent: (extra.authInfo?.extra?.agent as AgentRecord | undefined) ?? { ...noAgent },
        ...(extra.sessionId ? { sessionId: extra.sessionId } : {}),
      }));
      await server.connect(transport);
      session = { transport, agentId };
    }
    await session.transport.handleRequest(req, res, req.body);
  });

  // GET opens the server-to-client stream; DELETE ends the session.
  const existing: RequestHandler = async (req, res) => {
    const session = sessionOf(req, res);
    if (!session) {
      throw new AppError('bad_request', 'Mcp-Session-Id is required', {
        errors: [{ path: 'Mcp-Session-Id', message: 'required' }],
      });
    }
    await session.transport.handleRequest(req, res);
  };
  router.get(MCP_PATH, authenticate, existing);
  router.delete(MCP_PATH, authenticate, existing);
  return router;
}

/** Never reached: the handler runs only behind `authenticate`, which sets authInfo. It may request nothing. */
const noAgent: AgentRecord = { id: 'unknown', owner: 'unknown', description: '', allowedActions: [], enabled: false };
