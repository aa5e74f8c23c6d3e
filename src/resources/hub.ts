/**
 * The stream hub: at most one upstream connection per event stream, a bounded buffer of events with their
 * sequence ids, resume with Last-Event-ID after a drop, and reads from a cursor. Stream tools and stream resources
 * both read through it.
 */
import type { KernelClient, QueryValue } from '../kernel/client.js';
import { KernelError } from '../kernel/errors.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';

export interface StreamEvent {
  /** Sequence id: the upstream `id:` (numeric in Kernel streams), or a local counter when the upstream has none. */
  seq: number;
  /** The event's data, parsed as JSON when it is JSON. */
  data: unknown;
  event?: string;
}

export interface StreamRequest {
  /** Identifies the stream: the expanded path and query, e.g. `/browsers/abc/logs/stream?source=path&path=/x`. */
  path: string;
  query?: Record<string, QueryValue>;
}

export interface ReadOptions {
  /** Return events with seq greater than this. Undefined: from the oldest buffered event. */
  after?: number;
  maxEvents: number;
  /** How long to wait for the first event when none are buffered after the cursor. */
  maxWaitMs: number;
  signal?: AbortSignal;
  onWait?: (elapsedMs: number) => void;
}

export interface ReadResult {
  events: StreamEvent[];
  /** The cursor for the next read: the last returned seq, or the given cursor when nothing came. */
  cursor: number | null;
  ended: boolean;
  /** True when events after the cursor had already left the buffer: the oldest kept ones are returned. */
  dropped: boolean;
}

export interface HubOptions {
  bufferEvents: number;
  bufferBytes: number;
  idleMs: number;
  logger?: Logger;
  /** Reconnect backoff: first delay and ceiling, in ms. */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** Give up after this many reconnects in a row without an event. */
  maxReconnects?: number;
}

type Listener = () => void;

export class Stream {
  readonly key: string;
  readonly events: { ev: StreamEvent; bytes: number }[] = [];
  bytes = 0;
  ended = false;
  error: KernelError | undefined;
  /** Oldest seq ever dropped from the buffer (to report gaps). */
  droppedUpTo = 0;
  lastSeq = 0;
  lastUsed = Date.now();
  readonly #listeners = new Set<Listener>();
  #controller = new AbortController();
  #running = false;
  #localSeq = 0;

  constructor(
    readonly hub: StreamHub,
    readonly request: StreamRequest,
  ) {
    this.key = streamKey(request);
  }

  get open(): boolean {
    return this.#running;
  }

