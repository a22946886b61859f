// A local webhook receiver for the tests: records every POST it gets, answers 500 while a path is told to fail.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered. */
  answered: number;
}

export interface Receiver {
  /** `127.0.0.1:<port>`, for the allow-list. */
  host: string;
  urlFor(name: string): string;
  /** Every POST to `/hooks/<name>`, in order. */
  deliveriesTo(name: string): ReceivedDelivery[];
  /** While set, POSTs to `/hooks/<name>` are answered 500. */
  failing: Set<string>;
  close(): Promise<void>;
}

/** Starts a receiver on a random loopback port. */
export async function startReceiver(): Promise<Receiver> {
  const received: ReceivedDelivery[] = [];
  const failing = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const name = path.replace(/^\/hooks\//, '');
      const answered = failing.has(name) ? 500 : 204;
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    urlFor: (name) => `http://127.0.0.1:${port}/hooks/${name}`,
    deliveriesTo: (name) => received.filter((d) => d.path === `/hooks/${name}`),
    failing,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
