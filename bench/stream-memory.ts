/**
 * Run as its own process (`node --expose-gc --import tsx bench/stream-memory.ts [events]`) so the figures see only
 * this work: a fast local SSE source writes N events (respecting backpressure), the product's StreamHub (with the
 * default buffers) holds one upstream connection to it, and a reader drains it through `hub.read` with a cursor,
 * as the stream tools do. Memory is sampled after a forced GC while the events pass; the result is one JSON line.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeConfig } from '../src/config.js';
import { KernelClient } from '../src/kernel/client.js';
import { StreamHub } from '../src/resources/hub.js';

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const CHUNK = 256;
const gc = (globalThis as { gc?: () => void }).gc;

function frame(n: number): string {
  return `id: ${n}\ndata: {"seq":${n},"event":"log","message":"line ${n} of a fast simulated stream"}\n\n`;
}

async function writeEvents(res: ServerResponse, from: number) {
  for (let n = from; n <= TOTAL; ) {
    let chunk = '';
    for (let i = 0; i < CHUNK && n <= TOTAL; i++, n++) chunk += frame(n);
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
    if (res.destroyed) return;
  }
  res.end();
}

const source = createServer((req, res) => {
  const last = Number(req.headers['last-event-id'] ?? 0);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  void writeEvents(res, last + 1);
});
await new Promise<void>((r) => source.listen(0, '127.0.0.1', r));
const port = (source.address() as AddressInfo).port;

const config = makeConfig({});
const client = new KernelClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'bench-stream-key' });
const hub = new StreamHub(client, {
  bufferEvents: config.streamBufferEvents,
  bufferBytes: config.streamBufferBytes,
  idleMs: config.streamIdleMs,
});

interface Sample {
  seq: number;
  heapUsed: number;
  rss: number;
}
const samples: Sample[] = [];
const stream = hub.get({ path: '/events' });
const sample = () => {
  gc?.();
  const m = process.memoryUsage();
  samples.push({ seq: stream.lastSeq, heapUsed: m.heapUsed, rss: m.rss });
};
sample();
const sampler = setInterval(sample, 250);

let delivered = 0;
let dropped = 0;
let lastSeen = 0;
let outOfOrder = 0;
let maxBuffered = 0;
let maxBufferedBytes = 0;
const started = performance.now();
let cursor: number | undefined;
for (;;) {
  const r = await hub.read(
    { path: '/events' },
    { ...(cursor !== undefined ? { after: cursor } : {}), maxEvents: 1000, maxWaitMs: 2000 },
  );
  maxBuffered = Math.max(maxBuffered, stream.size);
  maxBufferedBytes = Math.max(maxBufferedBytes, stream.bytes);
  for (const e of r.events) {
    if (e.seq <= lastSeen) outOfOrder++;
    else if (e.seq > lastSeen + 1) dropped += e.seq - lastSeen - 1;
    lastSeen = e.seq;
    delivered++;
  }
  if (r.cursor !== null) cursor = r.cursor;
  if (r.ended) break;
}
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
sample();
hub.close();
await new Promise<void>((r) => source.close(() => r()));
source.closeAllConnections?.();

process.stdout.write(
  `${JSON.stringify({
    total: TOTAL,
    delivered,
    dropped,
    outOfOrder,
    lastSeq: lastSeen,
    seconds,
    eventsPerSecond: TOTAL / seconds,
    gcExposed: gc !== undefined,
    bufferEvents: config.streamBufferEvents,
    bufferBytes: config.streamBufferBytes,
    maxBuffered,
    maxBufferedBytes,
    samples,
  })}\n`,
);
process.exit(0);
