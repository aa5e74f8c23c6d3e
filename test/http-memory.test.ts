/**
 * Memory given back after a burst of HTTP requests (src/http/memory.ts): once no request has been in flight for the
 * idle period (--idle-release-ms) and the heap grew by half (and 32 MB) since the last time, two full collections
 * run; a request in the idle period puts it off; 0 turns it off; streams do not count as requests. End to end, the built CLI under a burst of calls from
 * clients of both eras logs that it gave memory back, with the heap smaller after than before, and keeps answering.
 */
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { makeConfig } from '../src/config.js';
import { Exchanges } from '../src/http/exchanges.js';
import { fullCollection, IdleRelease } from '../src/http/memory.js';
import { createLogger } from '../src/log.js';
import { closeAll, connectHttp, type HttpServerProcess, startHttp } from './helpers/http.js';
import { ERAS, type McpSession } from './helpers/mcp.js';

const MB = 1024 * 1024;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The idle period the spawned server is given (the default is 30 s). */
const IDLE_MS = 1000;

describe('IdleRelease', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(start: number) {
    vi.useFakeTimers();
    const heap = { bytes: start };
    const collections: number[] = [];
    const lines: string[] = [];
    const release = new IdleRelease({
      logger: createLogger('debug', (l) => lines.push(l)),
      idleMs: 1000,
      heapBytes: () => heap.bytes,
      collect: () => {
        collections.push(heap.bytes);
        heap.bytes = Math.max(start, heap.bytes / 2);
      },
    });
    return { heap, collections, lines, release };
  }

  it('collects twice once requests stop for the idle period, only after the heap grew by half and 32 MB', () => {
    const { heap, collections, lines, release } = setup(64 * MB);
    heap.bytes = 95 * MB; // grown by 31 MB: under the 32 MB
    release.busy();
    release.idle();
    vi.advanceTimersByTime(1000);
    expect(collections).toEqual([]);
    heap.bytes = 96 * MB; // by half and by 32 MB
    release.idle();
    vi.advanceTimersByTime(999);
    expect(collections).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(collections).toEqual([96 * MB, 64 * MB]);
    expect(lines.join('')).toContain('gave memory back after load {"heapMbBefore":96,"heapMbAfter":64,');
  });

  it('measures growth from the heap left by the last release, and a request in the idle period puts it off', () => {
    const { heap, collections, release } = setup(40 * MB);
    heap.bytes = 200 * MB;
    release.idle();
    vi.advanceTimersByTime(1000);
    expect(collections).toHaveLength(2); // 200 -> 100 -> 50 MB left
    heap.bytes = 74 * MB; // 1.48x the 50 MB left
    release.idle();
    vi.advanceTimersByTime(1000);
    expect(collections).toHaveLength(2);
    heap.bytes = 160 * MB;
    release.idle();
    vi.advanceTimersByTime(500);
    release.busy();
    vi.advanceTimersByTime(5000);
    expect(collections).toHaveLength(2);
    release.idle();
    release.idle(); // already waiting: not pushed back
    vi.advanceTimersByTime(1000);
    expect(collections).toHaveLength(4);
    release.idle();
    release.close();
    vi.advanceTimersByTime(5000);
    expect(collections).toHaveLength(4);
  });

  it('never collects with an idle period of 0', () => {
    vi.useFakeTimers();
    const collect = vi.fn();
    const release = new IdleRelease({ logger: createLogger('silent'), idleMs: 0, heapBytes: () => 1e9, collect });
    release.idle();
    vi.advanceTimersByTime(60_000);
    expect(collect).not.toHaveBeenCalled();
  });
});

