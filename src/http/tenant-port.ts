/**
 * The notification port of one HTTP tenant. Its 2026-07-28 clients are stateless and share it: the URIs their open
 * listen streams name are held in its subscription set, and updates go out on the tenant's own event bus (its
 * listen streams only). Each 2025 session keeps its own port and joins the tenant's list-change announcements, so a
 * change of the tenant's resources reaches every client of that tenant, either era, and no other tenant's.
 */
import { InMemoryServerEventBus } from '@modelcontextprotocol/server';
import type { Logger } from '../log.js';
import type { StreamHub } from '../resources/hub.js';
import type { InstancePort, NotificationPort } from '../resources/notifications.js';
import { ResourceSubscriptions } from '../resources/subscriptions.js';

export class TenantPort implements NotificationPort {
  /** The bus the tenant's `createMcpHandler` serves its listen streams from. */
  readonly bus: InMemoryServerEventBus;
  readonly subscriptions: ResourceSubscriptions;
  readonly #sessions = new Set<InstancePort>();

  constructor(hub: StreamHub, logger: Logger) {
    this.bus = new InMemoryServerEventBus((err) =>
      logger.debug('listen stream delivery failed', { error: err.message }),
    );
    this.subscriptions = new ResourceSubscriptions(hub, (uri) => this.bus.publish({ kind: 'resource_updated', uri }), {
      logger,
    });
  }

  /** Every client of the tenant hears it: its listen streams that opted in, and each 2025 session. */
  resourcesChanged(): void {
    this.bus.publish({ kind: 'resources_list_changed' });
    for (const session of this.#sessions) session.resourcesChanged();
  }

  /**
   * The port of a 2025 session's server: the session's own subscriptions (updates on its GET stream), with list
   * changes announced tenant-wide until `leave`.
   */
  join(session: InstancePort): { port: NotificationPort; leave(): void } {
    this.#sessions.add(session);
    return {
      port: { subscriptions: session.subscriptions, resourcesChanged: () => this.resourcesChanged() },
      leave: () => {
        this.#sessions.delete(session);
      },
    };
  }

  /** The tenant is dropped or the server stops: its listen streams' subscriptions release their upstream streams. */
  close(): void {
    this.subscriptions.close();
  }
}
