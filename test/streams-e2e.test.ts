/**
 * Streams end to end: the built CLI over stdio, driven by a 2026-07-28 client and a 2025-11-25 client, against the
 * simulator in this process (the CLI points at it with --base-url), so a test can emit telemetry events, cut
 * streams, and count the upstream connections the server holds open.
 *
 * Stream tools (cursor, max_events, max_seconds, progress, cancellation), resource templates, listing, completion,
 * reads, subscriptions (listen on 2026-07-28, resources/subscribe on 2025), errors, cut streams (every event once,
 * in order), the buffer bound, and upstream connections closing on unsubscribe, idle, and client close.
 */
import type { Client as ModernClient } from '@modelcontextprotocol/client';
import type { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { useSimulatorBehindStdio } from './helpers/fixtures.js';
import { connectStdio, ERAS, type Era, type McpSession, type ToolResult, text } from './helpers/mcp.js';
import { until } from './hub-fixtures.js';

const KEY = 'sk_streams_e2e_0123456789';

/** The page of events a stream tool returns. */
interface Page {
  events: { seq: number; event?: Record<string, unknown>; data?: unknown }[];
  cursor: string | null;
  ended: boolean;
  dropped?: boolean;
  note?: string;
}

function page(result: ToolResult): Page {
  expect(result.isError, text(result)).toBeFalsy();
  return result.structuredContent as unknown as Page;
}

const seqs = (p: { seq: number }[]) => p.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

async function api<T>(sim: Simulator, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A browser whose telemetry has only the events a test emits (no simulated console heartbeats). */
async function quietBrowser(sim: Simulator): Promise<string> {
  const b = await api<{ session_id: string }>(sim, 'POST', '/browsers', {
    telemetry: { browser: { console: { enabled: false } } },
  });
  return b.session_id;
}

function emit(sim: Simulator, id: string, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const seq = sim.emitTelemetry(id, { type: 'custom_test_event', data: { n: i } });
    if (seq === undefined) throw new Error(`telemetry is off on ${id}`);
    out.push(seq);
  }
  return out;
}

/** The newest seq of a browser's telemetry log (an event emitted now gets the next one). */
function lastSeqOf(sim: Simulator, id: string): number {
  const seq = emit(sim, id, 1)[0] ?? 0;
  return seq;
}

function connect(era: Era, sim: Simulator, args: string[] = []): Promise<McpSession> {
  // The stream tools' toolsets (telemetry, logs) are not in the default set.
  return connectStdio(era, {
    args: ['--base-url', sim.url, '--toolsets', 'default,telemetry', ...args],
    env: { KERNEL_API_KEY: KEY },
  });
}

/**
 * Waits until the server has buffered the event `seq` (a read from just before it returns it). The stream must be
 * open already: a cursor on a stream the server does not hold resumes it from that cursor.
 */
async function buffered(mcp: McpSession, id: string, seq: number): Promise<void> {
  await until(async () => {
    const p = page(await mcp.call('browsers_telemetry_stream', { id, after: String(seq - 1), max_seconds: 5 }));
    return p.events.length === 1;
  }, `event ${seq} to be buffered`);
}

/** Reads with the tool from a cursor until `want` events came; every event read, in order. */
async function readAll(mcp: McpSession, id: string, after: number, want: number): Promise<Page['events']> {
  const all: Page['events'] = [];
  let cursor = String(after);
  for (let i = 0; i < want * 4 + 10 && all.length < want; i++) {
    const p = page(await mcp.call('browsers_telemetry_stream', { id, after: cursor, max_events: 5, max_seconds: 10 }));
    all.push(...p.events);
    if (p.cursor !== null) cursor = p.cursor;
  }
  return all;
}

/** Reads a resource with `?after=` until `want` events came; every JSON line read, in order. */
async function readResourceLines(mcp: McpSession, uri: string, after: number, want: number) {
  const all: { seq: number; event?: unknown }[] = [];
  let cursor = String(after);
  for (let i = 0; i < want * 4 + 10 && all.length < want; i++) {
    const r = await mcp.client.readResource({ uri: `${uri}?after=${cursor}` });
    const content = r.contents[0] as { text: string };
    const lines = content.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { seq: number; event?: unknown });
    all.push(...lines);
    const meta = (r as { _meta?: Record<string, { cursor?: string | null }> })._meta?.['com.onkernel/stream'];
    if (meta?.cursor) cursor = meta.cursor;
  }
  return all;
}

type Updates = { uris: string[]; stop(): Promise<void> };