describe('fullCollection', () => {
  it("is V8's collector, without exposing gc to this context or to contexts made afterwards", () => {
    const collect = fullCollection();
    expect(typeof collect).toBe('function');
    expect(fullCollection()).toBe(collect);
    let garbage: unknown[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `item ${i}` }));
    expect(garbage.length).toBe(200_000);
    garbage = undefined;
    collect!();
    expect('gc' in globalThis).toBe(false);
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });

  it('compacts a heap whose survivors are spread thinly over many pages (a fresh process)', () => {
    // 125,000 small objects survive out of 4 million, spread over ~250 MB of pages: two regular full collections
    // leave ~160 MB committed, two compacting ones ~55 MB (22 MB live).
    const script = `
      const { fullCollection } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src/http/memory.ts')).href)});
      const keep = []; let junk = [];
      for (let i = 0; i < 4e6; i++) {
        const o = { a: i, b: 'x' + i, c: [i] };
        if (i % 8 === 0) keep.push(o); else junk.push(o);
        if (junk.length > 3e5) junk = [];
      }
      junk = [];
      for (let i = 0; i < keep.length; i++) if (i % 4 !== 0) keep[i] = null;
      const collect = fullCollection();
      collect(); collect();
      const m = process.memoryUsage();
      console.log(JSON.stringify({ total: m.heapTotal, used: m.heapUsed, kept: keep.filter(Boolean).length }));`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    const { total, used, kept } = JSON.parse(run.stdout) as { total: number; used: number; kept: number };
    expect(kept).toBe(125_000);
    expect(total).toBeLessThan(2 * used + 24 * MB);
  });
});

describe('Exchanges tell their activity', () => {
  const response = () => new EventEmitter() as unknown as ServerResponse;

  it('busy when a request starts, idle when none is left in flight; streams are not requests', () => {
    const seen: string[] = [];
    const exchanges = new Exchanges(makeConfig({ transport: 'http' }), {
      busy: () => seen.push('busy'),
      idle: () => seen.push('idle'),
    });
    const a = response();
    const b = response();
    exchanges.startRequest(a);
    exchanges.startRequest(b);
    expect(seen).toEqual(['busy', 'busy']);
    a.emit('close');
    expect(seen).toEqual(['busy', 'busy']);
    const owner = { streams: 0, limited: false };
    const stream = response();
    exchanges.startStream(stream, owner);
    b.emit('close');
    expect(seen).toEqual(['busy', 'busy', 'idle']);
    stream.emit('close');
    expect(seen).toEqual(['busy', 'busy', 'idle', 'idle']);
    // A request that opens a listen stream stops counting as a request.
    const listen = response();
    const ex = exchanges.startRequest(listen)!;
    exchanges.startStream(listen, owner, ex);
    expect(seen).toEqual(['busy', 'busy', 'idle', 'idle', 'busy', 'idle']);
    expect(exchanges.requests).toBe(0);
  });
});

describe('after a burst of calls over HTTP (the built CLI)', () => {
  const KEY = 'sk_http_memory_server_key_0123456789';
  const TOKEN = 'tok_http_memory_0123456789abcdef';
  let sim: Simulator;
  let server: HttpServerProcess;
  beforeAll(async () => {
    sim = await startSimulator({ apiKey: KEY });
    server = await startHttp({
      args: ['--toolsets', 'browsers', '--idle-release-ms', String(IDLE_MS)],
      env: {
        KERNEL_API_KEY: KEY,
        KERNEL_BASE_URL: sim.url,
        KERNEL_MCP_HTTP_TOKEN: TOKEN,
        KERNEL_MCP_LOG_LEVEL: 'debug',
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await sim?.close();
  });

  it('gives memory back once the calls stop, and keeps answering', async () => {
    const released = () => /gave memory back after load (\{[^\n]*\})/.exec(server.stderr())?.[1];
    const sessions: McpSession[] = [];
    try {
      for (let c = 0; c < 20; c++) sessions.push(await connectHttp(ERAS[c % 2]!, server.url, { token: TOKEN }));
      const created = await sessions[0]!.call('browsers_create', { headless: true });
      const id = (created.structuredContent as { session_id: string }).session_id;
      // Bursts of calls (bounded), each followed by a pause longer than the idle period, until the server says so.
      for (let burst = 0; burst < 4 && !released(); burst++) {
        await Promise.all(
          sessions.map(async (s) => {
            for (let i = 0; i < 25; i++) expect((await s.call('browsers_retrieve', { id })).isError).toBeFalsy();
          }),
        );
        const until = Date.now() + IDLE_MS + 3000;
        while (Date.now() < until && !released()) await new Promise((r) => setTimeout(r, 100));
      }
      const line = released();
      expect(line, server.stderr().slice(-2000)).toBeDefined();
      const { heapMbBefore, heapMbAfter } = JSON.parse(line!) as { heapMbBefore: number; heapMbAfter: number };
      expect(heapMbAfter).toBeLessThan(heapMbBefore);
      const again = await sessions[1]!.call('browsers_retrieve', { id });
      expect(again.structuredContent).toMatchObject({ session_id: id });
    } finally {
      await closeAll(...sessions);
    }
  }, 120_000);
});
