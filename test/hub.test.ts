/**
 * The stream hub against a small SSE server on loopback: cursors, waiting, cancellation, resume after drops without
 * gaps or duplicates, the end of a stream, errors, buffer bounds with the dropped flag, and when upstream
 * connections close (last subscriber, idle, hub close).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KernelError } from '../src/kernel/errors.js';
import { createLogger } from '../src/log.js';
import { type HubOptions, type StreamEvent, StreamHub, streamKey } from '../src/resources/hub.js';
import { type FakeSse, startFakeSse, until } from './hub-fixtures.js';

let sse: FakeSse;
let hub: StreamHub;

const OPTS: HubOptions = {
  bufferEvents: 1000,
  bufferBytes: 1024 * 1024,
  idleMs: 60_000,
  reconnectBaseMs: 5,
  reconnectMaxMs: 50,
  maxReconnects: 4,
};

function makeHub(overrides: Partial<HubOptions> = {}) {
  hub = new StreamHub(sse.client, { ...OPTS, ...overrides });
  return hub;
}

beforeEach(async () => {
  sse = await startFakeSse();
});
afterEach(async () => {
  hub?.close();
  await sse.close();
});

const seqs = (events: StreamEvent[]) => events.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Reads with a cursor until `count` events came (or the stream ended); returns every event read. */
async function drain(path: string, count: number, maxEvents = 7): Promise<StreamEvent[]> {
  const all: StreamEvent[] = [];
  let after: number | undefined;
  for (let i = 0; i < count * 4 + 20 && all.length < count; i++) {
    const r = await hub.read({ path }, { ...(after !== undefined ? { after } : {}), maxEvents, maxWaitMs: 2000 });
    all.push(...r.events);
    after = r.cursor ?? undefined;
    if (r.ended) break;
  }
  return all;
}