/** Subscribes to a resource the way each era does, collecting update notifications. */
async function subscribe(mcp: McpSession, uri: string): Promise<Updates> {
  const uris: string[] = [];
  if (mcp.era === 'modern') {
    const client = mcp.client as unknown as ModernClient;
    client.setNotificationHandler('notifications/resources/updated', (n) => {
      uris.push(n.params.uri);
    });
    const sub = await client.listen({ resourceSubscriptions: [uri] });
    expect(sub.honoredFilter.resourceSubscriptions).toEqual([uri]);
    return { uris, stop: () => sub.close() };
  }
  const client = mcp.client as unknown as LegacyClient;
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    uris.push(n.params.uri);
  });
  await client.subscribeResource({ uri });
  return {
    uris,
    stop: async () => {
      await client.unsubscribeResource({ uri });
    },
  };
}

describe.each(ERAS)('streams over stdio (%s client)', (era) => {
  const f = useSimulatorBehindStdio(era, { key: KEY, args: ['--toolsets', 'default,telemetry'] });

  it('a stream tool returns events and a cursor; the next call returns exactly the following events', async () => {
    const id = await quietBrowser(f.sim);
    const emitted = emit(f.sim, id, 6);
    // Open the stream (a read without a cursor), and wait until all six are buffered.
    page(await f.mcp.call('browsers_telemetry_stream', { id, max_events: 1 }));
    await buffered(f.mcp, id, emitted.at(-1) ?? 0);
    const first = page(await f.mcp.call('browsers_telemetry_stream', { id, max_events: 2 }));
    expect(first.events).toHaveLength(2);
    expect(first.cursor).toBe(String(first.events[1]?.seq));
    expect(first.ended).toBe(false);
    // Telemetry keeps its {seq, event} envelope.
    expect(first.events[0]).toMatchObject({ seq: expect.any(Number), event: { type: expect.any(String) } });
    const last = emitted.at(-1) ?? 0;
    const second = page(await f.mcp.call('browsers_telemetry_stream', { id, after: first.cursor, max_events: 100 }));
    expect(seqs(second.events)).toEqual(range(Number(first.cursor) + 1, last));
    expect(second.cursor).toBe(String(last));
    for (const s of emitted) expect([...seqs(first.events), ...seqs(second.events)]).toContain(s);
    // The events of the two calls are the whole log in order: none skipped, none repeated.
    expect([...seqs(first.events), ...seqs(second.events)]).toEqual(range(first.events[0]?.seq ?? 1, last));
  });

  it('honours max_events and max_seconds', async () => {
    const id = await quietBrowser(f.sim);
    emit(f.sim, id, 5);
    const one = page(await f.mcp.call('browsers_telemetry_stream', { id, max_events: 1 }));
    expect(one.events).toHaveLength(1);
    const last = lastSeqOf(f.sim, id);
    await buffered(f.mcp, id, last);
    const empty = page(await f.mcp.call('browsers_telemetry_stream', { id, after: String(last), max_seconds: 1 }));
    expect(empty.events).toEqual([]);
    expect(empty.cursor).toBe(String(last));
    expect(empty.ended).toBe(false);
    expect(empty.note).toMatch(/No new events within 1s/);
    // The ceiling is 60 s: more is refused before anything is sent.
    const tooLong = await f.mcp.call('browsers_telemetry_stream', { id, max_seconds: 61 });
    expect(tooLong.isError).toBe(true);
  });

  it('reports progress while waiting, and returns the event that ends the wait', async () => {
    const id = await quietBrowser(f.sim);
    const last = lastSeqOf(f.sim, id);
    const progress: number[] = [];
    const pending = f.mcp.call(
      'browsers_telemetry_stream',
      { id, after: String(last), max_seconds: 30 },
      {
        onprogress: (p) => {
          progress.push(p.progress);
        },
      },
    );
    await until(() => progress.length >= 2, 'two progress notifications');
    const [seq] = emit(f.sim, id, 1);
    const p = page(await pending);
    expect(seqs(p.events)).toEqual([seq]);
    expect(progress[1]).toBeGreaterThan(progress[0] ?? 0);
  });

  it('lists the stream resource templates, with title, description and MIME type', async () => {
    const listed = (await f.mcp.client.listResourceTemplates()).resourceTemplates;
    // The skills' skill:// template is tested with the skills (skills-e2e), the file and download templates with
    // the file answers (agent-ux-e2e).
    const others = ['kernel://browsers/{id}/files/{+path}', 'kernel://api/{+path}'];
    const resourceTemplates = listed.filter(
      (t) => !String(t.uriTemplate).startsWith('skill://') && !others.includes(String(t.uriTemplate)),
    );
    expect(listed.length - resourceTemplates.length).toBe(3);
    const byUri = new Map(resourceTemplates.map((t) => [t.uriTemplate as string, t]));
    expect([...byUri.keys()].sort()).toEqual(
      [
        'kernel://browsers/{id}/telemetry',
        'kernel://browsers/{id}/logs{?source,path,supervisor_process}',
        'kernel://browsers/{id}/processes/{process_id}/output',
        'kernel://browsers/{id}/fs/watches/{watch_id}/events',
        'kernel://invocations/{id}/events',
        'kernel://deployments/{id}/events',
        'kernel://auth/connections/{id}/events',
      ].sort(),
    );
    for (const t of resourceTemplates) {
      expect(t.title).toBeTruthy();
      expect(String(t.description).length).toBeGreaterThan(40);
      expect(t.mimeType).toBe('application/x-ndjson');
    }
  });

  it('lists live browsers as telemetry resources and completes their ids', async () => {
    const id = await quietBrowser(f.sim);
    const { resources } = await f.mcp.client.listResources();
    const uri = `kernel://browsers/${id}/telemetry`;
    expect(resources.map((r) => r.uri)).toContain(uri);
    expect(resources.find((r) => r.uri === uri)).toMatchObject({ mimeType: 'application/x-ndjson' });
    const client = f.mcp.client as unknown as {
      complete(p: unknown): Promise<{ completion: { values: string[] } }>;
    };
    const done = await client.complete({
      ref: { type: 'ref/resource', uri: 'kernel://browsers/{id}/telemetry' },
      argument: { name: 'id', value: id.slice(0, 4) },
    });
    expect(done.completion.values).toContain(id);
    const sources = await client.complete({
      ref: { type: 'ref/resource', uri: 'kernel://browsers/{id}/logs{?source,path,supervisor_process}' },
      argument: { name: 'source', value: 's' },
    });
    expect(sources.completion.values).toEqual(['supervisor']);
  });

  it('reads a telemetry resource as JSON lines of {seq, event}, never cached', async () => {
    const id = await quietBrowser(f.sim);
    const emitted = emit(f.sim, id, 3);
    const uri = `kernel://browsers/${id}/telemetry`;
    // The first read opens the stream and waits briefly for a first event.
    let lines: { seq: number; event: { type: string } }[] = [];
    let result: Awaited<ReturnType<McpSession['client']['readResource']>> | undefined;
    await until(async () => {
      result = await f.mcp.client.readResource({ uri });
      const content = result.contents[0] as { text: string };
      lines = content.text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      return lines.some((l) => l.seq === emitted.at(-1));
    }, 'the emitted events in a read');
    expect(result?.contents[0]).toMatchObject({ uri, mimeType: 'application/x-ndjson' });
    expect(lines.filter((l) => l.event.type === 'custom_test_event').map((l) => l.seq)).toEqual(emitted);
    expect(seqs(lines)).toEqual(range(lines[0]?.seq ?? 1, emitted.at(-1) ?? 0));
    const meta = (result as { _meta?: Record<string, Record<string, unknown>> })._meta?.['com.onkernel/stream'];
    expect(meta).toMatchObject({ cursor: String(emitted.at(-1)), ended: false, dropped: false });
    if (era === 'modern') expect((result as { ttlMs?: number }).ttlMs).toBe(0);
    // `?after=` reads only what follows.
    const more = emit(f.sim, id, 2);
    const next = await readResourceLines(f.mcp, uri, emitted.at(-1) ?? 0, 2);
    expect(seqs(next)).toEqual(more);
  });

  it('subscribes (each era its own way), is told of new events, then reads them', async () => {
    const id = await quietBrowser(f.sim);
    const uri = `kernel://browsers/${id}/telemetry`;
    const before = lastSeqOf(f.sim, id);
    // Streams earlier tests opened stay open until they idle out (two minutes): count this one on top of them.
    const others = f.sim.openStreams();
    const updates = await subscribe(f.mcp, uri);
    try {
      await until(() => f.sim.openStreams() === others + 1, 'the upstream stream to open');
      const fresh = emit(f.sim, id, 3);
      await until(() => updates.uris.length > 0, 'an update notification');
      expect(new Set(updates.uris)).toEqual(new Set([uri]));
      const lines = await readResourceLines(f.mcp, uri, before, 3);
      expect(seqs(lines)).toEqual(fresh);
    } finally {
      await updates.stop();
    }
    // Unsubscribing closes this resource's upstream connection.
    await until(() => f.sim.openStreams() === others, 'the upstream stream to close');
  });

  it('a stream of an unknown browser gives a clear error', async () => {
    const r = await f.mcp.call('browsers_telemetry_stream', { id: 'no-such-browser', max_seconds: 5 });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/Kernel API 404 not_found: .*no-such-browser/);
    await expect(f.mcp.client.readResource({ uri: 'kernel://browsers/no-such-browser/telemetry' })).rejects.toThrow(
      /404 not_found/,
    );
    await expect(f.mcp.client.readResource({ uri: 'kernel://browsers/abc/logs' })).rejects.toThrow(/source/);
    const client = f.mcp.client as unknown as { subscribeResource?: (p: unknown) => Promise<unknown> };
    if (era === 'legacy') {
      await expect(client.subscribeResource?.({ uri: 'kernel://nowhere/1' })).rejects.toThrow(
        /not a Kernel stream resource/,
      );
    }
  });
});

