// Limits on what a request body may be before any route sees it: valid UTF-8, no lone surrogates, bounded nesting.
// Hostile bodies are refused with a problem naming where they went wrong, never with a 500 from deep recursion.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Socket } from 'node:net';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppError } from '../errors';
import { problemFor } from './problems';

/** Deepest nesting of arrays and objects a JSON body may have. */
export const MAX_JSON_DEPTH = 64;
/** Default time to receive the request headers. */
export const HEADER_TIMEOUT_MS = 10_000;
/** Default time to receive the whole request, body included. */
export const BODY_TIMEOUT_MS = 30_000;

// A high surrogate not followed by a low one, or a low one not preceded by a high one (UTF-16 code units, no `u` flag).
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** A JSON body parser that refuses invalid UTF-8 (400) and then checks depth and surrogates (422). */
export function jsonBodyParser(options: { limit: number; type: string[] }): RequestHandler[] {
  return [
    express.json({
      limit: options.limit,
      type: options.type,
      verify: (_req, _res, buf) => {
        try {
          utf8.decode(buf);
        } catch {
          throw new AppError('invalid_encoding', 'the request body is not valid UTF-8', {
            errors: [{ path: 'body', message: `not valid UTF-8 (at byte ${firstInvalidByte(buf)})` }],
          });
        }
      },
    }),
    checkJsonShape,
  ];
}

/** Refuses a parsed body nested deeper than MAX_JSON_DEPTH or holding a lone UTF-16 surrogate, naming the path. */
export function checkJsonShape(req: Request, _res: Response, next: NextFunction): void {
  const issue = jsonShapeIssue(req.body);
  if (issue) throw issue;
  next();
}

/** The first problem with a JSON value's shape, or undefined. Iterative, so no body can exhaust the stack. */
export function jsonShapeIssue(value: unknown, maxDepth: number = MAX_JSON_DEPTH): AppError | undefined {
  const stack: { value: unknown; path: string[]; depth: number }[] = [{ value, path: [], depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item.value === 'string') {
      if (LONE_SURROGATE.test(item.value)) return surrogateIssue(item.path);
      continue;
    }
    if (typeof item.value !== 'object' || item.value === null) continue;
    const depth = item.depth + 1;
    if (depth > maxDepth) {
      return new AppError('nesting_too_deep', `the request body nests deeper than ${maxDepth} levels`, {
        errors: [{ path: formatJsonPath(item.path), message: `nested deeper than ${maxDepth} levels` }],
      });
    }
    const entries = Array.isArray(item.value)
      ? item.value.map((v, i) => [String(i), v] as const)
      : Object.entries(item.value as Record<string, unknown>);
    for (const [key, child] of entries) {
      if (LONE_SURROGATE.test(key)) return surrogateIssue(item.path, true);
      stack.push({ value: child, path: [...item.path, key], depth });
    }
  }
  return undefined;
}

function surrogateIssue(path: string[], inKey = false): AppError {
  const where = formatJsonPath(path);
  return new AppError('invalid_text', 'the request body holds a lone UTF-16 surrogate', {
    errors: [{ path: where, message: inKey ? 'a member name holds a lone surrogate' : 'holds a lone surrogate' }],
  });
}

function formatJsonPath(path: readonly string[]): string {
  if (path.length === 0) return 'body';
  return path.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function firstInvalidByte(buf: Buffer): number {
  // Binary search for the longest valid prefix; decode errors carry no offset.
  let lo = 0;
  let hi = buf.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return lo;
}

export interface HttpServerOptions {
  /** Time to receive the request headers (408 after). */
  headerTimeoutMs?: number;
  /** Time to receive the whole request, body included (408 after). */
  bodyTimeoutMs?: number;
}

/**
 * An HTTP server whose slow clients are cut off: headers within `headerTimeoutMs`, the whole request within
 * `bodyTimeoutMs`, else 408 problem+json and the connection closed.
 */
export function createHttpServer(handler: RequestListener, options: HttpServerOptions = {}): Server {
  const headersTimeout = options.headerTimeoutMs ?? HEADER_TIMEOUT_MS;
  const requestTimeout = Math.max(options.bodyTimeoutMs ?? BODY_TIMEOUT_MS, headersTimeout);
  const server = createServer(
    {
      headersTimeout,
      requestTimeout,
      // How often Node checks the two timeouts; its default (30 s) would let a slow client linger that much longer.
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(headersTimeout / 4))),
    },
    handler,
  );
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      const error = new AppError('request_timeout', 'the request was not received in time', {
        errors: [
          {
            path: 'body',
            message: `headers within ${headersTimeout} ms, the whole request within ${requestTimeout} ms`,
          },
        ],
      });
      const body = JSON.stringify(problemFor(error, ''));
      socket.end(
        `HTTP/1.1 408 Request Timeout\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  return server;
}