describe('reads from a cursor', () => {
  it('returns buffered events and a cursor; the next read returns exactly the following events', async () => {
    makeHub();
    const log = sse.log('/s');
    for (let i = 1; i <= 5; i++) log.push({ n: i });
    const first = await hub.read({ path: '/s' }, { maxEvents: 3, maxWaitMs: 5000 });
    // The first read opens the stream and returns as soon as the first event is there: read until 5 are buffered.
    await until(() => hub.peek({ path: '/s' })?.size === 5, 'five buffered events');
    expect(first.events.length).toBeGreaterThan(0);
    const r1 = await hub.read({ path: '/s' }, { maxEvents: 3, maxWaitMs: 5000 });
    expect(seqs(r1.events)).toEqual([1, 2, 3]);
    expect(r1.events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(r1.cursor).toBe(3);
    expect(r1.ended).toBe(false);
    expect(r1.dropped).toBe(false);
    const r2 = await hub.read({ path: '/s' }, { after: 3, maxEvents: 10, maxWaitMs: 5000 });
    expect(seqs(r2.events)).toEqual([4, 5]);
    expect(r2.cursor).toBe(5);
    log.push({ n: 6 });
    const r3 = await hub.read({ path: '/s' }, { after: 5, maxEvents: 10, maxWaitMs: 5000 });
    expect(seqs(r3.events)).toEqual([6]);
    // One upstream connection for all of it.
    expect(sse.requests.filter((r) => r.path === '/s')).toHaveLength(1);
  });

  it('waits for the first event when none is buffered after the cursor', async () => {
    makeHub();
    const log = sse.log('/w');
    const pending = hub.read({ path: '/w' }, { maxEvents: 10, maxWaitMs: 20_000 });
    await until(() => sse.open() === 1, 'the stream to open');
    log.push('plain text');
    const r = await pending;
    expect(r.events).toEqual([{ seq: 1, data: 'plain text' }]);
  });

  it('returns nothing (and keeps the cursor) when nothing arrives within the wait', async () => {
    makeHub();
    sse.log('/quiet');
    const r = await hub.read({ path: '/quiet' }, { after: 0, maxEvents: 10, maxWaitMs: 100 });
    expect(r).toEqual({ events: [], cursor: 0, ended: false, dropped: false });
    const none = await hub.read({ path: '/quiet' }, { maxEvents: 10, maxWaitMs: 0 });
    expect(none.cursor).toBeNull();
  });

  it('stops waiting at once when the signal aborts, and reports progress while waiting', async () => {
    makeHub();
    sse.log('/cancel');
    const controller = new AbortController();
    const waits: number[] = [];
    const pending = hub.read(
      { path: '/cancel' },
      { maxEvents: 10, maxWaitMs: 600_000, signal: controller.signal, onWait: (ms) => waits.push(ms) },
    );
    await until(() => waits.length >= 1, 'a progress report');
    controller.abort();
    // The test would time out (the wait is ten minutes) if the abort were not honoured.
    const r = await pending;
    expect(r.events).toEqual([]);
    expect(waits[0]).toBeGreaterThan(0);
    // An already aborted signal does not wait at all.
    const r2 = await hub.read({ path: '/cancel' }, { maxEvents: 10, maxWaitMs: 600_000, signal: controller.signal });
    expect(r2.events).toEqual([]);
  });

  it('ends cleanly when the upstream ends the stream', async () => {
    makeHub();
    const log = sse.log('/end');
    log.push({ a: 1 });
    log.push({ a: 2 });
    const r1 = await hub.read({ path: '/end' }, { maxEvents: 1, maxWaitMs: 5000 });
    expect(seqs(r1.events)).toEqual([1]);
    expect(r1.ended).toBe(false);
    log.finish();
    await until(() => hub.peek({ path: '/end' })?.state === 'ended', 'the end of the stream');
    const r2 = await hub.read({ path: '/end' }, { after: 1, maxEvents: 10, maxWaitMs: 5000 });
    expect(seqs(r2.events)).toEqual([2]);
    expect(r2.ended).toBe(true);
    const r3 = await hub.read({ path: '/end' }, { after: 2, maxEvents: 10, maxWaitMs: 60_000 });
    expect(r3).toMatchObject({ events: [], cursor: 2, ended: true });
    expect(hub.openCount()).toBe(0);
    expect(sse.requests.filter((r) => r.path === '/end')).toHaveLength(1);
  });

  it('skips heartbeats and names SSE event types', async () => {
    makeHub();
    const log = sse.log('/hb');
    log.push({ event: 'log', message: 'one' });
    log.push({ event: 'sse_heartbeat' });
    log.push({ x: 1 }, { event: 'state' });
    await until(async () => (await drain('/hb', 2)).length === 2, 'two events');
    const r = await hub.read({ path: '/hb' }, { maxEvents: 10, maxWaitMs: 1000 });
    expect(r.events).toEqual([
      { seq: 1, data: { event: 'log', message: 'one' } },
      { seq: 3, data: { x: 1 }, type: 'state' },
    ]);
  });
});

describe('errors', () => {
  it('a 4xx answer is the read error, and is not cached', async () => {
    makeHub();
    sse.options.status = { '/browsers/nope/telemetry': 404 };
    const read = () => hub.read({ path: '/browsers/nope/telemetry' }, { maxEvents: 10, maxWaitMs: 5000 });
    const err = await read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KernelError);
    expect((err as KernelError).status).toBe(404);
    expect((err as KernelError).message).toContain('Kernel API 404 not_found');
    await expect(read()).rejects.toThrow(/404/);
    expect(sse.requests.filter((r) => r.path === '/browsers/nope/telemetry')).toHaveLength(2);
    expect(hub.openCount()).toBe(0);
  });

  it('retries 5xx answers with backoff, then streams', async () => {
    makeHub();
    sse.options.fail503 = 2;
    sse.log('/flaky').push({ ok: true });
    const r = await hub.read({ path: '/flaky' }, { maxEvents: 10, maxWaitMs: 10_000 });
    expect(r.events).toEqual([{ seq: 1, data: { ok: true } }]);
    expect(sse.requests.filter((q) => q.path === '/flaky')).toHaveLength(3);
  });

  it('gives up after maxReconnects failures in a row; the next read tries again', async () => {
    makeHub({ maxReconnects: 2 });
    sse.options.fail503 = 3;
    const err = await hub.read({ path: '/down' }, { maxEvents: 10, maxWaitMs: 10_000 }).catch((e: unknown) => e);
    expect((err as KernelError).status).toBe(503);
    expect(hub.peek({ path: '/down' })?.state).toBe('failed');
    sse.log('/down').push({ back: true });
    const r = await hub.read({ path: '/down' }, { maxEvents: 10, maxWaitMs: 10_000 });
    expect(r.events).toEqual([{ seq: 1, data: { back: true } }]);
  });
});

