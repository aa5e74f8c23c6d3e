/** SSE hub: serves an EventLog (event-log.ts) as `text/event-stream`, resuming after `Last-Event-ID`. */
import type { SimContext } from './context.js';
import { badRequest } from './errors.js';
import type { EventLog, LoggedEvent, OpenStream } from './event-log.js';
import type { Ctx, Reply } from './http.js';
import { STREAMED } from './http.js';

export interface SseOptions<T> {
  /** Turns a logged event into the JSON written on its `data:` line (default: the event's data). */
  format?: (e: LoggedEvent<T>) => unknown;
  /** Events for which this returns false are skipped on this response (e.g. the `since` query filter). */
  filter?: (e: LoggedEvent<T>) => boolean;
}

export function parseLastEventId(ctx: Ctx): number {
  const raw = ctx.req.headers['last-event-id'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value.trim() === '') return 0;
  if (!/^\d+$/.test(value.trim())) throw badRequest('invalid Last-Event-ID header: must be a non-negative integer');
  return Number.parseInt(value, 10);
}

/**
 * Answers the request with an SSE stream of `log`: replays events after Last-Event-ID, then follows live events
 * until the log finishes (the response is ended) or the client goes away. Honours the `cutStreamsAfter` and
 * `resetNext` faults and writes `: keepalive` comments every keepaliveMs.
 */
export function serveSse<T>(ctx: Ctx, log: EventLog<T>, opts: SseOptions<T> = {}): Reply {
  const sim: SimContext = ctx.sim;
  const res = ctx.res;
  const lastEventId = parseLastEventId(ctx);
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-sse-content-type': 'application/json',
    'x-request-id': ctx.requestId,
  });
  res.flushHeaders();

  let closed = false;
  let sent = 0;
  let unsubscribe: () => void = () => {};
  let stopKeepalive: () => void = () => {};
  const stream: OpenStream = { res, close: () => end() };
  sim.streams.add(stream);

  const cleanup = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    stopKeepalive();
    sim.streams.delete(stream);
  };
  const end = (): void => {
    if (closed) return;
    cleanup();
    res.end();
  };
  /** Drops the connection, once what was written is flushed, without ending the resource (fault injection). */
  const cut = (): void => {
    if (closed) return;
    cleanup();
    const socket = res.socket;
    if (!socket) {
      res.destroy();
      return;
    }
    socket.write('', () => socket.destroy());
  };
  res.on('close', cleanup);

  let closedForWrites = false;
  const write = (e: LoggedEvent<T>): void => {
    if (closed || closedForWrites || (opts.filter && !opts.filter(e))) return;
    const data = opts.format ? opts.format(e) : e.data;
    sent++;
    const limit = sim.faults.current.cutStreamsAfter;
    const cutNow = ctx.reset || (limit !== undefined && limit > 0 && sent >= limit);
    // Cut only once this frame is flushed: the response may still be corked, and a cut before the flush would
    // lose the frame (and, on every resume that replays a batch, the whole batch).
    res.write(`id: ${e.id}\ndata: ${JSON.stringify(data)}\n\n`, cutNow ? () => cut() : undefined);
    if (cutNow) closedForWrites = true;
  };

  if (ctx.reset && log.since(lastEventId).length === 0) {
    cut();
    return STREAMED;
  }
  for (const e of log.since(lastEventId)) write(e);
  if (closed || closedForWrites) return STREAMED;
  if (log.finished) {
    end();
    return STREAMED;
  }
  unsubscribe = log.subscribe({ event: write, finish: end });
  stopKeepalive = sim.timers.every(sim.options.keepaliveMs, () => {
    if (!closed) res.write(': keepalive\n\n');
  });
  return STREAMED;
}
