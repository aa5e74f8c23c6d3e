/**
 * Tools that create or end live resources (a browser here) announce notifications/resources/list_changed: on the
 * 2026-07-28 client's listen stream, and unsolicited to the 2025-11-25 client.
 */
import { ResourceListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { connectStdio, ERAS, type Era, type McpSession } from './helpers/mcp.js';

let mcp: McpSession | undefined;
afterEach(async () => {
  await mcp?.close();
  mcp = undefined;
});

/** Counts list_changed notifications, opting in the way each era does. */
async function watchListChanges(era: Era, session: McpSession): Promise<{ count(): number; next(): Promise<void> }> {
  let count = 0;
  let wake: (() => void) | undefined;
  const onChange = async () => {
    count++;
    wake?.();
  };
  if (era === 'modern') {
    const client = session.client as unknown as {
      setNotificationHandler(method: string, fn: () => Promise<void>): void;
      listen(filter: { resourcesListChanged: boolean }): Promise<{ honoredFilter: { resourcesListChanged?: boolean } }>;
    };
    client.setNotificationHandler('notifications/resources/list_changed', onChange);
    const sub = await client.listen({ resourcesListChanged: true });
    expect(sub.honoredFilter.resourcesListChanged).toBe(true);
  } else {
    const client = session.client as unknown as {
      setNotificationHandler(schema: unknown, fn: () => Promise<void>): void;
    };
    client.setNotificationHandler(ResourceListChangedNotificationSchema, onChange);
  }
  return {
    count: () => count,
    next: () =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no list_changed notification')), 10_000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      }),
  };
}

describe.each(ERAS)('resources/list_changed (%s client)', (era) => {
  it('is announced after a browser is created and after it is deleted', async () => {
    mcp = await connectStdio(era, { args: ['--simulate'] });
    const watch = await watchListChanges(era, mcp);

    const listed = await mcp.call('browsers_list', {});
    expect(listed.isError).toBeFalsy();

    const created = watch.next();
    const browser = await mcp.call('browsers_create', { headless: true });
    const id = (browser.structuredContent as { session_id: string }).session_id;
    await created;
    const afterCreate = watch.count();
    expect(afterCreate).toBeGreaterThanOrEqual(1);
    const resources = await mcp.client.listResources();
    expect(resources.resources.map((r) => r.uri)).toContain(`kernel://browsers/${id}/telemetry`);

    const deleted = watch.next();
    await mcp.call('browsers_delete', { id });
    await deleted;
    expect(watch.count()).toBeGreaterThan(afterCreate);
  });
});
