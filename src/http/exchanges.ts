/**
 * Requests and streams are counted apart: a request in flight (a POST being read and answered, a DELETE) counts
 * against --max-concurrent-requests; an open stream (a 2025 GET stream, a 2026-07-28 listen stream) against
 * --max-open-streams and, for a passthrough key, --max-client-streams. So clients holding streams never lock others
 * out of calls. Each stream gets a heartbeat (an SSE comment between events, so a dead peer is found when the write
 * fails) and a lifetime (--stream-max-ms; the client reconnects, resuming with Last-Event-ID).
 */
import type { ServerResponse } from 'node:http';
import type { NodeServerResponseLike } from '@modelcontextprotocol/node';
import type { Config } from '../config.js';

/** How often an idle stream gets a heartbeat comment. */
export const STREAM_HEARTBEAT_MS = 15_000;
const HEARTBEAT = ': keep-alive\n\n';

export interface StreamOwner {
  streams: number;
  readonly limited: boolean;
}

type Limits = Pick<Config, 'maxConcurrentRequests' | 'maxOpenStreams' | 'maxClientStreams' | 'streamMaxMs'>;

/** Told when a request starts and when no request (streams aside) is left in flight. */
export interface Activity {
  busy(): void;
  idle(): void;
}

export class Exchanges {
  requests = 0;
  streams = 0;
  /** Every exchange still open (for the shutdown event). */
  readonly open = new Set<Exchange>();
  #idle: (() => void)[] = [];

  /** Every 15 s, or more often for streams that live shorter (a few beats per lifetime). */
  readonly heartbeatMs: number;

  constructor(
    readonly limits: Limits,
    readonly activity?: Activity,
  ) {
    this.heartbeatMs = Math.min(STREAM_HEARTBEAT_MS, Math.max(100, Math.floor(limits.streamMaxMs / 3)));
  }

  /** Counts `res` as a request in flight until it closes; false when at the bound (nothing counted). */
  startRequest(res: ServerResponse): Exchange | undefined {
    if (this.requests >= this.limits.maxConcurrentRequests) return undefined;
    this.requests++;
    this.activity?.busy();
    const ex = new Exchange(this, res, 'request');
    res.once('close', () => ex.end());
    return ex;
  }

  /** Counts `res` as an open stream of `owner` until it closes; the reason when a bound refuses it. */
  startStream(res: ServerResponse, owner: StreamOwner, from?: Exchange): Exchange | string {
    const refused = this.#streamRefusal(owner);
    if (refused) return refused;
    if (from) {
      from.convert(owner);
      return from;
    }
    const ex = new Exchange(this, res, 'request');
    ex.kind = 'stream';
    ex.owner = owner;
    this.streams++;
    owner.streams++;
    res.once('close', () => ex.end());
    return ex;
  }

  /** Resolves once no request (streams aside) is in flight. */
  requestsDone(): Promise<void> {
    if (this.requests === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** @internal An exchange ended. */
  ended(ex: Exchange) {
    this.open.delete(ex);
    this.requestsChanged();
  }

  /** @internal The count of requests in flight went down. */
  requestsChanged() {
    if (this.requests !== 0) return;
    for (const resolve of this.#idle.splice(0)) resolve();
    this.activity?.idle();
  }

  /** Writes `event` (a whole SSE event) on every open event-stream answer, between two events. */
  announce(event: string) {
    for (const ex of this.open) ex.announce(event);
  }

  #streamRefusal(owner: StreamOwner): string | undefined {
    if (this.streams >= this.limits.maxOpenStreams) return 'Server busy: too many open streams';
    if (owner.limited && owner.streams >= this.limits.maxClientStreams) {
      return `Too many open streams for this key (at most ${this.limits.maxClientStreams}): close one first`;
    }
    return undefined;
  }
}

export class Exchange {
  owner: StreamOwner | undefined;
  #ended = false;
  #timers: NodeJS.Timeout[] = [];
  /** The last chunk written ended an SSE event: a comment may go in between. */
  #atBoundary = true;
  /** Its answer is an event stream whose headers are out. */
  #sse = false;

  constructor(
    readonly exchanges: Exchanges,
    readonly res: ServerResponse,
    public kind: 'request' | 'stream',
  ) {
    exchanges.open.add(this);
  }

  /** Writes a whole SSE event between two events of an open event-stream answer. */
  announce(event: string) {
    if (this.#ended || !this.#sse || !this.#atBoundary || this.res.destroyed || this.res.writableEnded) return;
    this.res.write(event);
  }

  /** A request that turned out to open a stream (a listen): counted as a stream from now on. */
  convert(owner: StreamOwner) {
    if (this.kind === 'stream' || this.#ended) return;
    this.exchanges.requests--;
    this.exchanges.streams++;
    owner.streams++;
    this.kind = 'stream';
    this.owner = owner;
    this.exchanges.requestsChanged();
  }

  end() {
    if (this.#ended) return;
    this.#ended = true;
    for (const t of this.#timers) clearTimeout(t);
    if (this.kind === 'request') this.exchanges.requests--;
    else {
      this.exchanges.streams--;
      if (this.owner) this.owner.streams--;
    }
    this.exchanges.ended(this);
  }

  /**
   * The response as the SDK's Node adapter sees it: an SSE response's headers are sent at once (Node holds them back
   * until the first body write, and a GET stream may stay silent for long), and a stream gets its heartbeat and its
   * lifetime once its SSE headers are out.
   */
  response(): NodeServerResponseLike {
    const res = this.res;
    return {
      writeHead: (status, headers) => {
        res.writeHead(status, headers);
        if (headers?.['content-type']?.startsWith('text/event-stream')) {
          res.flushHeaders();
          this.#sse = true;
          if (this.kind === 'stream') this.#keepAlive();
        }
        return res;
      },
      write: (chunk) => {
        const tail = typeof chunk === 'string' ? chunk.slice(-2) : String.fromCharCode(...chunk.subarray(-2));
        this.#atBoundary = tail === '\n\n';
        return res.write(chunk);
      },
      end: (chunk) => res.end(chunk),
      on: (event, listener) => res.on(event, listener),
      get destroyed() {
        return res.destroyed;
      },
    };
  }

  #keepAlive() {
    const { heartbeatMs, limits } = this.exchanges;
    const beat = setInterval(() => {
      if (this.res.destroyed || this.res.writableEnded) return;
      if (this.#atBoundary) this.res.write(HEARTBEAT);
    }, heartbeatMs);
    beat.unref();
    // The client reconnects a stream that ends (2025 GET streams resume with Last-Event-ID).
    const lifetime = setTimeout(() => this.res.destroy(), limits.streamMaxMs);
    lifetime.unref();
    this.#timers.push(beat, lifetime);
  }
}