describe('which failures are retried', () => {
  it('retries 500, 408 and 429 (a busy or slow upstream), and gives up at once on other 4xx', async () => {
    for (const [status, retried] of [
      [500, true],
      [408, true],
      [429, true],
      [400, false],
      [401, false],
      [409, false],
      [499, false],
    ] as const) {
      makeHub();
      const path = `/status-${status}`;
      sse.options.fail503 = 2;
      sse.options.failStatus = status;
      sse.log(path).push({ ok: status });
      const r = await hub.read({ path }, { maxEvents: 10, maxWaitMs: 10_000 }).catch((e: unknown) => e);
      const tries = sse.requests.filter((q) => q.path === path).length;
      if (retried) {
        expect((r as { events: unknown[] }).events, String(status)).toEqual([{ seq: 1, data: { ok: status } }]);
        expect(tries, String(status)).toBe(3);
      } else {
        expect((r as KernelError).status, String(status)).toBe(status);
        expect(tries, String(status)).toBe(1);
        expect(hub.peek({ path })?.state).toBe('failed');
      }
      hub.close();
      sse.options.fail503 = 0;
    }
  });

  it('says why it is resuming while nothing new came, and stops saying it once events flow', async () => {
    makeHub({ maxReconnects: 1_000_000 });
    sse.options.fail503 = 1_000_000;
    const path = '/resuming';
    const r = await hub.read({ path }, { maxEvents: 10, maxWaitMs: 0 });
    expect(r.events).toEqual([]);
    await until(() => hub.peek({ path })?.problem !== undefined, 'a failed attempt');
    const waiting = await hub.read({ path }, { maxEvents: 10, maxWaitMs: 0 });
    expect(waiting.resuming).toMatch(/503/);
    expect(hub.peek({ path })?.state).toBe('running');
    sse.options.fail503 = 0;
    sse.log(path).push({ back: true });
    const back = await hub.read({ path }, { maxEvents: 10, maxWaitMs: 10_000 });
    expect(back.events).toEqual([{ seq: 1, data: { back: true } }]);
    expect(back).not.toHaveProperty('resuming');
    expect(hub.peek({ path })?.problem).toBeUndefined();
  });

  it('keeps retrying past maxReconnects while a subscriber listens', async () => {
    makeHub({ maxReconnects: 1 });
    sse.options.fail503 = 5;
    const path = '/keep';
    sse.log(path).push({ kept: true });
    let heard = 0;
    const leave = hub.subscribe({ path }, () => heard++);
    await until(() => hub.peek({ path })?.lastSeq === 1, 'the event after five failures');
    expect(hub.peek({ path })?.state).toBe('running');
    expect(sse.requests.filter((q) => q.path === path)).toHaveLength(6);
    expect(heard).toBeGreaterThan(0);
    leave();
  });
});

describe('the end of a stream', () => {
  it('is reported only with the last event: a read cut short by maxEvents is not at the end', async () => {
    makeHub();
    const log = sse.log('/short');
    for (let i = 1; i <= 3; i++) log.push({ i });
    log.finish();
    const stream = hub.get({ path: '/short' });
    await hub.read({ path: '/short' }, { maxEvents: 1, maxWaitMs: 5000 });
    await until(() => stream.state === 'ended', 'the end');
    const first = await hub.read({ path: '/short' }, { maxEvents: 2, maxWaitMs: 5000 });
    expect(seqs(first.events)).toEqual([1, 2]);
    expect(first.ended).toBe(false);
    const rest = await hub.read({ path: '/short' }, { after: 2, maxEvents: 2, maxWaitMs: 5000 });
    expect(seqs(rest.events)).toEqual([3]);
    expect(rest.ended).toBe(true);
  });
});