describe.each(ERAS)('streams that the simulator cuts every 3 events (%s client)', (era) => {
  const f = useSimulatorBehindStdio(era, { key: KEY, args: ['--toolsets', 'default,telemetry'] });

  it('every event arrives exactly once, in order, through the tool', async () => {
    const id = await quietBrowser(f.sim);
    const start = lastSeqOf(f.sim, id);
    f.sim.setFaults({ cutStreamsAfter: 3 });
    try {
      const got: number[] = [];
      const expected: number[] = [];
      let cursor = start;
      // Like an agent: produce, read from the cursor, repeat.
      for (let round = 0; round < 6; round++) {
        expected.push(...emit(f.sim, id, 2));
        const events = await readAll(f.mcp, id, cursor, 2);
        got.push(...seqs(events));
        cursor = got.at(-1) ?? cursor;
      }
      expect(got).toEqual(expected);
      const resumes = f.sim.requests.filter(
        (r) => r.path === `/browsers/${id}/telemetry` && r.headers['last-event-id'],
      );
      expect(resumes.length).toBeGreaterThanOrEqual(2);
    } finally {
      f.sim.setFaults({});
    }
  });

  it('every event arrives exactly once, in order, through a subscribed resource', async () => {
    const id = await quietBrowser(f.sim);
    const uri = `kernel://browsers/${id}/telemetry`;
    const start = lastSeqOf(f.sim, id);
    f.sim.setFaults({ cutStreamsAfter: 3 });
    const updates = await subscribe(f.mcp, uri);
    try {
      const got: number[] = [];
      const expected: number[] = [];
      let cursor = start;
      for (let round = 0; round < 6; round++) {
        const seen = updates.uris.length;
        expected.push(...emit(f.sim, id, 2));
        await until(() => updates.uris.length > seen, 'an update notification');
        const lines = await readResourceLines(f.mcp, uri, cursor, 2);
        got.push(...seqs(lines));
        cursor = got.at(-1) ?? cursor;
      }
      expect(got).toEqual(expected);
    } finally {
      f.sim.setFaults({});
      await updates.stop();
    }
  });
});

