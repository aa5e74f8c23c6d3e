/**
 * MCP over stdio: `serveStdio` serves one connection (either era) from createServer. The connection owns its
 * notification port; its 2026-07-28 `subscriptions/listen` streams are served by serveStdio itself, so the transport
 * is watched on the wire to hold their resource URIs in the port's subscription set while they are open.
 */
import type { JSONRPCMessage, Transport, TransportSendOptions } from '@modelcontextprotocol/server';
import { StdioServerTransport, serveStdio } from '@modelcontextprotocol/server/stdio';
import type { Config } from './config.js';
import { InstancePort, listenRequestUris } from './resources/notifications.js';
import type { ResourceSubscriptions } from './resources/subscriptions.js';
import { createServer, type ServerDeps } from './server.js';

export function serveStdioConnection(
  config: Config,
  deps: ServerDeps,
  transport: Transport = new StdioServerTransport(),
): { close(): Promise<void> } {
  const port = new InstancePort(deps.hub, deps.logger);
  return serveStdio(() => port.serve(createServer(config, deps, port)), {
    transport: new ListenWatchingTransport(transport, new ListenStreams(port.subscriptions), () => port.close()),
    onerror: (err) => deps.logger.debug('stdio transport error', { error: err.message }),
  });
}

type Id = string | number;

/** The open listen streams of one connection, by request id, each holding its URIs in the subscription set. */
export class ListenStreams {
  readonly #open = new Map<Id, () => void>();

  constructor(readonly subscriptions: ResourceSubscriptions) {}

  /** Open listen streams. */
  get size(): number {
    return this.#open.size;
  }

  /** A listen stream opened (inbound `subscriptions/listen`). */
  open(id: Id, uris: readonly string[]) {
    this.end(id);
    this.#open.set(id, this.subscriptions.retain(uris));
  }

  /** A listen stream ended (cancelled by the client, refused, or closed by the server). */
  end(id: Id) {
    this.#open.get(id)?.();
    this.#open.delete(id);
  }

  /** Every listen stream ended (the connection closed). */
  clear() {
    for (const id of [...this.#open.keys()]) this.end(id);
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
}

/** The transport serveStdio owns, watched to see listen streams open and end; `onend` runs when it closes. */
class ListenWatchingTransport implements Transport {
  #onmessage: Transport['onmessage'];
  #onclose: Transport['onclose'];

  constructor(
    readonly inner: Transport,
    readonly listens: ListenStreams,
    readonly onend: () => void,
  ) {
    inner.onmessage = (message, extra) => {
      try {
        listens.observeInbound(message);
      } catch {}
      this.#onmessage?.(message, extra);
    };
    inner.onclose = () => {
      this.#ended();
      this.#onclose?.();
    };
  }

  #ended() {
    this.listens.clear();
    this.onend();
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
      this.#ended();
    }
  }
}