describe('resume without gaps or duplicates', () => {
  it('reconnects with Last-Event-ID when the connection is cut every 3 events', async () => {
    makeHub();
    sse.options.cutAfter = 3;
    const log = sse.log('/cut');
    for (let i = 1; i <= 20; i++) log.push({ i });
    const got = await drain('/cut', 20);
    expect(seqs(got)).toEqual(range(1, 20));
    expect(got.map((e) => (e.data as { i: number }).i)).toEqual(range(1, 20));
    const resumes = sse.requests.filter((r) => r.path === '/cut').map((r) => r.lastEventId);
    expect(resumes[0]).toBeUndefined();
    expect(resumes.slice(1, 4)).toEqual(['3', '6', '9']);
    // Live events after the drops keep coming, in order, once each.
    for (let i = 21; i <= 26; i++) log.push({ i });
    const more: StreamEvent[] = [];
    let after = 20;
    while (more.length < 6) {
      const r = await hub.read({ path: '/cut' }, { after, maxEvents: 100, maxWaitMs: 5000 });
      more.push(...r.events);
      after = r.cursor ?? after;
    }
    expect(seqs(more)).toEqual(range(21, 26));
  });

  it('drops the duplicates of an upstream that ignores Last-Event-ID', async () => {
    makeHub({ maxReconnects: 3 });
    sse.options.cutAfter = 4;
    sse.options.ignoreLastEventId = true;
    const log = sse.log('/replay');
    for (let i = 1; i <= 10; i++) log.push({ i });
    // Every connection replays from 1 and is cut after 4: only the first four events ever arrive, once each, and
    // the hub gives up on an upstream that makes no progress.
    await hub.read({ path: '/replay' }, { maxEvents: 100, maxWaitMs: 5000 });
    const stream = hub.get({ path: '/replay' });
    await until(() => stream.state === 'failed', 'the hub to give up');
    expect(sse.requests.filter((r) => r.path === '/replay').length).toBeGreaterThan(2);
    const r = await hub.read({ path: '/replay' }, { maxEvents: 100, maxWaitMs: 5000 });
    expect(seqs(r.events)).toEqual([1, 2, 3, 4]);
  });

  it('a cursor on a stream the hub does not hold resumes upstream from that cursor', async () => {
    makeHub();
    const log = sse.log('/fresh');
    for (let i = 1; i <= 8; i++) log.push({ i });
    const r = await hub.read({ path: '/fresh' }, { after: 5, maxEvents: 100, maxWaitMs: 5000 });
    expect(seqs(r.events)[0]).toBe(6);
    expect(sse.requests.find((q) => q.path === '/fresh')?.lastEventId).toBe('5');
    expect(r.dropped).toBe(false);
    // A reader with an older cursor is told that earlier events are not here.
    const older = await hub.read({ path: '/fresh' }, { after: 2, maxEvents: 100, maxWaitMs: 5000 });
    expect(older.dropped).toBe(true);
    expect(seqs(older.events)[0]).toBe(6);
  });
});

describe('the buffer', () => {
  it('stays at its bound by count, keeps the newest, and flags a cursor older than the buffer', async () => {
    makeHub({ bufferEvents: 10 });
    const log = sse.log('/big');
    for (let i = 1; i <= 250; i++) log.push({ i, pad: 'x'.repeat(50) });
    const stream = hub.get({ path: '/big' });
    await hub.read({ path: '/big' }, { maxEvents: 1, maxWaitMs: 5000 });
    await until(() => stream.lastSeq === 250, 'all 250 events received');
    expect(stream.size).toBe(10);
    const old = await hub.read({ path: '/big' }, { after: 5, maxEvents: 100, maxWaitMs: 5000 });
    expect(seqs(old.events)).toEqual(range(241, 250));
    expect(old.dropped).toBe(true);
    expect(old.cursor).toBe(250);
    const none = await hub.read({ path: '/big' }, { maxEvents: 3, maxWaitMs: 5000 });
    expect(seqs(none.events)).toEqual([241, 242, 243]);
    expect(none.dropped).toBe(true);
    const recent = await hub.read({ path: '/big' }, { after: 245, maxEvents: 100, maxWaitMs: 5000 });
    expect(seqs(recent.events)).toEqual(range(246, 250));
    expect(recent.dropped).toBe(false);
  });

  it('stays at its bound by bytes (keeping at least the newest event)', async () => {
    makeHub({ bufferBytes: 2000 });
    const log = sse.log('/bytes');
    for (let i = 1; i <= 100; i++) log.push({ i, pad: 'y'.repeat(200) });
    const stream = hub.get({ path: '/bytes' });
    await hub.read({ path: '/bytes' }, { maxEvents: 1, maxWaitMs: 5000 });
    await until(() => stream.lastSeq === 100, 'all events received');
    expect(stream.bytes).toBeLessThanOrEqual(2000);
    expect(stream.size).toBeGreaterThan(1);
    expect(stream.size).toBeLessThan(10);
    expect(stream.firstSeq).toBe(100 - stream.size + 1);
    log.push({ huge: 'z'.repeat(5000) });
    await until(() => stream.lastSeq === 101, 'the huge event');
    expect(stream.size).toBe(1);
  });
});

