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
  /** With --redis-url: shares an announcement with every instance; resolves false when it could not. */
  #share: (() => Promise<boolean>) | undefined;

  constructor(hub: StreamHub, logger: Logger) {
    this.bus = new InMemoryServerEventBus((err) =>
      logger.debug('listen stream delivery failed', { error: err.message }),
    );
    this.subscriptions = new ResourceSubscriptions(hub, (uri) => this.bus.publish({ kind: 'resource_updated', uri }), {
      logger,
    });
  }

  /**
   * Announces a change: through Redis to every instance serving the tenant (see shared.ts), this one included, or
   * straight to this instance's clients when there is no Redis or it is unreachable.
   */
  resourcesChanged(): void {
    const share = this.#share;
    if (!share) {
      this.deliverChange();
      return;
    }
    void share().then((shared) => {
      if (!shared) this.deliverChange();
    });
  }

  /** Shares announcements through `share` from now on (several instances, one Redis). */
  shareWith(share: () => Promise<boolean>): void {
    this.#share = share;
  }

  /** Every client of the tenant on this instance hears it: its listen streams that opted in, and each 2025 session. */
  deliverChange(): void {
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
