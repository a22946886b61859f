// A local stand-in for the Slack Web API (the network edge tests cannot reach): the methods Countersign calls, every
// call recorded, messages kept so tests can read what an approver would see, and faults on demand (429 with
// Retry-After, 500, a hanging connection, a per-channel rate limit). Reached through SLACK_API_URL.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  at: number;
  /** The HTTP status the stub answered with. */
  status: number;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: Record<string, unknown>[];
  threadTs?: string;
  /** Every version, oldest first (the post, then each chat.update). */
  versions: { text: string; blocks: Record<string, unknown>[] }[];
  args: Record<string, unknown>;
}

export type SlackFault = { status: 429; retryAfter: number } | { status: 500 } | 'hang';

export interface SlackApiStub {
  /** Base URL for SLACK_API_URL (ends with /api/). */
  apiUrl: string;
  /** Base URL of response_url endpoints (slash commands). */
  responseUrl(id: string): string;
  calls: SlackCall[];
  /** Bodies posted to response URLs. */
  responses: { id: string; body: Record<string, unknown> }[];
  callsOf(method: string): SlackCall[];
  /** Top-level approval messages (not thread replies), oldest first. */
  messages(filter?: (m: StoredMessage) => boolean): StoredMessage[];
  replies(channel: string, ts: string): StoredMessage[];
  message(channel: string, ts: string): StoredMessage | undefined;
  /** Answers the next `times` calls of `method` ('*' for any) with the fault. */
  failNext(method: string, fault: SlackFault, times?: number): void;
  /** Every call fails with the fault until `up()`. */
  down(fault: SlackFault): void;
  up(): void;
  /** Refuses with 429 a chat.postMessage to a channel that already took `max` posts in the last `windowMs`. */
  rateLimitPerChannel(limit: { max: number; windowMs: number; retryAfter: number } | undefined): void;
  /** users.lookupByEmail answers. */
  users: Map<string, string>;
  /** usergroups.users.list answers. */
  usergroups: Map<string, string[]>;
  /** The WebSocket URL apps.connections.open hands out (Socket Mode). */
  socketModeUrl?: string;
  /** Resolves when `check` returns a value (polled), or rejects after `timeoutMs`. */
  waitFor<T>(check: () => T | undefined | false, timeoutMs?: number, what?: string): Promise<T>;
  close(): Promise<void>;
}