describe('upstream connection lifetime', () => {
  it('subscribers keep a stream open; it closes when the last leaves, and resumes without a gap', async () => {
    makeHub();
    const log = sse.log('/sub');
    let calls = 0;
    const a = hub.subscribe({ path: '/sub' }, () => calls++);
    const b = hub.subscribe({ path: '/sub' }, () => {});
    await until(() => sse.open() === 1, 'one upstream connection');
    log.push({ n: 1 });
    await until(() => calls >= 1, 'the subscriber to hear of the event');
    a();
    expect(hub.openCount()).toBe(1);
    b();
    b(); // idempotent
    expect(hub.openCount()).toBe(0);
    await until(() => sse.open() === 0, 'the upstream connection to close');
    log.push({ n: 2 });
    log.push({ n: 3 });
    // The buffer is still there, and the next read resumes after the last event seen.
    const r = await hub.read({ path: '/sub' }, { maxEvents: 10, maxWaitMs: 5000 });
    expect(seqs(r.events)[0]).toBe(1);
    await until(() => hub.peek({ path: '/sub' })?.lastSeq === 3, 'the events sent while closed');
    const all = await hub.read({ path: '/sub' }, { maxEvents: 10, maxWaitMs: 5000 });
    expect(seqs(all.events)).toEqual([1, 2, 3]);
    expect(sse.requests.filter((q) => q.path === '/sub').map((q) => q.lastEventId)).toEqual([undefined, '1']);
  });

  it('a waiting reader keeps the stream open when the last subscriber leaves', async () => {
    makeHub();
    const log = sse.log('/mixed');
    const leave = hub.subscribe({ path: '/mixed' }, () => {});
    const pending = hub.read({ path: '/mixed' }, { maxEvents: 10, maxWaitMs: 20_000 });
    await until(() => (hub.peek({ path: '/mixed' })?.waiterCount ?? 0) === 1, 'the reader to wait');
    leave();
    expect(hub.openCount()).toBe(1);
    log.push({ late: true });
    expect((await pending).events).toEqual([{ seq: 1, data: { late: true } }]);
  });

  it('closes and forgets streams idle past idleMs, but not while subscribed', async () => {
    makeHub({ idleMs: 1000 });
    sse.log('/idle').push({ n: 1 });
    sse.log('/kept').push({ n: 1 });
    await hub.read({ path: '/idle' }, { maxEvents: 10, maxWaitMs: 5000 });
    const leave = hub.subscribe({ path: '/kept' }, () => {});
    await until(() => sse.open() === 2, 'two upstream connections');
    hub.sweep(Date.now() + 500);
    expect(hub.openCount()).toBe(2);
    hub.sweep(Date.now() + 1000);
    expect(hub.openCount()).toBe(1);
    expect(hub.peek({ path: '/idle' })).toBeUndefined();
    await until(() => sse.open() === 1, 'the idle upstream connection to close');
    leave();
    hub.sweep(Date.now() + 1000);
    expect(hub.size).toBe(0);
    await until(() => sse.open() === 0, 'every upstream connection to close');
  });

  it('sweeps on its own timer', async () => {
    makeHub({ idleMs: 1000, sweepEveryMs: 50 });
    sse.log('/auto').push({ n: 1 });
    await hub.read({ path: '/auto' }, { maxEvents: 10, maxWaitMs: 5000 });
    expect(hub.openCount()).toBe(1);
    await until(() => hub.openCount() === 0 && sse.open() === 0, 'the idle stream to be swept');
  });

  it('close() ends every upstream connection and wakes waiting readers', async () => {
    makeHub();
    sse.log('/c1');
    sse.log('/c2');
    hub.subscribe({ path: '/c1' }, () => {});
    const pending = hub.read({ path: '/c2' }, { maxEvents: 10, maxWaitMs: 600_000 });
    await until(() => sse.open() === 2, 'two upstream connections');
    hub.close();
    expect((await pending).events).toEqual([]);
    expect(hub.openCount()).toBe(0);
    await until(() => sse.open() === 0, 'the upstream connections to close');
    await expect(hub.read({ path: '/c1' }, { maxEvents: 1, maxWaitMs: 0 })).rejects.toThrow(/shutting down/);
  });
});

describe('stream keys', () => {
  it('identify a stream by path and sorted query (a hub holds one client: other keys have hubs of their own)', () => {
    makeHub();
    expect(streamKey({ path: '/l', query: { b: '2', a: 'x y', c: undefined } })).toBe('/l?a=x%20y&b=2');
    expect(hub.get({ path: '/l', query: { a: '1' } })).toBe(hub.get({ path: '/l', query: { a: 1 } }));
    expect(hub.get({ path: '/l', query: { a: '1' } })).not.toBe(hub.get({ path: '/l' }));
  });
});

describe('what a fresh stream says', () => {
  it('is idle with nothing buffered, dropped, listening or failing, under the key of its request', () => {
    makeHub();
    const req = { path: '/fresh-state', query: { a: '1' } };
    const s = hub.get(req);
    expect(s.key).toBe(streamKey(req));
    expect([s.state, s.open, s.size, s.bytes, s.lastSeq, s.firstSeq, s.droppedUpTo]).toEqual([
      'idle',
      false,
      0,
      0,
      0,
      undefined,
      0,
    ]);
    expect([s.waiterCount, s.unused, s.problem, s.error]).toEqual([0, true, undefined, undefined]);
    expect(hub.closed).toBe(false);
  });
});

