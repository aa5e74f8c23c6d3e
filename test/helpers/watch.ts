/**
 * Clients that record the change notifications they hear (list changes, updates of watched URIs), either era, over
 * stdio or HTTP; shared by the change-notification tests of one instance and of several (Redis).
 */
import type { Client as ModernClient } from '@modelcontextprotocol/client';
import type { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';
import { connectHttp } from './http.js';
import { connectStdio, type Era, type McpSession, text } from './mcp.js';

export type Wire = 'stdio' | 'http';

/** What one client heard, in arrival order, with waiters for the next matching one. */
export class Heard {
  readonly events: string[] = [];
  readonly #waiters: { match: (e: string) => boolean; resolve: () => void }[] = [];

  push(event: string) {
    this.events.push(event);
    for (const w of [...this.#waiters]) {
      if (!w.match(event)) continue;
      this.#waiters.splice(this.#waiters.indexOf(w), 1);
      w.resolve();
    }
  }

  count(event: string): number {
    return this.events.filter((e) => e === event).length;
  }

  /** Resolves on the next `event` heard after this call; rejects after a generous deadline (a hang, not a timing). */
  next(event: string, what = event): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what}; heard: ${this.events.join(', ')}`)), 15_000);
      this.#waiters.push({
        match: (e) => e === event,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}

/** A connected client of one era that records what it hears: list changes, and updates of the URIs it watches. */
export interface Watcher {
  mcp: McpSession;
  heard: Heard;
  /** Subscribes to a stream resource's updates, the era's way. */
  watch(uri: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A fetch that reports when the 2025 client's GET stream is open: notifications sent before it is would wait in the
 * session's event store for a resumption this test does not make.
 */
function getStreamFetch(base: typeof fetch = fetch): { fetch: typeof fetch; open: Promise<void> } {
  let opened!: () => void;
  const open = new Promise<void>((resolve) => {
    opened = resolve;
  });
  const wrapped: typeof fetch = async (input, init) => {
    const response = await base(input, init);
    if ((init?.method ?? 'GET') === 'GET' && response.headers.get('content-type')?.includes('text/event-stream')) {
      opened();
    }
    return response;
  };
  return { fetch: wrapped, open };
}

export async function connect(
  era: Era,
  wire: Wire,
  target: { url?: string; key?: string; args?: string[]; fetch?: typeof fetch },
) {
  let mcp: McpSession;
  let streamOpen: Promise<void> = Promise.resolve();
  if (wire === 'stdio') {
    mcp = await connectStdio(era, {
      args: target.args ?? [],
      env: { KERNEL_API_KEY: target.key ?? '', ...(target.url ? { KERNEL_BASE_URL: target.url } : {}) },
    });
  } else {
    const watched = era === 'legacy' ? getStreamFetch(target.fetch) : undefined;
    mcp = await connectHttp(era, target.url!, {
      ...(target.key ? { token: target.key } : {}),
      ...(watched ? { fetch: watched.fetch } : target.fetch ? { fetch: target.fetch } : {}),
    });
    if (watched) streamOpen = watched.open;
  }
  const heard = new Heard();
  const listens: { close(): Promise<void> }[] = [];
  let watch: (uri: string) => Promise<void>;
  if (era === 'modern') {
    const client = mcp.client as unknown as ModernClient;
    client.setNotificationHandler('notifications/resources/list_changed', () => heard.push('list_changed'));
    client.setNotificationHandler('notifications/resources/updated', (n) => heard.push(`updated ${n.params.uri}`));
    const sub = await client.listen({ resourcesListChanged: true });
    expect(sub.honoredFilter.resourcesListChanged).toBe(true);
    listens.push(sub);
    watch = async (uri) => {
      const s = await client.listen({ resourceSubscriptions: [uri] });
      expect(s.honoredFilter.resourceSubscriptions).toEqual([uri]);
      listens.push(s);
    };
  } else {
    const client = mcp.client as unknown as LegacyClient;
    client.setNotificationHandler(ResourceListChangedNotificationSchema, async () => heard.push('list_changed'));
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) =>
      heard.push(`updated ${n.params.uri}`),
    );
    await streamOpen;
    watch = async (uri) => {
      await client.subscribeResource({ uri });
    };
  }
  const watcher: Watcher = {
    mcp,
    heard,
    watch,
    async close() {
      for (const l of listens) await l.close().catch(() => {});
      await mcp.close();
    },
  };
  return watcher;
}

export async function createBrowser(mcp: McpSession): Promise<string> {
  const created = await mcp.call('browsers_create', { headless: true, telemetry: { browser: {} } });
  expect(created.isError, text(created)).toBeFalsy();
  return (created.structuredContent as { session_id: string }).session_id;
}
