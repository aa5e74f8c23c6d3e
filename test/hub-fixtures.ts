/**
 * A tiny SSE server on loopback for the hub's unit tests: event logs per path that replay after Last-Event-ID and
 * follow live events, with the faults the hub must survive (connections cut after N events, servers that ignore
 * Last-Event-ID, error statuses, heartbeats) and counters of open connections.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KernelClient } from '../src/kernel/client.js';

export interface FakeEvent {
  id?: string;
  data: string;
  event?: string;
}

class Log {
  readonly events: FakeEvent[] = [];
  finished = false;
  readonly live = new Set<(e: FakeEvent | null) => void>();
  nextId = 1;

  push(data: unknown, opts: { id?: string | null; event?: string } = {}): FakeEvent {
    const id = opts.id === null ? undefined : (opts.id ?? String(this.nextId++));
    const e: FakeEvent = {
      data: typeof data === 'string' ? data : JSON.stringify(data),
      ...(id !== undefined ? { id } : {}),
    };
    if (opts.event) e.event = opts.event;
    this.events.push(e);
    for (const fn of [...this.live]) fn(e);
    return e;
  }

  finish() {
    this.finished = true;
    for (const fn of [...this.live]) fn(null);
  }
}

export interface FakeSse {
  url: string;
  client: KernelClient;
  log(path: string): Log;
  /** Requests seen: path and Last-Event-ID. */
  requests: { path: string; lastEventId: string | undefined; method: string }[];
  /** Open SSE responses. */
  open(): number;
  options: {
    /** Cut each connection after this many events were written on it. */
    cutAfter?: number;
    /** Replay everything on every connection, ignoring Last-Event-ID. */
    ignoreLastEventId?: boolean;
    /** Answer these paths with a status (and a Kernel error body) instead of a stream. */
    status?: Record<string, number>;
    /** Answer the next N requests with 503 (or `failStatus`). */
    fail503?: number;
    /** The status `fail503` answers with (default 503), with a Kernel error body. */
    failStatus?: number;
  };
  close(): Promise<void>;
}

export async function startFakeSse(): Promise<FakeSse> {
  const logs = new Map<string, Log>();
  const sockets = new Set<Socket>();
  const responses = new Set<ServerResponse>();
  const requests: FakeSse['requests'] = [];
  const options: FakeSse['options'] = {};
  const log = (path: string) => {
    let l = logs.get(path);
    if (!l) {
      l = new Log();
      logs.set(path, l);
    }
    return l;
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const lastEventId = req.headers['last-event-id'] as string | undefined;
    requests.push({ path: url.pathname + url.search, lastEventId, method: req.method ?? '' });
    const status = options.status?.[url.pathname];
    if (options.fail503 && options.fail503 > 0) {
      options.fail503--;
      res.writeHead(options.failStatus ?? 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'service_unavailable', message: 'try again' }));
      return;
    }
    if (status) {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'not_found', message: `no such stream ${url.pathname}` }));
      return;
    }
    const l = log(url.pathname + url.search);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    responses.add(res);
    let sent = 0;
    let closed = false;
    const stop = () => {
      if (closed) return;
      closed = true;
      l.live.delete(onLive);
      responses.delete(res);
    };
    const write = (e: FakeEvent) => {
      if (closed) return;
      let frame = '';
      if (e.id !== undefined) frame += `id: ${e.id}\n`;
      if (e.event) frame += `event: ${e.event}\n`;
      frame += `data: ${e.data}\n\n`;
      sent++;
      if (options.cutAfter && sent >= options.cutAfter) {
        // Drop the connection once this event is on the wire (the resource itself goes on).
        stop();
        const socket = res.socket;
        res.write(frame, () => socket?.destroy());
        return;
      }
      res.write(frame);
    };
    const onLive = (e: FakeEvent | null) => {
      if (e) write(e);
      else {
        stop();
        res.end();
      }
    };
    res.on('close', stop);
    const after = !options.ignoreLastEventId && lastEventId ? Number(lastEventId) : 0;
    for (const e of l.events) if (!e.id || Number(e.id) > after || options.ignoreLastEventId) write(e);
    if (closed) return;
    if (l.finished) {
      stop();
      res.end();
      return;
    }
    l.live.add(onLive);
  };

  const server: Server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new KernelClient({ baseUrl: url, apiKey: 'test-key-0123456789', maxRetries: 0, timeoutMs: 5000 });
  return {
    url,
    client,
    log,
    requests,
    open: () => responses.size,
    options,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Polls until `check` holds (bounded): for conditions that become true asynchronously. Never asserts a time. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
