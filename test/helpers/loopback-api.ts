/**
 * A scripted HTTP service on a loopback port, for the answers the simulator never gives (redirects, oversized or
 * malformed answers, answers that stall): each test sets how it answers, and reads back every request it received
 * (method, raw URL, headers, body) and how many connections were opened.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  method: string;
  /** The request target as sent (path and query, not decoded). */
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** Which connection carried it (1 for the first connection opened). */
  connection: number;
}

export type Answer = (req: IncomingMessage, res: ServerResponse, seen: SeenRequest) => void | Promise<void>;

export interface LoopbackApi {
  url: string;
  /** Every request received, in order. */
  seen: SeenRequest[];
  /** A view of the requests received from now on (for one test's checks). */
  since(): () => SeenRequest[];
  /** Connections opened so far. */
  connections(): number;
  /** How the service answers from now on (default: 200 with `{}`). */
  answer(fn: Answer): void;
  close(): Promise<void>;
}

export const json = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
};

export async function startLoopbackApi(): Promise<LoopbackApi> {
  let answer: Answer = (_req, res) => json(res, 200, {});
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const ids = new WeakMap<Socket, number>();
  let opened = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const entry: SeenRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        connection: ids.get(req.socket) ?? 0,
      };
      seen.push(entry);
      Promise.resolve(answer(req, res, entry)).catch((err) => res.destroy(err as Error));
    });
  });
  server.on('connection', (socket) => {
    ids.set(socket, ++opened);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    since() {
      const from = seen.length;
      return () => seen.slice(from);
    },
    connections: () => opened,
    answer(fn) {
      answer = fn;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The error a promise rejects with; the test fails if it resolves instead. */
export function rejection<E = Error>(p: Promise<unknown>): Promise<E> {
  return p.then(
    () => {
      throw new Error('expected a failure, and it succeeded');
    },
    (e: unknown) => e as E,
  );
}