describe('event ids and types', () => {
  it('takes numeric ids as seqs, numbers events without one after the newest, and resumes from the last id', async () => {
    makeHub();
    const log = sse.log('/ids');
    log.push({ n: 1 }, { id: '5' });
    const stream = hub.get({ path: '/ids' });
    await hub.read({ path: '/ids' }, { maxEvents: 1, maxWaitMs: 5000 });
    // Live on the open connection (the test server replays only numeric ids).
    log.push({ n: 2 }, { id: '12' });
    log.push({ n: 3 }, { id: null });
    log.push({ n: 4 }, { id: 'a1' });
    log.push({ n: 5 }, { id: '1a' });
    log.push({ n: 6 }, { id: '' });
    await until(() => stream.size === 6, 'six events');
    const r = await hub.read({ path: '/ids' }, { maxEvents: 10, maxWaitMs: 5000 });
    expect(seqs(r.events)).toEqual([5, 12, 13, 14, 15, 16]);
    // Closed and read again: it resumes from the last id given (an empty id is none).
    hub.subscribe({ path: '/ids' }, () => {})();
    await until(() => sse.open() === 0, 'the connection to close');
    await hub.read({ path: '/ids' }, { after: 16, maxEvents: 10, maxWaitMs: 0 });
    await until(() => sse.requests.filter((q) => q.path === '/ids').length === 2, 'the reconnection');
    const [first, resume] = sse.requests.filter((q) => q.path === '/ids');
    expect(first?.method).toBe('GET');
    expect(resume?.lastEventId).toBe('1a');
  });

  it('names event types other than message, and keeps null and string data that look like heartbeats', async () => {
    makeHub();
    const log = sse.log('/types');
    log.push({ a: 1 }, { event: 'message' });
    log.push('null');
    log.push('sse_heartbeat');
    log.push({ event: 'sse_heartbeat' });
    log.push({ b: 2 }, { event: 'custom' });
    const stream = hub.get({ path: '/types' });
    await hub.read({ path: '/types' }, { maxEvents: 1, maxWaitMs: 5000 });
    await until(() => stream.lastSeq === 5, 'the last event');
    const r = await hub.read({ path: '/types' }, { maxEvents: 10, maxWaitMs: 5000 });
    expect(r.events).toEqual([
      { seq: 1, data: { a: 1 } },
      { seq: 2, data: null },
      { seq: 3, data: 'sse_heartbeat' },
      { seq: 5, data: { b: 2 }, type: 'custom' },
    ]);
  });

  it('sends the query of the request upstream', async () => {
    makeHub();
    sse.log('/q?level=info').push({ q: true });
    const r = await hub.read({ path: '/q', query: { level: 'info' } }, { maxEvents: 10, maxWaitMs: 5000 });
    expect(r.events).toEqual([{ seq: 1, data: { q: true } }]);
  });
});

describe('cursors on streams already opened', () => {
  it('a first read at cursor 0 sends no Last-Event-ID; a later cursor never rewinds a stream that connected', async () => {
    makeHub();
    const log = sse.log('/rewind');
    for (let i = 1; i <= 3; i++) log.push({ i });
    const stream = hub.get({ path: '/rewind' });
    await hub.read({ path: '/rewind' }, { after: 0, maxEvents: 10, maxWaitMs: 5000 });
    await until(() => stream.lastSeq === 3, 'three events');
    expect(sse.requests.filter((q) => q.path === '/rewind')[0]?.lastEventId).toBeUndefined();
    const leave = hub.subscribe({ path: '/rewind' }, () => {});
    leave();
    await until(() => sse.open() === 0, 'the connection to close');
    const r = await hub.read({ path: '/rewind' }, { after: 1, maxEvents: 10, maxWaitMs: 5000 });
    expect(seqs(r.events)).toEqual([2, 3]);
    expect(r.dropped).toBe(false);
    await until(() => sse.requests.filter((q) => q.path === '/rewind').length === 2, 'the reconnection');
    expect(sse.requests.filter((q) => q.path === '/rewind')[1]?.lastEventId).toBe('3');
  });

  it('a failed stream still answers what it buffered, and its error after that', async () => {
    makeHub();
    sse.options.cutAfter = 2;
    const log = sse.log('/gone');
    log.push({ n: 1 });
    log.push({ n: 2 });
    const stream = hub.get({ path: '/gone' });
    await hub.read({ path: '/gone' }, { maxEvents: 1, maxWaitMs: 5000 });
    sse.options.status = { '/gone': 404 };
    await until(() => stream.state === 'failed', 'the stream to fail');
    const r = await hub.read({ path: '/gone' }, { maxEvents: 10, maxWaitMs: 5000 });
    expect(seqs(r.events)).toEqual([1, 2]);
    expect(r.ended).toBe(false);
    await expect(hub.read({ path: '/gone' }, { after: 2, maxEvents: 10, maxWaitMs: 5000 })).rejects.toThrow(/404/);
  });

  it('gives up after exactly maxReconnects failed attempts in a row', async () => {
    makeHub({ maxReconnects: 2 });
    sse.options.fail503 = 100;
    await expect(hub.read({ path: '/count' }, { maxEvents: 10, maxWaitMs: 10_000 })).rejects.toThrow(/503/);
    expect(sse.requests.filter((q) => q.path === '/count')).toHaveLength(3);
  });
});