describe.each(ERAS)('upstream connections close (%s client)', (era) => {
  it('when the client unsubscribes', async () => {
    const sim = await startSimulator({ apiKey: KEY });
    const mcp = await connect(era, sim);
    try {
      const id = await quietBrowser(sim);
      const uri = `kernel://browsers/${id}/telemetry`;
      const updates = await subscribe(mcp, uri);
      await until(() => sim.openStreams() === 1, 'one upstream stream');
      emit(sim, id, 1);
      await until(() => updates.uris.length > 0, 'an update notification');
      await mcp.client.readResource({ uri });
      await updates.stop();
      await until(() => sim.openStreams() === 0, 'no upstream stream');
    } finally {
      await mcp.close();
      await sim.close();
    }
  });

  it('when nobody read for the idle time, or a cancelled wait ends', async () => {
    const sim = await startSimulator({ apiKey: KEY });
    const mcp = await connect(era, sim, ['--stream-idle-ms', '1000']);
    try {
      const id = await quietBrowser(sim);
      emit(sim, id, 1);
      page(await mcp.call('browsers_telemetry_stream', { id }));
      expect(sim.openStreams()).toBe(1);
      await until(() => sim.openStreams() === 0, 'the idle stream to close');
      // A waiting read holds its stream open; cancelling it lets the stream idle out. Were the cancellation
      // ignored, the wait (60 s) would hold it open past the bound of `until`.
      const last = lastSeqOf(sim, id);
      const controller = new AbortController();
      const progress: number[] = [];
      const pending = mcp.call(
        'browsers_telemetry_stream',
        { id, after: String(last), max_seconds: 60 },
        { signal: controller.signal, onprogress: (p) => void progress.push(p.progress), timeout: 120_000 },
      );
      await until(() => progress.length >= 1, 'the read to wait');
      expect(sim.openStreams()).toBe(1);
      controller.abort();
      await expect(pending).rejects.toThrow();
      await until(() => sim.openStreams() === 0, 'the stream of the cancelled read to close', 8000);
    } finally {
      await mcp.close();
      await sim.close();
    }
  });

  it('when the client closes', async () => {
    const sim = await startSimulator({ apiKey: KEY });
    const mcp = await connect(era, sim);
    const id = await quietBrowser(sim);
    try {
      await subscribe(mcp, `kernel://browsers/${id}/telemetry`);
      page(await mcp.call('browsers_telemetry_stream', { id: await quietBrowser(sim), max_seconds: 0 }));
      await until(() => sim.openStreams() === 2, 'two upstream streams');
      await mcp.close();
      await until(() => sim.openStreams() === 0, 'no upstream stream');
    } finally {
      await sim.close();
    }
  });
});

