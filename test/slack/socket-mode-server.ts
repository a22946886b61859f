// A minimal stand-in for Slack's Socket Mode endpoint: a WebSocket server (RFC 6455, text/ping/close frames only) that
// greets with `hello`, delivers envelopes, and records the client's acknowledgements.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

export interface SocketModeServer {
  url: string;
  /** Messages the client sent (acks: `{ envelope_id, payload }`). */
  received: Record<string, unknown>[];
  /** Resolves once a client has connected and been greeted. */
  connected(): Promise<void>;
  /** Sends an envelope (`{ envelope_id, type, payload, accepts_response_payload }`) to the connected client. */
  send(envelope: Record<string, unknown>): void;
  close(): Promise<void>;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Starts the server on 127.0.0.1 with a random port. */
export async function startSocketModeServer(): Promise<SocketModeServer> {
  const received: Record<string, unknown>[] = [];
  let client: Duplex | undefined;
  let greeted: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (greeted = resolve));

  const frame = (opcode: number, payload: Buffer): Buffer => {
    const len = payload.length;
    const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : Buffer.alloc(4);
    if (len >= 126) {
      if (len > 0xffff) throw new Error('frame too large for this stand-in');
      head[0] = 0x80 | opcode;
      head[1] = 126;
      head.writeUInt16BE(len, 2);
    }
    return Buffer.concat([head, payload]);
  };

  const server: Server = createServer((_req, res) => res.writeHead(426).end());
  server.on('upgrade', (req, socket: Duplex) => {
    const key = String(req.headers['sec-websocket-key'] ?? '');
    const accept = createHash('sha1')
      .update(key + GUID)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    client = socket;
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (buffer.length < 2) return;
        const opcode = (buffer[0] ?? 0) & 0x0f;
        const masked = ((buffer[1] ?? 0) & 0x80) !== 0;
        let len = (buffer[1] ?? 0) & 0x7f;
        let offset = 2;
        if (len === 126) {
          if (buffer.length < 4) return;
          len = buffer.readUInt16BE(2);
          offset = 4;
        } else if (len === 127) {
          if (buffer.length < 10) return;
          len = Number(buffer.readBigUInt64BE(2));
          offset = 10;
        }
        const maskLen = masked ? 4 : 0;
        if (buffer.length < offset + maskLen + len) return;
        const mask = buffer.subarray(offset, offset + maskLen);
        const payload = Buffer.from(buffer.subarray(offset + maskLen, offset + maskLen + len));
        if (masked) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
        buffer = buffer.subarray(offset + maskLen + len);
        if (opcode === 0x1) received.push(JSON.parse(payload.toString('utf8')) as Record<string, unknown>);
        else if (opcode === 0x9) socket.write(frame(0xa, payload));
        else if (opcode === 0x8) {
          socket.end(frame(0x8, payload));
          return;
        }
      }
    });
    socket.on('error', () => socket.destroy());
    socket.write(
      frame(0x1, Buffer.from(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'stand-in' } }))),
    );
    greeted();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `ws://127.0.0.1:${port}/link`,
    received,
    connected: () => ready,
    send(envelope) {
      if (!client) throw new Error('no Socket Mode client connected');
      client.write(frame(0x1, Buffer.from(JSON.stringify(envelope))));
    },
    close: () =>
      new Promise((resolve) => {
        client?.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
