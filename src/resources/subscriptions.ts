/**
 * Resource subscriptions: a set of stream resource URIs somebody watches. Each URI holds its hub stream open (a hub
 * subscriber) and turns new events into `notifications/resources/updated` through one publish function, coalesced
 * per URI so a busy stream cannot flood a client: at most one notification per `coalesceMs`, and the last change
 * in a window is always announced.
 *
 * Who owns one:
 * - a 2025-era connection (stdio, or a legacy HTTP session): `resources/subscribe` / `resources/unsubscribe`, with
 *   `publish = uri => server.server.sendResourceUpdated({ uri })` (see registerResources);
 * - a 2026-07-28 stdio connection: the URIs of its open `subscriptions/listen` streams (see ListenTracker), same
 *   publish (serveStdio routes the notification onto the listen streams that named the URI);
 * - 2026-07-28 HTTP: one per process, `publish = uri => handler.notify.resourceUpdated(uri)`, with
 *   `retain(listenRequestUris(body))` while a listen stream is open and the release when it closes.
 */
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { StreamHub } from './hub.js';
import { resolveAnyStreamUri } from './streams.js';

/** Delivers `notifications/resources/updated` for one URI: the single seam every transport plugs into. */
export type PublishResourceUpdated = (uri: string) => void | Promise<void>;

export interface SubscriptionOptions {
  /** The shortest time between two notifications for one URI (default 250 ms). */
  coalesceMs?: number;
  logger?: Logger;
}

interface Entry {
  refs: number;
  release: () => void;
  timer: NodeJS.Timeout | undefined;
  lastSent: number;
}

export class ResourceSubscriptions {
  readonly #entries = new Map<string, Entry>();
  readonly #coalesceMs: number;
  readonly #logger: Logger;
  #closed = false;

  constructor(
    readonly hub: StreamHub,
    readonly publish: PublishResourceUpdated,
    options: SubscriptionOptions = {},
  ) {
    this.#coalesceMs = options.coalesceMs ?? 250;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Subscribed URIs. */
  get uris(): string[] {
    return [...this.#entries.keys()];
  }

  get size(): number {
    return this.#entries.size;
  }

  has(uri: string): boolean {
    return this.#entries.has(uri);
  }

  /**
   * Watches URIs (counted: the same URI retained twice needs two releases). Throws StreamUriError for a URI that is
   * not a stream resource when `strict`; otherwise skips it. Returns the (idempotent) release.
   */
  retain(uris: readonly string[], strict = false): () => void {
    if (this.#closed) return () => {};
    const held: string[] = [];
    for (const uri of new Set(uris)) {
      const existing = this.#entries.get(uri);
      if (existing) {
        existing.refs++;
        held.push(uri);
        continue;
      }
      let request: ReturnType<typeof resolveAnyStreamUri>['request'];
      try {
        request = resolveAnyStreamUri(uri).request;
      } catch (err) {
        if (strict) {
          for (const u of held) this.#drop(u);
          throw err;
        }
        this.#logger.debug('not a stream resource; no updates will be sent for it', { uri });
        continue;
      }
      const entry: Entry = { refs: 1, release: () => {}, timer: undefined, lastSent: 0 };
      try {
        entry.release = this.hub.subscribe(request, () => this.#changed(uri, entry));
      } catch (err) {
        // The hub is closed (shutting down): nothing to watch.
        this.#logger.debug('cannot subscribe', { uri, error: String(err) });
        if (strict) {
          for (const u of held) this.#drop(u);
          throw err;
        }
        continue;
      }
      this.#entries.set(uri, entry);
      held.push(uri);
    }
    let live = true;
    return () => {
      if (!live) return;
      live = false;
      for (const uri of held) this.#drop(uri);
    };
  }

  #drop(uri: string) {
    const entry = this.#entries.get(uri);
    if (!entry) return;
    if (--entry.refs > 0) return;
    this.#entries.delete(uri);
    clearTimeout(entry.timer);
    entry.release();
  }

  #changed(uri: string, entry: Entry) {
    if (this.#entries.get(uri) !== entry || entry.timer) return;
    const wait = entry.lastSent + this.#coalesceMs - Date.now();
    if (wait <= 0) {
      this.#send(uri, entry);
      return;
    }
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (this.#entries.get(uri) === entry) this.#send(uri, entry);
    }, wait);
    entry.timer.unref?.();
  }

  #send(uri: string, entry: Entry) {
    entry.lastSent = Date.now();
    try {
      const sent = this.publish(uri);
      if (sent && typeof (sent as Promise<void>).catch === 'function') {
        (sent as Promise<void>).catch((err: unknown) =>
          this.#logger.debug('resource update not delivered', { uri, error: String(err) }),
        );
      }
    } catch (err) {
      this.#logger.debug('resource update not delivered', { uri, error: String(err) });
    }
  }

  /** Drops every subscription (the connection closed). */
  close() {
    this.#closed = true;
    for (const [uri, entry] of this.#entries) {
      this.#entries.delete(uri);
      clearTimeout(entry.timer);
      entry.release();
    }
  }
}