describe.each(ERAS)('a stream fed far more events than the buffer holds (%s client)', (era) => {
  it('keeps the newest, and answers an old cursor with the oldest kept and the dropped flag', async () => {
    const sim = await startSimulator({ apiKey: KEY });
    const mcp = await connect(era, sim, ['--stream-buffer-events', '10']);
    try {
      const id = await quietBrowser(sim);
      const [first] = emit(sim, id, 1);
      const opened = page(await mcp.call('browsers_telemetry_stream', { id }));
      expect(seqs(opened.events)).toContain(first);
      const burst = emit(sim, id, 200);
      const last = burst.at(-1) ?? 0;
      await buffered(mcp, id, last);
      const old = page(await mcp.call('browsers_telemetry_stream', { id, after: String(first), max_events: 100 }));
      expect(seqs(old.events)).toEqual(range(last - 9, last));
      expect(old.dropped).toBe(true);
      expect(old.note).toMatch(/left the buffer/);
      const recent = page(await mcp.call('browsers_telemetry_stream', { id, after: String(last - 3) }));
      expect(seqs(recent.events)).toEqual(range(last - 2, last));
      expect(recent.dropped).toBeUndefined();
      // A resource read holds the same ten.
      const r = await mcp.client.readResource({ uri: `kernel://browsers/${id}/telemetry` });
      const lines = (r.contents[0] as { text: string }).text.split('\n').filter(Boolean);
      expect(lines.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual(range(last - 9, last));
    } finally {
      await mcp.close();
      await sim.close();
    }
  });
});

describe.each(ERAS)('streams with --simulate (%s client)', (era) => {
  let mcp: McpSession;
  beforeAll(async () => {
    mcp = await connectStdio(era, { args: ['--simulate', '--toolsets', 'default,telemetry'] });
  });
  afterAll(async () => {
    await mcp?.close();
  });

  it('a browser created with telemetry streams events through the tool and the resource', async () => {
    const created = await mcp.call('browsers_create', {
      headless: true,
      telemetry: { browser: { console: { enabled: true } } },
    });
    expect(created.isError, text(created)).toBeFalsy();
    const id = (created.structuredContent as { session_id: string }).session_id;
    // The simulator writes a console event every 100 ms while someone listens.
    const first = page(await mcp.call('browsers_telemetry_stream', { id, max_events: 3, max_seconds: 10 }));
    expect(first.events.length).toBeGreaterThan(0);
    const next = page(await mcp.call('browsers_telemetry_stream', { id, after: first.cursor, max_seconds: 10 }));
    expect(next.events.length).toBeGreaterThan(0);
    expect(next.events[0]?.seq).toBe(Number(first.cursor) + 1);
    const r = await mcp.client.readResource({ uri: `kernel://browsers/${id}/telemetry` });
    const lines = (r.contents[0] as { text: string }).text.split('\n').filter(Boolean);
    expect((JSON.parse(lines[0] ?? '{}') as { seq: number }).seq).toBe(first.events[0]?.seq);
    // Deleting the browser ends its stream: the reader drains what is left and is told it ended.
    const deleted = await mcp.call('browsers_delete', { id });
    expect(deleted.isError, text(deleted)).toBeFalsy();
    let cursor = next.cursor;
    let ended = false;
    for (let i = 0; i < 50 && !ended; i++) {
      const p = page(await mcp.call('browsers_telemetry_stream', { id, after: cursor, max_events: 1000 }));
      cursor = p.cursor;
      ended = p.ended;
    }
    expect(ended).toBe(true);
  });
});
