/**
 * Streams:
 * 1. Events per second delivered to an MCP client from a fast simulator stream: a log file of N lines on a
 *    simulated browser, read with `browsers_logs_stream` (`follow: false`, so the simulator sends every line at
 *    wire speed), page after page with the returned cursor until the stream ends; in process and over stdio. The
 *    server's stream buffer is raised to hold the whole stream, so the figure is delivery speed, not buffer
 *    eviction. Every event is checked: none lost, none duplicated, in order.
 * 2. Memory while 1,000,000 events pass through the stream hub (default buffers) from a fast local SSE source, in
 *    a separate process with `--expose-gc` (bench/stream-memory.ts).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Agent, request } from 'undici';
import { connectStdio, inProcessServer, type Session } from './clients.js';
import { BENCH_DIR, type Figure, mb, now, ROOT, round, track } from './lib.js';

export interface DeliveryResult {
  path: string;
  events: number;
  calls: number;
  seconds: number;
  eventsPerSecond: number;
  lost: number;
  duplicated: number;
  /** Subscribed resources: how many `notifications/resources/updated` arrived (they are coalesced). */
  updates?: number;
}

export interface MemoryResult {
  total: number;
  delivered: number;
  dropped: number;
  outOfOrder: number;
  seconds: number;
  eventsPerSecond: number;
  gcExposed: boolean;
  bufferEvents: number;
  bufferBytes: number;
  maxBuffered: number;
  maxBufferedBytes: number;
  heapAt10pct: number;
  heapAt50pct: number;
  heapAtEnd: number;
  heapMax: number;
  rssMax: number;
  samples: { seq: number; heapUsed: number; rss: number }[];
}

export interface StreamsResult {
  delivery: DeliveryResult[];
  memory?: MemoryResult;
  memoryError?: string;
}

/** Creates a browser on the simulator and writes a log file of `lines` lines; returns the tool arguments. */
async function prepareLog(simUrl: string, apiKey: string, lines: number, agent: Agent) {
  const auth = { authorization: `Bearer ${apiKey}` };
  const created = await request(`${simUrl}/browsers`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ headless: true, timeout_seconds: 3600 }),
    dispatcher: agent,
  });
  const { session_id: id } = (await created.body.json()) as { session_id: string };
  let text = '';
  for (let i = 1; i <= lines; i++) text += `2026-01-01T00:00:00.000Z app: request ${i} handled in ${i % 97} ms\n`;
  const path = '/var/log/bench.log';
  const put = await request(`${simUrl}/browsers/${id}/fs/write_file?path=${encodeURIComponent(path)}`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/octet-stream' },
    body: text,
    dispatcher: agent,
  });
  await put.body.dump();
  if (put.statusCode >= 300) throw new Error(`could not write the log file: HTTP ${put.statusCode}`);
  return { id, source: 'path', path, follow: false };
}

/** Reads the whole stream through the tool, page by page; checks order and completeness. */
async function drain(session: Session, args: Record<string, unknown>, lines: number, label: string) {
  const started = now();
  let cursor: string | undefined;
  let calls = 0;
  let last = 0;
  let seen = 0;
  let lost = 0;
  let duplicated = 0;
  for (;;) {
    const r = await session.call('browsers_logs_stream', {
      ...args,
      max_events: 1000,
      max_seconds: 5,
      ...(cursor ? { after: cursor } : {}),
    });
    calls++;
    if (r.isError) throw new Error(`${label}: ${r.content[0]?.text}`);
    const page = (r.structuredContent ?? JSON.parse(r.content[0]?.text ?? '{}')) as {
      events: { seq: number }[];
      cursor: string | null;
      ended: boolean;
    };
    for (const e of page.events) {
      if (e.seq <= last) duplicated++;
      else {
        lost += e.seq - last - 1;
        last = e.seq;
        seen++;
      }
    }
    if (page.cursor) cursor = page.cursor;
    if (page.ended) break;
    if (calls > lines) throw new Error(`${label}: the stream did not end`);
  }
  const seconds = (now() - started) / 1000;
  lost += lines - last;
  return { path: label, events: seen, calls, seconds, eventsPerSecond: seen / seconds, lost, duplicated };
}

