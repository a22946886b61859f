// A loopback stand-in for an internal API: counts every call, dedupes by Idempotency-Key, answers as told.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TargetCall {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** When it was answered (ms since the epoch). */
  at: number;
}

export interface TargetServer {
  url: string;
  host: string;
  calls: TargetCall[];
  /** Calls whose Idempotency-Key was seen before (retries). */
  replays: number;
  /** Sets the status (and headers, Retry-After say) of the next N responses (then back to 200). */
  failNext(status: number, times?: number, headers?: Record<string, string>): void;
  /** Requests that arrived, answered or not yet (calls are recorded when answered). */
  received: number;
  /** Calls received and not answered yet (a delayed response in flight). */
  inFlight: number;
  /** Delays every response by ms (for timeouts). */
  delay(ms: number): void;
  callsFor(requestId: string): TargetCall[];
  close(): Promise<void>;
}

/** Starts the target on 127.0.0.1 with a random port. */
export async function startTargetServer(options: { port?: number } = {}): Promise<TargetServer> {
  const calls: TargetCall[] = [];
  const seen = new Set<string>();
  let replays = 0;
  let failures: { status: number; times: number; headers: Record<string, string> } | undefined;
  let received = 0;
  let delayMs = 0;
  let inFlight = 0;
  const server: Server = createServer((req, res) => {
    received += 1;
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      inFlight += 1;
      const respond = () => {
        inFlight -= 1;
        calls.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, at: Date.now() });
        const key = String(req.headers['idempotency-key'] ?? '');
        if (failures && failures.times > 0) {
          failures.times -= 1;
          res.writeHead(failures.status, { 'content-type': 'application/json', ...failures.headers });
          res.end(JSON.stringify({ error: `status ${failures.status}` }));
          return;
        }
        if (key && seen.has(key)) replays += 1;
        seen.add(key);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true, path: req.url }));
      };
      if (delayMs > 0) setTimeout(respond, delayMs);
      else respond();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    calls,
    get replays() {
      return replays;
    },
    failNext(status, times = 1, headers = {}) {
      failures = { status, times, headers };
    },
    get received() {
      return received;
    },
    get inFlight() {
      return inFlight;
    },
    delay(ms) {
      delayMs = ms;
    },
    callsFor(requestId) {
      return calls.filter((c) => c.headers['idempotency-key'] === requestId);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
