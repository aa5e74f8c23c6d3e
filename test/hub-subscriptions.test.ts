/**
 * Resource subscriptions over the hub: a subscribed URI holds its upstream stream open, changes become coalesced
 * update notifications (the last change is always announced), and releasing the last hold closes the upstream.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamHub } from '../src/resources/hub.js';
import { ResourceSubscriptions } from '../src/resources/subscriptions.js';
import { ListenStreams } from '../src/stdio.js';
import { type FakeSse, startFakeSse, until } from './hub-fixtures.js';

let sse: FakeSse;
let hub: StreamHub;
const URI = 'kernel://browsers/b1/telemetry';
const PATH = '/browsers/b1/telemetry';

beforeEach(async () => {
  sse = await startFakeSse();
  hub = new StreamHub(sse.client, { bufferEvents: 1000, bufferBytes: 1 << 20, idleMs: 60_000 });
});
afterEach(async () => {
  hub.close();
  await sse.close();
});

describe('resource subscriptions', () => {
  it('coalesce a burst of events into few notifications, the last change always announced', async () => {
    const sent: { uri: string; lastSeq: number }[] = [];
    const subs = new ResourceSubscriptions(
      hub,
      (uri) => {
        sent.push({ uri, lastSeq: hub.peek({ path: PATH })?.lastSeq ?? 0 });
      },
      { coalesceMs: 200 },
    );
    const release = subs.retain([URI]);
    await until(() => sse.open() === 1, 'the upstream connection');
    const log = sse.log(PATH);
    for (let i = 0; i < 200; i++) log.push({ seq: i + 1, event: { i } });
    await until(() => sent.at(-1)?.lastSeq === 200, 'a notification after the last event');
    expect(sent.length).toBeGreaterThanOrEqual(1);
    expect(sent.length).toBeLessThan(50);
    expect(new Set(sent.map((s) => s.uri))).toEqual(new Set([URI]));
    release();
    await until(() => sse.open() === 0, 'the upstream connection to close');
    expect(hub.openCount()).toBe(0);
  });

  it('count holds per URI; close() releases everything', async () => {
    const subs = new ResourceSubscriptions(hub, () => {});
    const a = subs.retain([URI]);
    const b = subs.retain([URI, 'kernel://invocations/i1/events']);
    expect(subs.size).toBe(2);
    await until(() => sse.open() === 2, 'two upstream connections');
    a();
    expect(subs.has(URI)).toBe(true);
    b();
    expect(subs.size).toBe(0);
    await until(() => sse.open() === 0, 'the upstream connections to close');
    subs.retain([URI]);
    await until(() => sse.open() === 1, 'the upstream connection');
    subs.close();
    await until(() => sse.open() === 0, 'close() to release');
    // Nothing is retained after close().
    subs.retain([URI]);
    expect(subs.size).toBe(0);
  });

  it('strict holds reject URIs that are not stream resources; lenient ones skip them', () => {
    const subs = new ResourceSubscriptions(hub, () => {});
    expect(() => subs.retain(['kernel://browsers/b1'], true)).toThrow(/not a Kernel stream resource/);
    expect(() => subs.retain(['kernel://browsers/b1/logs'], true)).toThrow(/source/);
    subs.retain(['kernel://browsers/b1', URI]);
    expect(subs.uris).toEqual([URI]);
  });

  it("a stdio connection's listen streams hold their URIs from open to cancel, result or close", async () => {
    const notified: string[] = [];
    const subs = new ResourceSubscriptions(hub, (uri) => void notified.push(uri), { coalesceMs: 10 });
    const listens = new ListenStreams(subs);
    const OTHER = 'kernel://deployments/d1/events';
    const listen = (id: number, uris: string[]) =>
      listens.observeInbound({
        jsonrpc: '2.0',
        id,
        method: 'subscriptions/listen',
        params: { notifications: { resourceSubscriptions: uris } },
      } as never);
    listen(1, [URI, 'not-a-stream']);
    expect(subs.uris).toEqual([URI]);
    sse.log(PATH).push({ seq: 1, event: {} });
    await until(() => notified.length > 0, 'an update');
    listen(2, [URI, OTHER]);
    expect(subs.size).toBe(2);
    listens.observeInbound({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } } as never);
    expect(subs.uris.sort()).toEqual([OTHER, URI].sort());
    // The graceful close (or a refusal) is the listen request's response.
    listens.observeOutbound({ jsonrpc: '2.0', id: 2, result: {} } as never);
    expect(subs.size).toBe(0);
    listen(3, [OTHER]);
    expect(listens.size).toBe(1);
    listens.clear();
    expect(listens.size).toBe(0);
    expect(subs.size).toBe(0);
    await until(() => sse.open() === 0, 'every upstream connection to close');
  });
});