export async function streamDelivery(o: {
  simUrl: string;
  apiKey: string;
  stdioEnv: Record<string, string>;
  lines?: number;
}): Promise<DeliveryResult[]> {
  const lines = o.lines ?? 100_000;
  const agent = new Agent();
  const buffer = { streamBufferEvents: lines + 1000, streamBufferBytes: 256 * 1024 * 1024 };
  // browsers_logs_stream is outside the default toolsets.
  const tools = ['browsers_logs_stream'];
  const out: DeliveryResult[] = [];
  try {
    const inProc = inProcessServer({
      baseUrl: o.simUrl,
      apiKey: o.apiKey,
      logLevel: 'warn',
      config: { ...buffer, tools },
    });
    try {
      const s = await inProc.connect('modern');
      const args = await prepareLog(o.simUrl, o.apiKey, lines, agent);
      out.push(await drain(s, args, lines, 'tool, in process'));
      await s.close();
    } finally {
      await inProc.close();
    }
    const stdio = await connectStdio('modern', {
      env: o.stdioEnv,
      args: [
        '--tools',
        tools.join(','),
        '--stream-buffer-events',
        String(buffer.streamBufferEvents),
        '--stream-buffer-bytes',
        String(buffer.streamBufferBytes),
      ],
    });
    try {
      const args = await prepareLog(o.simUrl, o.apiKey, lines, agent);
      out.push(await drain(stdio, args, lines, 'tool, stdio'));
    } finally {
      await stdio.close();
    }
    try {
      out.push(await resourceDrain(o.simUrl, o.apiKey, o.stdioEnv, lines, agent));
    } catch (err) {
      out.push({
        path: `subscribed resource: not measured (${(err as Error).message.slice(0, 120)})`,
        events: 0,
        calls: 0,
        seconds: 0,
        eventsPerSecond: 0,
        lost: lines,
        duplicated: 0,
      });
    }
  } finally {
    await agent.close();
  }
  return out;
}

/**
 * The subscribed-resource path: a 2025-era client over stdio subscribes to the log file's stream resource
 * (`kernel://browsers/{id}/logs?source=path&path=...`, a live stream), and on every `notifications/resources/updated`
 * reads the events after its cursor, until it has all of them.
 */
async function resourceDrain(
  simUrl: string,
  apiKey: string,
  stdioEnv: Record<string, string>,
  lines: number,
  agent: Agent,
) {
  const { id, path } = await prepareLog(simUrl, apiKey, lines, agent);
  const session = await connectStdio('legacy', {
    env: stdioEnv,
    args: ['--stream-buffer-events', String(lines + 1000), '--stream-buffer-bytes', String(256 * 1024 * 1024)],
  });
  const client = session.client as LegacyClient;
  const uri = `kernel://browsers/${id}/logs?source=path&path=${encodeURIComponent(path)}`;
  let wake: () => void = () => {};
  let updates = 0;
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    if (n.params.uri === uri) {
      updates++;
      wake();
    }
  });
  let last = 0;
  let seen = 0;
  let lost = 0;
  let duplicated = 0;
  let reads = 0;
  let cursor: string | undefined;
  const started = now();
  try {
    await client.subscribeResource({ uri });
    const deadline = Date.now() + 120_000;
    while (seen < lines && Date.now() < deadline) {
      const res = await client.readResource({ uri: cursor ? `${uri}&after=${cursor}` : uri });
      reads++;
      const meta = (res._meta?.['com.onkernel/stream'] ?? {}) as { cursor?: string | null };
      const text = (res.contents[0] as { text?: string } | undefined)?.text ?? '';
      for (const line of text.split('\n')) {
        if (!line) continue;
        const seq = (JSON.parse(line) as { seq: number }).seq;
        if (seq <= last) duplicated++;
        else {
          lost += seq - last - 1;
          last = seq;
          seen++;
        }
      }
      if (meta.cursor) cursor = meta.cursor;
      if (seen < lines && !text) {
        // Nothing new: wait for the next update notification (or a short timeout).
        await new Promise<void>((r) => {
          const t = setTimeout(r, 500);
          wake = () => {
            clearTimeout(t);
            r();
          };
        });
      }
    }
    await client.unsubscribeResource({ uri });
  } finally {
    await session.close();
  }
  const seconds = (now() - started) / 1000;
  lost += lines - last;
  return {
    path: 'subscribed resource, stdio (2025 client)',
    updates,
    events: seen,
    calls: reads,
    seconds,
    eventsPerSecond: seen / seconds,
    lost,
    duplicated,
  };
}