describe('who hears what', () => {
  it('subscribers hear the end and the failure of a stream, not the hub closing it', async () => {
    makeHub();
    const log = sse.log('/told');
    let told = 0;
    hub.subscribe({ path: '/told' }, () => told++);
    await until(() => sse.open() === 1, 'the connection');
    log.finish();
    await until(() => hub.peek({ path: '/told' })?.state === 'ended', 'the end');
    expect(told).toBe(1);
    sse.options.status = { '/told-fail': 404 };
    let failTold = 0;
    hub.subscribe({ path: '/told-fail' }, () => failTold++);
    await until(() => hub.peek({ path: '/told-fail' })?.state === 'failed', 'the failure');
    expect(failTold).toBe(1);
    let closeTold = 0;
    sse.log('/told-close');
    hub.subscribe({ path: '/told-close' }, () => closeTold++);
    await until(() => sse.open() === 1, 'the connection to stay open');
    hub.close();
    await until(() => sse.open() === 0, 'the connections to close');
    expect(closeTold).toBe(0);
  });

  it('a listener that throws is logged and does not stop the others', async () => {
    const lines: string[] = [];
    makeHub({ logger: createLogger('debug', (l) => lines.push(l)) });
    const log = sse.log('/throws');
    let heard = 0;
    hub.subscribe({ path: '/throws' }, () => {
      throw new Error('listener broke');
    });
    hub.subscribe({ path: '/throws' }, () => heard++);
    await until(() => sse.open() === 1, 'the connection');
    log.push({ n: 1 });
    await until(() => heard === 1, 'the second listener');
    expect(lines.join('')).toContain('kernel-mcp debug: stream listener failed {"error":"Error: listener broke"}');
  });

  it('a stale unsubscribe does not remove the same listener subscribed again', async () => {
    makeHub();
    sse.log('/again');
    const fn = () => {};
    const first = hub.subscribe({ path: '/again' }, fn);
    first();
    const second = hub.subscribe({ path: '/again' }, fn);
    first();
    expect(hub.peek({ path: '/again' })?.unused).toBe(false);
    await until(() => sse.open() === 1 && hub.openCount() === 1, 'the second connection');
    second();
    expect(hub.openCount()).toBe(0);
  });

  it('a connection closed and reopened at once is not undone by the old one ending', async () => {
    makeHub();
    const log = sse.log('/reopen');
    const before = hub.subscribe({ path: '/reopen' }, () => {});
    await until(() => sse.open() === 1, 'the first connection');
    before();
    const leave = hub.subscribe({ path: '/reopen' }, () => {});
    await until(() => sse.requests.filter((q) => q.path === '/reopen').length === 2 && sse.open() === 1, 'reopened');
    log.push({ n: 1 });
    await until(() => hub.peek({ path: '/reopen' })?.lastSeq === 1, 'an event on the new connection');
    expect(hub.peek({ path: '/reopen' })?.state).toBe('running');
    expect(hub.openCount()).toBe(1);
    leave();
  });

  it('a closed hub opens nothing, even for a stream it handed out before', async () => {
    makeHub();
    sse.log('/after-close');
    const s = hub.get({ path: '/after-close' });
    hub.close();
    expect(hub.closed).toBe(true);
    s.subscribe(() => {});
    s.ensureOpen();
    expect(s.state).toBe('idle');
    expect(sse.requests.filter((q) => q.path === '/after-close')).toHaveLength(0);
  });
});

