// A TCP proxy on 127.0.0.1 in front of a real server (PostgreSQL, Temporal) that a test stops, destroying every
// socket and refusing new connections, and starts again on the same port.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** The port the proxy listens on (the same after a stop and start). */
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(upstream: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const onConnection = (client: Socket) => {
    const server = connect(upstream.port, upstream.host);
    track(client);
    track(server);
    client.on('error', () => server.destroy());
    server.on('error', () => client.destroy());
    client.pipe(server);
    server.pipe(client);
  };
  let listener: Server | undefined;
  let port = 0;
  const start = async () => {
    const s = createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    listener = s;
  };
  const stop = async () => {
    const s = listener;
    listener = undefined;
    const closed = s ? new Promise((resolve) => s.close(resolve)) : Promise.resolve();
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await closed;
  };
  await start();
  return {
    get port() {
      return port;
    },
    start,
    stop,
    close: stop,
  };
}
