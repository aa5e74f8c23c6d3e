/**
 * The notification port: how list changes and resource updates leave this server for one client. Each transport
 * hands `createServer` one, owned by whoever owns the client connection (a stdio connection, an HTTP tenant's
 * 2026-07-28 listen streams, a 2025 HTTP session). Its subscription set holds the URIs the client watches, whether by
 * `resources/subscribe` (2025) or by `subscriptions/listen` (2026-07-28).
 */
import type { McpServer } from '@modelcontextprotocol/server';
import type { Logger } from '../log.js';
import type { StreamHub } from './hub.js';
import { ResourceSubscriptions } from './subscriptions.js';

export interface NotificationPort {
  /** The stream resources this client watches; their updates leave through this port. */
  readonly subscriptions: ResourceSubscriptions;
  /** Announces `notifications/resources/list_changed` (to clients that opted in). */
  resourcesChanged(): void;
}

/**
 * A port whose notifications go out through the one McpServer instance serving the connection: a stdio connection
 * (serveStdio routes them onto a 2026-07-28 connection's listen streams) or a 2025 HTTP session (its GET stream).
 */
export class InstancePort implements NotificationPort {
  readonly subscriptions: ResourceSubscriptions;
  readonly #logger: Logger;
  #server: McpServer | undefined;

  constructor(hub: StreamHub, logger: Logger) {
    this.#logger = logger;
    this.subscriptions = new ResourceSubscriptions(hub, (uri) => this.#server?.server.sendResourceUpdated({ uri }), {
      logger,
    });
  }

  /** The instance now serving the connection (serveStdio may build a probe instance before it); returns it. */
  serve(server: McpServer): McpServer {
    this.#server = server;
    const previous = server.server.onclose;
    server.server.onclose = () => {
      previous?.();
      if (this.#server === server) this.#server = undefined;
    };
    return server;
  }

  resourcesChanged(): void {
    const server = this.#server;
    if (!server?.isConnected()) return;
    server.server.sendResourceListChanged().catch((err: unknown) => {
      this.#logger.debug('resource list change not sent', { error: String(err) });
    });
  }

  /** The connection ended: its subscriptions release their upstream streams. */
  close(): void {
    this.subscriptions.close();
  }
}

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