/** Runs bench/stream-memory.ts in its own process with --expose-gc. */
export function streamMemory(total = 1_000_000): Promise<MemoryResult> {
  return new Promise((resolve, reject) => {
    const child = track(
      spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(BENCH_DIR, 'stream-memory.ts'), String(total)], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`stream-memory exited with ${code}: ${err.slice(0, 500)}`));
      try {
        const raw = JSON.parse(out.trim().split('\n').pop() ?? '') as Omit<
          MemoryResult,
          'heapAt10pct' | 'heapAt50pct' | 'heapAtEnd' | 'heapMax' | 'rssMax'
        >;
        const at = (fraction: number) =>
          raw.samples.find((x) => x.seq >= raw.total * fraction)?.heapUsed ?? raw.samples.at(-1)?.heapUsed ?? 0;
        resolve({
          ...raw,
          heapAt10pct: at(0.1),
          heapAt50pct: at(0.5),
          heapAtEnd: raw.samples.at(-1)?.heapUsed ?? 0,
          heapMax: Math.max(...raw.samples.map((x) => x.heapUsed)),
          rssMax: Math.max(...raw.samples.map((x) => x.rss)),
        });
      } catch (e) {
        reject(new Error(`could not read stream-memory output: ${(e as Error).message}`));
      }
    });
  });
}

export function streamFigures(r: StreamsResult): Figure[] {
  const out: Figure[] = [];
  for (const d of r.delivery) {
    const s = 'Streams: delivery to an MCP client (browsers_logs_stream, fast simulator stream)';
    out.push({
      section: s,
      name: `${d.path}: ${d.events} events in ${d.calls} ${d.updates !== undefined ? 'reads' : 'calls'}`,
      value: round(d.eventsPerSecond, 0),
      unit: 'events/s',
      target: 'none lost or duplicated',
      met: d.lost === 0 && d.duplicated === 0,
      ...(d.lost || d.duplicated
        ? { note: `${d.lost} lost, ${d.duplicated} duplicated` }
        : d.updates !== undefined
          ? { note: `${d.calls} reads after ${d.updates} coalesced update notifications` }
          : {}),
    });
  }
  const s = 'Streams: 1,000,000 events through the stream hub (default buffers)';
  if (!r.memory) {
    out.push({ section: s, name: 'memory run', value: null, unit: '', note: `failed: ${r.memoryError}` });
    return out;
  }
  const m = r.memory;
  const growth = m.heapAtEnd - m.heapAt10pct;
  out.push(
    { section: s, name: 'hub ingest + cursor reads', value: round(m.eventsPerSecond, 0), unit: 'events/s' },
    {
      section: s,
      name: 'events delivered / dropped by the buffer / out of order',
      value: `${m.delivered} / ${m.dropped} / ${m.outOfOrder}`,
      unit: '',
    },
    {
      section: s,
      name: 'heap used after GC at 10% / 50% / 100% (max)',
      value: `${mb(m.heapAt10pct)} / ${mb(m.heapAt50pct)} / ${mb(m.heapAtEnd)} (${mb(m.heapMax)})`,
      unit: 'MB',
    },
    {
      section: s,
      name: 'heap growth from 10% to 100% of the events',
      value: mb(growth),
      unit: 'MB',
      target: `flat: under the ${mb(m.bufferBytes)} MB buffer bound`,
      met: growth < m.bufferBytes,
    },
    {
      section: s,
      name: 'most events / bytes held in the buffer',
      value: `${m.maxBuffered} / ${round(m.maxBufferedBytes / 1024, 0)} KiB`,
      unit: '',
      note: `bounds: ${m.bufferEvents} events, ${mb(m.bufferBytes)} MB`,
    },
    { section: s, name: 'process RSS, max', value: mb(m.rssMax), unit: 'MB' },
  );
  return out;
}
