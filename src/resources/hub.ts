/**
 * The stream hub: at most one upstream connection per event stream, a bounded buffer of events with their sequence
 * ids, resume with Last-Event-ID after a drop (with backoff, without gaps or duplicates), and reads from a cursor.
 * Stream tools and stream resources both read through it.
 *
 * Lifetime of an upstream connection: it opens on the first read or subscription, stays open while a subscriber
 * listens or a reader waits, and closes when the last subscriber leaves (and nobody is waiting), when nobody has
 * read or listened for `idleMs` (the stream and its buffer are then forgotten), when the upstream ends the stream
 * (the resource ended), or when the hub closes. A stream whose upstream was closed keeps its buffer until it idles
 * out; the next read or subscription reopens it with `Last-Event-ID`, so a cursor never skips events. A read with a
 * cursor on a stream the hub does not hold (after an idle sweep or a restart) resumes upstream from that cursor.
 */
import { type KernelClient, lazySleep, type QueryValue, type SseEvent } from '../kernel/client.js';
import { KernelError } from '../kernel/errors.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';

export interface StreamEvent {
  /** Sequence id: the upstream `id:` (numeric in Kernel streams), or a local counter when the upstream sends none. */
  seq: number;
  /** The event's data, parsed as JSON when it is JSON. */
  data: unknown;
  /** The SSE `event:` name, when the upstream sets one. */
  type?: string;
}

export interface StreamRequest {
  /** The expanded path, e.g. `/browsers/abc/logs/stream`. With the query, it identifies the stream. */
  path: string;
  query?: Record<string, QueryValue>;
}

export interface ReadOptions {
  /** Return events with seq greater than this. Undefined: from the oldest buffered event. */
  after?: number;
  maxEvents: number;
  /** How long to wait for a first event when none are buffered after the cursor. */
  maxWaitMs: number;
  signal?: AbortSignal;
  /** Called about once a second while waiting, with the time waited so far. */
  onWait?: (elapsedMs: number) => void;
}

export interface ReadResult {
  events: StreamEvent[];
  /** The cursor for the next read: the last returned seq, or the given cursor when nothing came. */
  cursor: number | null;
  /** The upstream ended the stream and every event after the cursor has been returned. */
  ended: boolean;
  /** Events after the cursor had already left the buffer: these are the oldest kept ones. */
  dropped: boolean;
  /** Why the upstream connection broke, while it is being resumed and nothing new has come since. */
  resuming?: string;
}

export interface HubOptions {
  /** The most events kept per stream. */
  bufferEvents: number;
  /** The most bytes of event data kept per stream (the newest event is always kept). */
  bufferBytes: number;
  /** Close and forget a stream nobody has read or listened to for this long. */
  idleMs: number;
  logger?: Logger;
  /** Reconnect backoff: first delay and ceiling, in ms. */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /**
   * Give up after this many failed connection attempts in a row (the next read or subscription tries again); a
   * stream with subscribers keeps trying at the longest backoff.
   */
  maxReconnects?: number;
  /** How often to look for idle streams (default: a quarter of idleMs, between 250 ms and 10 s). */
  sweepEveryMs?: number;
}

type Listener = () => void;

/** `idle`: no upstream connection (not opened yet, or closed by the hub); the others say why it is not running. */
export type StreamState = 'idle' | 'running' | 'ended' | 'failed';