describe('the debug log of a stream', () => {
  it('says when it resumes (with the attempt and the id), ends and fails', async () => {
    const lines: string[] = [];
    makeHub({ logger: createLogger('debug', (l) => lines.push(l)) });
    sse.options.cutAfter = 1;
    const log = sse.log('/logged');
    log.push({ n: 1 });
    const stream = hub.get({ path: '/logged' });
    await hub.read({ path: '/logged' }, { maxEvents: 1, maxWaitMs: 5000 });
    await until(() => lines.some((l) => l.includes('stream dropped; resuming')), 'the resume line');
    const resume = lines.find((l) => l.includes('stream dropped; resuming'))!;
    expect(resume).toMatch(
      /^kernel-mcp debug: stream dropped; resuming \{"path":"\/logged","lastEventId":"1","attempt":1,"delayMs":\d+,"error":".+"\}/,
    );
    sse.options.cutAfter = 0;
    log.finish();
    await until(() => stream.state === 'ended', 'the end');
    expect(lines.join('')).toContain('kernel-mcp debug: stream ended {"path":"/logged","lastSeq":1}');
    sse.options.status = { '/logged-404': 404 };
    await hub.read({ path: '/logged-404' }, { maxEvents: 1, maxWaitMs: 5000 }).catch(() => {});
    expect(lines.find((l) => l.includes('stream failed'))).toMatch(
      /^kernel-mcp debug: stream failed \{"path":"\/logged-404","error":"Kernel API 404 not_found/,
    );
    expect(lines.filter((l) => l.includes('stream failed'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('stream ended'))).toHaveLength(1);
  });
});

describe('buffer and idle edges', () => {
  it('keeps events that fill the byte bound exactly', async () => {
    const data = JSON.stringify({ pad: 'x'.repeat(100) });
    const each = Buffer.byteLength(data) + 64;
    makeHub({ bufferBytes: each * 3 });
    const log = sse.log('/exact');
    for (let i = 0; i < 3; i++) log.push(data);
    const stream = hub.get({ path: '/exact' });
    await hub.read({ path: '/exact' }, { maxEvents: 1, maxWaitMs: 5000 });
    await until(() => stream.lastSeq === 3, 'three events');
    expect([stream.size, stream.bytes]).toEqual([3, each * 3]);
    log.push(data);
    await until(() => stream.lastSeq === 4, 'the fourth');
    expect([stream.size, stream.firstSeq, stream.droppedUpTo]).toEqual([3, 2, 1]);
  });

  it('forgets a stream unused for exactly idleMs', async () => {
    makeHub({ idleMs: 1000 });
    const s = hub.get({ path: '/exactly-idle' });
    hub.sweep(s.lastUsed + 999);
    expect(hub.size).toBe(1);
    hub.sweep(s.lastUsed + 1000);
    expect(hub.size).toBe(0);
  });

  it('reports the time waited so far, within the wait', async () => {
    makeHub();
    sse.log('/progress');
    const waits: number[] = [];
    const controller = new AbortController();
    const pending = hub.read(
      { path: '/progress' },
      { maxEvents: 1, maxWaitMs: 600_000, signal: controller.signal, onWait: (ms) => waits.push(ms) },
    );
    await until(() => waits.length >= 1, 'a progress report');
    controller.abort();
    await pending;
    expect(waits[0]).toBeGreaterThan(0);
    expect(waits[0]).toBeLessThan(600_000);
  });

  it('keys ignore null and undefined query values and sort the rest', () => {
    expect(streamKey({ path: '/k', query: { c: '3', b: null, a: '1', d: undefined, e: 0 } })).toBe('/k?a=1&c=3&e=0');
    expect(streamKey({ path: '/k', query: { z: 1, y: 2, x: 3 } })).toBe('/k?x=3&y=2&z=1');
  });
});

describe('long-lived streams', () => {
  it('keep exactly the newest events after more than a thousand have left the buffer', async () => {
    makeHub({ bufferEvents: 10 });
    const log = sse.log('/long');
    for (let i = 1; i <= 2100; i++) log.push({ i });
    const stream = hub.get({ path: '/long' });
    await hub.read({ path: '/long' }, { maxEvents: 1, maxWaitMs: 5000 });
    await until(() => stream.lastSeq === 2100, 'all events');
    const r = await hub.read({ path: '/long' }, { after: 2000, maxEvents: 100, maxWaitMs: 5000 });
    expect(seqs(r.events)).toEqual(range(2091, 2100));
    expect([stream.size, stream.firstSeq, stream.droppedUpTo]).toEqual([10, 2091, 2090]);
  });

  it('give up on an upstream that sends only heartbeats before each drop (no progress)', async () => {
    makeHub({ maxReconnects: 2 });
    sse.options.cutAfter = 1;
    sse.options.ignoreLastEventId = true;
    sse.log('/beats').push({ event: 'sse_heartbeat' });
    const stream = hub.get({ path: '/beats' });
    await hub.read({ path: '/beats' }, { maxEvents: 1, maxWaitMs: 0 });
    await until(() => stream.state === 'failed', 'the hub to give up');
    expect(stream.size).toBe(0);
  });
});
