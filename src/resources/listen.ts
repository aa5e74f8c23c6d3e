/**
 * 2026-07-28 subscriptions: a client names the resource URIs it wants updates for in a `subscriptions/listen`
 * request, which the SDK's serving entry handles itself (the server instance never sees it). The resource layer
 * only needs to know which URIs open listen streams ask for, to keep their upstream streams open and announce their
 * changes: a `ListenSource`. Over stdio, `StdioListens` is one, fed by watching the wire (it wraps the transport
 * handed to `serveStdio`); the HTTP entry has its own (src/http/listens.ts) fed from request bodies.
 */
import type { JSONRPCMessage, Transport, TransportSendOptions } from '@modelcontextprotocol/server';
import type { ResourceSubscriptions } from './subscriptions.js';

/** Which resource URIs a client's open listen streams ask for, with a callback as URIs come and go. */
export interface ListenSource {
  /** URIs at least one open listen stream asked for. */
  uris(): string[];
  /** Called with `(uri, true)` when the first stream for a URI opens and `(uri, false)` when the last one closes. */
  subscribe(fn: (uri: string, listening: boolean) => void): () => void;
}

/** Delivers an update to the listen streams that asked for the URI, where the server instance cannot (HTTP). */
export interface UpdateNotifier {
  resourceUpdated(uri: string): void;
  /** `notifications/resources/list_changed` to every listen stream that opted in (HTTP's handler notifier). */
  resourcesChanged?(): void;
}

type Id = string | number;

/** The resource URIs a `subscriptions/listen` request asks updates for, or undefined when it is not one. */
export function listenRequestUris(message: unknown): string[] | undefined {
  if (!message || typeof message !== 'object') return undefined;
  const m = message as {
    method?: unknown;
    id?: unknown;
    params?: { notifications?: { resourceSubscriptions?: unknown } };
  };
  if (m.method !== 'subscriptions/listen' || m.id === undefined) return undefined;
  const uris = m.params?.notifications?.resourceSubscriptions;
  return Array.isArray(uris) ? uris.filter((u): u is string => typeof u === 'string') : [];
}

/**
 * Keeps a subscription set in step with a listen source: the source's URIs are retained in `subs` until the source
 * drops them or the returned function unbinds.
 */
export function bindListens(source: ListenSource, subs: ResourceSubscriptions): () => void {
  const held = new Map<string, () => void>();
  const on = (uri: string, listening: boolean) => {
    if (listening) {
      if (!held.has(uri)) held.set(uri, subs.retain([uri]));
    } else {
      held.get(uri)?.();
      held.delete(uri);
    }
  };
  const unsubscribe = source.subscribe(on);
  for (const uri of source.uris()) on(uri, true);
  return () => {
    unsubscribe();
    for (const release of held.values()) release();
    held.clear();
  };
}

/** The listen streams of one stdio connection, seen on the wire. */
export class StdioListens implements ListenSource {
  readonly #listens = new Map<Id, string[]>();
  readonly #counts = new Map<string, number>();
  readonly #listeners = new Set<(uri: string, listening: boolean) => void>();

  /** Open listen streams. */
  get size(): number {
    return this.#listens.size;
  }

  uris(): string[] {
    return [...this.#counts.keys()];
  }

  subscribe(fn: (uri: string, listening: boolean) => void): () => void {
    this.#listeners.add(fn);
    return () => {
      this.#listeners.delete(fn);
    };
  }

  /** A listen stream opened (inbound `subscriptions/listen`). */
  open(id: Id, uris: readonly string[]) {
    this.end(id);
    const unique = [...new Set(uris)];
    this.#listens.set(id, unique);
    for (const uri of unique) {
      const n = (this.#counts.get(uri) ?? 0) + 1;
      this.#counts.set(uri, n);
      if (n === 1) this.#emit(uri, true);
    }
  }

  /** A listen stream ended (cancelled by the client, refused, or closed by the server). */
  end(id: Id) {
    const uris = this.#listens.get(id);
    if (!uris) return;
    this.#listens.delete(id);
    for (const uri of uris) {
      const n = (this.#counts.get(uri) ?? 1) - 1;
      if (n > 0) {
        this.#counts.set(uri, n);
        continue;
      }
      this.#counts.delete(uri);
      this.#emit(uri, false);
    }
  }

  /** Every listen stream ended (the connection closed). */
  clear() {
    for (const id of [...this.#listens.keys()]) this.end(id);
  }

  #emit(uri: string, listening: boolean) {
    for (const fn of [...this.#listeners]) {
      try {
        fn(uri, listening);
      } catch {}
    }
  }

  observeInbound(message: JSONRPCMessage) {
    const uris = listenRequestUris(message);
    const m = message as { id?: Id; method?: string; params?: { requestId?: Id } };
    if (uris !== undefined && m.id !== undefined) {
      this.open(m.id, uris);
      return;
    }
    if (m.method === 'notifications/cancelled' && m.params?.requestId !== undefined) this.end(m.params.requestId);
  }

  observeOutbound(message: JSONRPCMessage) {
    // A listen stream's only response is its end: the refusal (limit, bad filter) or the graceful close.
    const m = message as { id?: Id; method?: string };
    if (m.id !== undefined && m.method === undefined && ('result' in m || 'error' in m)) this.end(m.id);
  }

  /** Wraps the transport serveStdio owns, to see listen streams open and end. */
  wrap(inner: Transport): Transport {
    return new ObservedTransport(inner, this);
  }
}

class ObservedTransport implements Transport {
  #onmessage: Transport['onmessage'];
  #onclose: Transport['onclose'];

  constructor(
    readonly inner: Transport,
    readonly listens: StdioListens,
  ) {
    inner.onmessage = (message, extra) => {
      try {
        listens.observeInbound(message);
      } catch {}
      this.#onmessage?.(message, extra);
    };
    inner.onclose = () => {
      listens.clear();
      this.#onclose?.();
    };
  }

  get onmessage() {
    return this.#onmessage;
  }
  set onmessage(fn: Transport['onmessage']) {
    this.#onmessage = fn;
  }
  get onclose() {
    return this.#onclose;
  }
  set onclose(fn: Transport['onclose']) {
    this.#onclose = fn;
  }
  get onerror() {
    return this.inner.onerror;
  }
  set onerror(fn: Transport['onerror']) {
    this.inner.onerror = fn;
  }
  get sessionId() {
    return this.inner.sessionId;
  }
  get setProtocolVersion() {
    return this.inner.setProtocolVersion?.bind(this.inner);
  }
  get setSupportedProtocolVersions() {
    return this.inner.setSupportedProtocolVersions?.bind(this.inner);
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    try {
      this.listens.observeOutbound(message);
    } catch {}
    return this.inner.send(message, options);
  }

  async close(): Promise<void> {
    try {
      await this.inner.close();
    } finally {
      this.listens.clear();
    }
  }
}