/** Events in arrival order, with O(1) removal from the front. */
class EventQueue {
  #items: { ev: StreamEvent; bytes: number }[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: { ev: StreamEvent; bytes: number }) {
    this.#items.push(item);
  }

  shift(): { ev: StreamEvent; bytes: number } | undefined {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent (only called on a non-empty queue).
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head++];
    // Stryker disable next-line all: when the consumed front is dropped only changes memory use, not what the queue holds.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  first(): StreamEvent | undefined {
    return this.#items[this.#head]?.ev;
  }

  last(): StreamEvent | undefined {
    return this.#items.at(-1)?.ev;
  }

  /** Index of the first event with seq > after (binary search: seqs increase). */
  indexAfter(after: number): number {
    let lo = this.#head;
    let hi = this.#items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      // Stryker disable next-line OptionalChaining: equivalent (mid is always inside the queue).
      if ((this.#items[mid]?.ev.seq ?? 0) <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo - this.#head;
  }

  slice(from: number, count: number): StreamEvent[] {
    const start = this.#head + from;
    return this.#items.slice(start, start + count).map((i) => i.ev);
  }

  // Stryker disable next-line BlockStatement: equivalent (a disposed stream is forgotten; its buffer only waits for the collector).
  clear() {
    this.#items = [];
    this.#head = 0;
  }
}

/** SSE heartbeats carry no information for an agent: they are not buffered and wake nobody. */
function isHeartbeat(data: unknown): boolean {
  return !!data && typeof data === 'object' && (data as { event?: unknown }).event === 'sse_heartbeat';
}

export class Stream {
  readonly key: string;
  readonly #buffer = new EventQueue();
  #bytes = 0;
  #state: StreamState = 'idle';
  #error: KernelError | undefined;
  /** The last connection failure while resuming; cleared by the next new event. */
  #problem: KernelError | undefined;
  /** The highest seq no longer available here: evicted from the buffer, or before the point the stream resumed at. */
  #droppedUpTo = 0;
  /** The highest numeric upstream id seen (heartbeats included): anything at or below it is a duplicate. */
  #maxId = 0;
  /** The last upstream id seen, sent as Last-Event-ID on reconnect. */
  #resumeId: string | undefined;
  #localSeq = 0;
  #started = false;
  readonly #subscribers = new Set<Listener>();
  readonly #waiters = new Set<Listener>();
  #controller: AbortController | undefined;
  lastUsed = Date.now();

  constructor(
    readonly hub: StreamHub,
    readonly request: StreamRequest,
    key: string,
  ) {
    this.key = key;
  }

  get state(): StreamState {
    return this.#state;
  }

  /** True while an upstream connection is open or being re-established. */
  get open(): boolean {
    return this.#state === 'running';
  }

  get error(): KernelError | undefined {
    return this.#error;
  }

  get problem(): KernelError | undefined {
    return this.#problem;
  }

  get size(): number {
    return this.#buffer.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get droppedUpTo(): number {
    return this.#droppedUpTo;
  }

  /** The newest buffered seq (0 when nothing was ever buffered). */
  get lastSeq(): number {
    return this.#buffer.last()?.seq ?? this.#droppedUpTo;
  }

  get firstSeq(): number | undefined {
    return this.#buffer.first()?.seq;
  }

  get waiterCount(): number {
    return this.#waiters.size;
  }

  /** Nobody listens and nobody waits. */
  get unused(): boolean {
    return this.#subscribers.size === 0 && this.#waiters.size === 0;
  }

  /**
   * A persistent listener (a resource subscription): keeps the upstream connection open and is called after every
   * change (new events, end, failure). Returns the function that removes it; when the last subscriber leaves and no
   * reader waits, the upstream connection closes.
   */
  subscribe(fn: Listener): () => void {
    this.#subscribers.add(fn);
    this.ensureOpen();
    let live = true;
    return () => {
      if (!live) return;
      live = false;
      this.#subscribers.delete(fn);
      this.lastUsed = Date.now();
      if (this.unused) this.closeUpstream();
    };
  }

  /** A transient listener (a read waiting for events): keeps the connection open while it waits. */
  wait(fn: Listener): () => void {
    this.#waiters.add(fn);
    return () => {
      this.#waiters.delete(fn);
      this.lastUsed = Date.now();
    };
  }

  /** Tells waiters (and subscribers, unless only the connection closed: that is no news for them) of a change. */
  #changed(waitersOnly = false) {
    for (const fn of waitersOnly ? [...this.#waiters] : [...this.#waiters, ...this.#subscribers]) {
      try {
        fn();
      } catch (err) {
        (this.hub.options.logger ?? silentLogger).debug('stream listener failed', { error: String(err) });
      }
    }
  }

  /** Takes one upstream event: drops duplicates and heartbeats, assigns the seq, keeps the buffer in bounds. */
  accept(raw: SseEvent): boolean {
    const idNum = raw.id !== undefined && /^\d+$/.test(raw.id) ? Number(raw.id) : undefined;
    if (idNum !== undefined) {
      if (idNum <= this.#maxId) return false; // already seen: a replay after a resume
      this.#maxId = idNum;
    }
    if (raw.id !== undefined && raw.id !== '') this.#resumeId = raw.id;
    let data: unknown = raw.data;
    try {
      data = JSON.parse(raw.data);
    } catch {}
    if (isHeartbeat(data)) return false;
    const seq = idNum ?? Math.max(this.#localSeq, this.#maxId, this.lastSeq) + 1;
    this.#localSeq = seq;
    const ev: StreamEvent = { seq, data, ...(raw.event && raw.event !== 'message' ? { type: raw.event } : {}) };
    const bytes = Buffer.byteLength(raw.data) + 64;
    this.#buffer.push({ ev, bytes });
    this.#bytes += bytes;
    const { bufferEvents, bufferBytes } = this.hub.options;
    while (this.#buffer.length > bufferEvents || (this.#bytes > bufferBytes && this.#buffer.length > 1)) {
      const old = this.#buffer.shift();
      // Stryker disable next-line ConditionalExpression: equivalent (the loop only shifts a non-empty buffer).
      if (!old) break;
      this.#bytes -= old.bytes;
      this.#droppedUpTo = old.ev.seq;
    }
    this.#changed();
    return true;
  }

  /**
   * Starts the upstream connection unless it is running or the stream ended. A failed stream is retried (errors are
   * never cached). `from`: the cursor of the read that asks, used as the resume point when this stream has never
   * connected, so that a cursor from an earlier connection continues where it left off.
   */
  ensureOpen(from?: number) {
    this.lastUsed = Date.now();
    if (this.hub.closed || this.#state === 'running' || this.#state === 'ended') return;
    if (!this.#started && from !== undefined && from > 0) {
      this.#droppedUpTo = from;
      this.#maxId = from;
      this.#localSeq = from;
      this.#resumeId = String(from);
    }
    this.#started = true;
    this.#state = 'running';
    this.#error = undefined;
    const controller = new AbortController();
    this.#controller = controller;
    void this.#run(controller);
  }

  async #run(controller: AbortController) {
    const signal = controller.signal;
    const { logger = silentLogger, reconnectBaseMs = 250, reconnectMaxMs = 5000, maxReconnects = 8 } = this.hub.options;
    const client = this.hub.client;
    let failures = 0;
    // Stryker disable next-line ObjectLiteral,StringLiteral: equivalent (the loop sets it unless the connection was closed, which sets idle).
    let outcome: { state: StreamState; error?: KernelError } = { state: 'idle' };
    try {
      while (!signal.aborted) {
        let got = false;
        try {
          const resumeId = this.#resumeId;
          for await (const raw of client.stream({
            method: 'GET',
            path: this.request.path,
            ...(this.request.query ? { query: this.request.query } : {}),
            // Stryker disable next-line ConditionalExpression: equivalent (the client sends no Last-Event-ID for an undefined one).
            ...(resumeId !== undefined ? { lastEventId: resumeId } : {}),
            signal,
          })) {
            if (signal.aborted) break;
            // Progress is a new event: an upstream that only replays what we have is failing.
            if (this.accept(raw)) {
              // Stryker disable next-line BooleanLiteral: equivalent (progress also resets failures to 0, so the next failure counts 1 either way).
              got = true;
              failures = 0;
              this.#problem = undefined;
            }
          }
          // The upstream closed the stream cleanly: the resource ended (the browser was deleted, the flow finished).
          // Stryker disable next-line ConditionalExpression: equivalent (a closed connection's state is idle whatever the outcome).
          if (!signal.aborted) outcome = { state: 'ended' };
          break;
        } catch (err) {
          if (signal.aborted) break;
          const e =
            err instanceof KernelError
              ? err
              : new KernelError('network', String(err), { method: 'GET', path: this.request.path, cause: err });
          const refused =
            e.kind === 'api' && e.status !== undefined && e.status < 500 && e.status !== 429 && e.status !== 408;
          if (refused || e.kind === 'invalid_request') {
            outcome = { state: 'failed', error: e };
            break;
          }
          failures = got ? 1 : failures + 1;
          this.#problem = e;
          // A subscribed stream keeps trying (at the longest backoff): a subscription means "keep watching".
          if (failures > maxReconnects && this.#subscribers.size === 0) {
            outcome = { state: 'failed', error: e };
            break;
          }
          const backoff = Math.min(reconnectMaxMs, reconnectBaseMs * 2 ** (failures - 1));
          const delay =
            e.retryAfterSeconds !== undefined
              ? Math.min(60_000, Math.max(backoff, e.retryAfterSeconds * 1000))
              : backoff * (0.5 + Math.random() / 2);
          logger.debug('stream dropped; resuming', {
            path: this.request.path,
            lastEventId: this.#resumeId,
            attempt: failures,
            delayMs: Math.round(delay),
            error: e.message,
          });
          try {
            await lazySleep(delay, signal);
          } catch {
            break;
          }
        }
      }
    } catch (err) {
      outcome = {
        state: 'failed',
        error: new KernelError('network', String(err), { method: 'GET', path: this.request.path, cause: err }),
      };
    } finally {
      // A newer connection may have started after this one was closed: only the current one sets the state.
      if (this.#controller === controller) {
        this.#controller = undefined;
        this.#state = signal.aborted ? 'idle' : outcome.state;
        this.#error = signal.aborted ? undefined : outcome.error;
        if (this.#state === 'ended') logger.debug('stream ended', { path: this.request.path, lastSeq: this.lastSeq });
        if (this.#state === 'failed') {
          // Stryker disable next-line OptionalChaining: equivalent (a failed stream always has its error).
          logger.debug('stream failed', { path: this.request.path, error: this.#error?.message });
        }
        this.#changed(this.#state === 'idle');
      }
    }
  }

  /** Closes the upstream connection; the buffer stays until the stream idles out. */
  closeUpstream() {
    const controller = this.#controller;
    if (!controller) return;
    this.#controller = undefined;
    // Stryker disable next-line ConditionalExpression: equivalent (a connection, hence a controller, exists only while running).
    if (this.#state === 'running') this.#state = 'idle';
    controller.abort();
    this.#changed(true);
  }

  /** Events after `after`, at most `max`; `dropped` when events after the cursor are no longer here. */
  slice(after: number | undefined, max: number): { events: StreamEvent[]; dropped: boolean } {
    // Stryker disable next-line ConditionalExpression: equivalent (indexAfter(undefined) is 0 too).
    const from = after === undefined ? 0 : this.#buffer.indexAfter(after);
    return { events: this.#buffer.slice(from, max), dropped: (after ?? 0) < this.#droppedUpTo };
  }

  /** Whether a read from `after` has something to return now (events, or the end, or the failure). */
  hasNews(after: number | undefined): boolean {
    if (this.#state === 'ended' || this.#state === 'failed' || this.#state === 'idle') return true;
    const last = this.#buffer.last();
    return !!last && (after === undefined || last.seq > after);
  }

  dispose() {
    this.closeUpstream();
    this.#buffer.clear();
    this.#bytes = 0;
  }
}

export function streamKey(req: StreamRequest): string {
  const q = Object.entries(req.query ?? {})
    .filter(([, v]) => v !== undefined && v !== null)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
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
    const every = options.sweepEveryMs ?? Math.max(250, Math.min(options.idleMs / 4, 10_000));
    this.#sweeper = setInterval(() => this.sweep(), every);
    this.#sweeper.unref();
  }

  get closed(): boolean {
    return this.#closed;
  }

  #assertOpen() {
    if (this.#closed) throw new Error('The server is shutting down: streams are closed.');
  }

  /** The stream for a request, created (without connecting) when the hub does not hold it. */
  get(req: StreamRequest): Stream {
    this.#assertOpen();
    const key = streamKey(req);
    let s = this.#streams.get(key);
    if (!s) {
      s = new Stream(this, req, key);
      this.#streams.set(key, s);
    }
    return s;
  }

  /** The stream for a request if the hub holds it. */
  peek(req: StreamRequest): Stream | undefined {
    return this.#streams.get(streamKey(req));
  }

  /** Streams with an open (or reconnecting) upstream connection. */
  openCount(): number {
    let n = 0;
    for (const s of this.#streams.values()) if (s.open) n++;
    return n;
  }

  /** Streams held (open or not). */
  get size(): number {
    return this.#streams.size;
  }

  /** Subscribes to a stream (opening it); see Stream.subscribe. */
  subscribe(req: StreamRequest, fn: Listener): () => void {
    return this.get(req).subscribe(fn);
  }

  /**
   * Reads events after a cursor: at once when some are buffered, otherwise waiting up to maxWaitMs for the first one
   * (or the end of the stream, or its failure, or cancellation). Throws the upstream error when the stream failed
   * and nothing is left to return.
   */
  async read(req: StreamRequest, opts: ReadOptions): Promise<ReadResult> {
    const stream = this.get(req);
    stream.ensureOpen(opts.after);
    const started = Date.now();
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent (a wait of 0 ms answers the same).
    if (!stream.hasNews(opts.after) && opts.maxWaitMs > 0 && !opts.signal?.aborted) {
      await new Promise<void>((resolve) => {
        let tick: NodeJS.Timeout | undefined;
        let stop: () => void = () => {};
        const done = () => {
          stop();
          clearTimeout(timer);
          clearInterval(tick);
          // Stryker disable next-line StringLiteral: equivalent (a listener left behind calls done again, which does nothing more).
          opts.signal?.removeEventListener('abort', done);
          resolve();
        };
        stop = stream.wait(() => {
          // Stryker disable next-line ConditionalExpression: equivalent (a stream only tells its waiters of news: an event, its end or its closing).
          if (stream.hasNews(opts.after)) done();
        });
        const timer = setTimeout(done, opts.maxWaitMs);
        // Stryker disable next-line ConditionalExpression: equivalent (the call inside is optional-chained).
        if (opts.onWait) {
          tick = setInterval(() => {
            try {
              // Stryker disable next-line OptionalChaining: equivalent (inside the check for onWait).
              opts.onWait?.(Date.now() - started);
            } catch {}
          }, 1000);
        }
        // Stryker disable next-line ObjectLiteral,BooleanLiteral: equivalent (done removes the listener itself).
        opts.signal?.addEventListener('abort', done, { once: true });
      });
    }
    stream.lastUsed = Date.now();
    const { events, dropped } = stream.slice(opts.after, opts.maxEvents);
    if (events.length === 0 && stream.state === 'failed' && stream.error) throw stream.error;
    const last = events.at(-1);
    const problem = events.length === 0 && stream.state === 'running' ? stream.problem : undefined;
    return {
      events,
      cursor: last ? last.seq : (opts.after ?? null),
      ended: stream.state === 'ended' && (last ? last.seq >= stream.lastSeq : true),
      dropped,
      ...(problem ? { resuming: problem.message } : {}),
    };
  }

  /** Closes and forgets streams nobody has read or listened to for idleMs. */
  sweep(now = Date.now()) {
    for (const [key, s] of this.#streams) {
      if (!s.unused) continue;
      if (now - s.lastUsed >= this.options.idleMs) {
        s.dispose();
        this.#streams.delete(key);
      }
    }
  }

  /** Closes every upstream connection; reads and subscriptions fail from now on. */
  close() {
    // Stryker disable next-line ConditionalExpression: equivalent (closing twice finds nothing left to close).
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const s of this.#streams.values()) s.dispose();
    this.#streams.clear();
  }
}