/** Starts the stub on 127.0.0.1 with a random port. */
export async function startSlackApiStub(): Promise<SlackApiStub> {
  const calls: SlackCall[] = [];
  const responses: { id: string; body: Record<string, unknown> }[] = [];
  const store = new Map<string, StoredMessage>();
  const order: StoredMessage[] = [];
  const users = new Map<string, string>();
  const usergroups = new Map<string, string[]>();
  const faults: { method: string; fault: SlackFault; times: number }[] = [];
  let outage: SlackFault | undefined;
  let rateLimit: { max: number; windowMs: number; retryAfter: number } | undefined;
  const recentPosts = new Map<string, number[]>();
  const hanging = new Set<ServerResponse>();
  let seq = 0;

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const applyFault = (res: ServerResponse, fault: SlackFault): number => {
    if (fault === 'hang') {
      hanging.add(res);
      return 0;
    }
    if (fault.status === 429) {
      json(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(fault.retryAfter) });
      return 429;
    }
    json(res, 500, { ok: false, error: 'internal_error' });
    return 500;
  };

  const answer = (
    method: string,
    args: Record<string, unknown>,
  ): { status: number; body: Record<string, unknown>; headers?: Record<string, string> } => {
    switch (method) {
      case 'apps.connections.open':
        return stub.socketModeUrl
          ? { status: 200, body: { ok: true, url: stub.socketModeUrl } }
          : { status: 200, body: { ok: false, error: 'invalid_auth' } };
      case 'auth.test':
        return {
          status: 200,
          body: {
            ok: true,
            url: 'https://test.slack.com/',
            team: 'Test',
            user: 'countersign',
            team_id: 'T0TEST',
            user_id: 'U0BOT',
            bot_id: 'B0BOT',
          },
        };
      case 'chat.postMessage': {
        const channel = str(args.channel);
        if (rateLimit) {
          const now = Date.now();
          const window = (recentPosts.get(channel) ?? []).filter((t) => now - t < (rateLimit?.windowMs ?? 0));
          if (window.length >= rateLimit.max) {
            recentPosts.set(channel, window);
            return {
              status: 429,
              body: { ok: false, error: 'ratelimited' },
              headers: { 'retry-after': String(rateLimit.retryAfter) },
            };
          }
          recentPosts.set(channel, [...window, now]);
        }
        seq += 1;
        const ts = `${Math.floor(Date.now() / 1000)}.${String(seq).padStart(6, '0')}`;
        const message: StoredMessage = {
          channel,
          ts,
          text: str(args.text),
          blocks: asBlocks(args.blocks),
          ...(args.thread_ts ? { threadTs: str(args.thread_ts) } : {}),
          versions: [],
          args,
        };
        message.versions.push({ text: message.text, blocks: message.blocks });
        store.set(`${channel}/${ts}`, message);
        order.push(message);
        return { status: 200, body: { ok: true, channel, ts, message: { text: message.text, ts } } };
      }
      case 'chat.update': {
        const message = store.get(`${str(args.channel)}/${str(args.ts)}`);
        if (!message) return { status: 200, body: { ok: false, error: 'message_not_found' } };
        message.text = str(args.text);
        message.blocks = asBlocks(args.blocks);
        message.versions.push({ text: message.text, blocks: message.blocks });
        return { status: 200, body: { ok: true, channel: message.channel, ts: message.ts } };
      }
      case 'chat.postEphemeral':
        return {
          status: 200,
          body: { ok: true, message_ts: `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}` },
        };
      case 'views.open':
      case 'views.publish':
        return { status: 200, body: { ok: true, view: { id: `V${++seq}`, ...(parseMaybe(args.view) as object) } } };
      case 'users.lookupByEmail': {
        const id = users.get(str(args.email).toLowerCase());
        return id
          ? { status: 200, body: { ok: true, user: { id } } }
          : { status: 200, body: { ok: false, error: 'users_not_found' } };
      }
      case 'usergroups.users.list': {
        const members = usergroups.get(str(args.usergroup));
        return members
          ? { status: 200, body: { ok: true, users: members } }
          : { status: 200, body: { ok: false, error: 'no_such_subteam' } };
      }
      case 'conversations.open': {
        const user = str(args.users).split(',')[0] ?? '';
        return { status: 200, body: { ok: true, channel: { id: `D${user.slice(1)}` } } };
      }
      default:
        return { status: 200, body: { ok: false, error: 'unknown_method' } };
    }
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stub');
      const args = parseBody(raw, String(req.headers['content-type'] ?? ''));
      if (url.pathname.startsWith('/respond/')) {
        responses.push({ id: url.pathname.slice('/respond/'.length), body: args });
        json(res, 200, { ok: true });
        return;
      }
      const method = url.pathname.replace(/^\/api\//, '');
      const call: SlackCall = { method, args, at: Date.now(), status: 200 };
      calls.push(call);
      const planned = faults.find((f) => f.times > 0 && (f.method === method || f.method === '*'));
      if (planned) {
        planned.times -= 1;
        call.status = applyFault(res, planned.fault);
        return;
      }
      if (outage) {
        call.status = applyFault(res, outage);
        return;
      }
      const { status, body, headers } = answer(method, args);
      call.status = status;
      json(res, status, body, headers);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;

  const stub: SlackApiStub = {
    apiUrl: `${base}/api/`,
    responseUrl: (id) => `${base}/respond/${id}`,
    calls,
    responses,
    callsOf: (method) => calls.filter((c) => c.method === method),
    messages: (filter) => order.filter((m) => !m.threadTs && (!filter || filter(m))),
    replies: (channel, ts) => order.filter((m) => m.channel === channel && m.threadTs === ts),
    message: (channel, ts) => store.get(`${channel}/${ts}`),
    failNext(method, fault, times = 1) {
      faults.push({ method, fault, times });
    },
    down(fault) {
      outage = fault;
    },
    up() {
      outage = undefined;
      for (const res of hanging) res.destroy();
      hanging.clear();
    },
    rateLimitPerChannel(limit) {
      rateLimit = limit;
      recentPosts.clear();
    },
    users,
    usergroups,
    async waitFor<T>(check: () => T | undefined | false, timeoutMs = 15_000, what = 'condition'): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = check();
        if (value !== undefined && value !== false) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () =>
      new Promise((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return stub;
}

function parseBody(raw: string, contentType: string): Record<string, unknown> {
  if (!raw) return {};
  if (contentType.includes('application/json')) {
    const parsed: unknown = JSON.parse(raw);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) out[key] = parseMaybe(value);
  return out;
}

/** The Web API client sends nested values (blocks, views) as JSON strings inside the form. */
function parseMaybe(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  if (!(trimmed.startsWith('{') || trimmed.startsWith('['))) return value;
  try {
    return JSON.parse(trimmed);
  } catch {
    // Text that merely starts with a bracket stays text.
    return value;
  }
}

function asBlocks(value: unknown): Record<string, unknown>[] {
  const parsed = parseMaybe(value);
  return Array.isArray(parsed) ? (parsed as Record<string, unknown>[]) : [];
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