  subscribe(fn: Listener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  #notify() {
    for (const fn of [...this.#listeners]) {
      try {
        fn();
      } catch {}
    }
  }

  push(raw: { id: string | undefined; event: string | undefined; data: string }) {
    const idNum = raw.id !== undefined && /^\d+$/.test(raw.id) ? Number(raw.id) : undefined;
    const seq = idNum ?? ++this.#localSeq;
    if (idNum !== undefined) this.#localSeq = Math.max(this.#localSeq, idNum);
    if (seq <= this.lastSeq) return; // a duplicate after a resume
    let data: unknown = raw.data;
    try {
      data = JSON.parse(raw.data);
    } catch {}
    const ev: StreamEvent = { seq, data, ...(raw.event ? { event: raw.event } : {}) };
    const bytes = raw.data.length + 32;
    this.events.push({ ev, bytes });
    this.bytes += bytes;
    this.lastSeq = seq;
    const { bufferEvents, bufferBytes } = this.hub.options;
    while (this.events.length > bufferEvents || (this.bytes > bufferBytes && this.events.length > 1)) {
      const old = this.events.shift()!;
      this.bytes -= old.bytes;
      this.droppedUpTo = old.ev.seq;
    }
    this.#notify();
  }

  /** Starts the upstream connection if it is not running and the stream has not ended. */
  ensureOpen() {
    this.lastUsed = Date.now();
    if (this.#running || this.ended) return;
    this.#running = true;
    this.#controller = new AbortController();
    void this.#run(this.#controller.signal);
  }

  async #run(signal: AbortSignal) {
    const { logger, reconnectBaseMs = 200, reconnectMaxMs = 5000, maxReconnects = 8 } = this.hub.options;
    let failures = 0;
    try {
      while (!signal.aborted) {
        let got = false;
        try {
          for await (const raw of this.hub.client.stream({
            method: 'GET',
            path: this.request.path,
            ...(this.request.query ? { query: this.request.query } : {}),
            ...(this.lastSeq > 0 ? { lastEventId: String(this.lastSeq) } : {}),
            signal,
          })) {
            got = true;
            failures = 0;
            this.push(raw);
          }
          // The upstream closed the stream cleanly: the resource ended.
          if (!signal.aborted) this.ended = true;
          break;
        } catch (err) {
          if (signal.aborted) break;
          const e = err instanceof KernelError ? err : undefined;
          if (e?.kind === 'api' && e.status !== undefined && e.status < 500 && e.status !== 429) {
            this.error = e;
            this.ended = true;
            break;
          }
          failures = got ? 1 : failures + 1;
          if (failures > maxReconnects) {
            this.error = e ?? new KernelError('network', String(err), { method: 'GET', path: this.request.path });
            this.ended = true;
            break;
          }
          const delay = Math.min(reconnectMaxMs, reconnectBaseMs * 2 ** (failures - 1));
          (logger ?? silentLogger).debug('stream dropped; resuming', { path: this.request.path, after: this.lastSeq });
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    } finally {
      this.#running = false;
      this.#notify();
    }
  }

  close() {
    this.#controller.abort();
  }

  /** Events after `after`, at most `max`; `dropped` when the cursor is older than the buffer. */
  slice(after: number | undefined, max: number): { events: StreamEvent[]; dropped: boolean } {
    const dropped = after !== undefined && after < this.droppedUpTo;
    const out: StreamEvent[] = [];
    for (const { ev } of this.events) {
      if (after !== undefined && ev.seq <= after) continue;
      out.push(ev);
      if (out.length >= max) break;
    }
    return { events: out, dropped };
  }
}

export function streamKey(req: StreamRequest): string {
  const q = Object.entries(req.query ?? {})
    .filter(([, v]) => v !== undefined && v !== null)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join('&');
  return q ? `${req.path}?${q}` : req.path;
}

export class StreamHub {
  readonly #streams = new Map<string, Stream>();
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;

  constructor(
    readonly client: KernelClient,
    readonly options: HubOptions,
  ) {
    this.#sweeper = setInterval(() => this.sweep(), Math.max(250, Math.min(options.idleMs / 4, 10_000)));
    this.#sweeper.unref();
  }

  get(req: StreamRequest): Stream {
    const key = streamKey(req);
    let s = this.#streams.get(key);
    if (!s) {
      s = new Stream(this, req);
      this.#streams.set(key, s);
    }
    return s;
  }

  /** Streams with an open upstream connection. */
  openCount(): number {
    let n = 0;
    for (const s of this.#streams.values()) if (s.open) n++;
    return n;
  }

  /** Reads events after a cursor; waits up to maxWaitMs for the first one when none are buffered. */
  async read(req: StreamRequest, opts: ReadOptions): Promise<ReadResult> {
    if (this.#closed) throw new Error('the server is shutting down');
    const stream = this.get(req);
    stream.ensureOpen();
    const started = Date.now();
    let slice = stream.slice(opts.after, opts.maxEvents);
    if (slice.events.length === 0 && !stream.ended && opts.maxWaitMs > 0) {
      await new Promise<void>((resolve) => {
        let tick: NodeJS.Timeout | undefined;
        const done = () => {
          unsubscribe();
          clearTimeout(timer);
          clearInterval(tick);
          opts.signal?.removeEventListener('abort', done);
          resolve();
        };
        const unsubscribe = stream.subscribe(() => {
          if (stream.slice(opts.after, 1).events.length > 0 || stream.ended || !stream.open) done();
        });
        const timer = setTimeout(done, opts.maxWaitMs);
        if (opts.onWait) tick = setInterval(() => opts.onWait?.(Date.now() - started), 1000);
        opts.signal?.addEventListener('abort', done, { once: true });
      });
      slice = stream.slice(opts.after, opts.maxEvents);
    }
    stream.lastUsed = Date.now();
    if (stream.error && slice.events.length === 0) throw stream.error;
    const last = slice.events.at(-1);
    const drained = stream.ended && (last ? last.seq >= stream.lastSeq : true);
    return {
      events: slice.events,
      cursor: last ? last.seq : (opts.after ?? null),
      ended: drained,
      dropped: slice.dropped,
    };
  }

  /** Closes upstream connections nobody has read or listened to for idleMs. */
  sweep(now = Date.now()) {
    for (const [key, s] of this.#streams) {
      if (s.listenerCount > 0) continue;
      if (now - s.lastUsed >= this.options.idleMs) {
        s.close();
        this.#streams.delete(key);
      }
    }
  }

  close() {
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const s of this.#streams.values()) s.close();
    this.#streams.clear();
  }
}
