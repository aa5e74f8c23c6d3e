/**
 * SSE behaviour: per-stream ids from 1, Last-Event-ID resume without gaps or duplicates, cutStreamsAfter,
 * keepalive comments, streams ending with their resource, and open-stream accounting.
 */
import { describe, expect, it } from 'vitest';
import { startSimulator } from '../../simulator/index.js';
import { useSimulator } from '../helpers/fixtures.js';
import { type Json, readSse, request, type SseFrame, waitFor } from '../helpers/simulator-client.js';

const sim = useSimulator({ eventIntervalMs: 5, keepaliveMs: 20 });

async function browser(body: Json = { telemetry: {} }): Promise<string> {
  const a = await request(sim.url, 'POST', '/browsers', { json: body });
  expect(a.status).toBe(200);
  return a.json.session_id;
}

async function spawn(id: string, command: string): Promise<string> {
  const a = await request(sim.url, 'POST', `/browsers/${id}/process/spawn`, { json: { command } });
  expect(a.status).toBe(200);
  return a.json.process_id;
}

const ids = (frames: SseFrame[]) => frames.map((f) => Number(f.id));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('SSE streams', () => {
  it('numbers events per stream from 1, telemetry seq equal to the id', async () => {
    const a = await browser();
    const b = await browser();
    const first = await readSse(sim.url, `/browsers/${a}/telemetry`, { until: (f) => f.length >= 12 });
    const second = await readSse(sim.url, `/browsers/${b}/telemetry`, { until: (f) => f.length >= 3 });
    expect(ids(first.frames)).toEqual(range(1, 12));
    expect(first.frames.map((f) => f.json.seq)).toEqual(range(1, 12));
    expect(ids(second.frames)).toEqual([1, 2, 3]);
    expect(first.headers.get('x-sse-content-type')).toBe('application/json');
  });

  it('resumes from Last-Event-ID with no gap and no duplicate', async () => {
    const id = await browser({});
    const proc = await spawn(id, 'yes tick');
    const path = `/browsers/${id}/process/${proc}/stdout/stream`;
    const part1 = await readSse(sim.url, path, { until: (f) => f.length >= 5 });
    const last = part1.frames.at(-1)?.id;
    const part2 = await readSse(sim.url, path, { lastEventId: last, until: (f) => f.length >= 5 });
    expect(ids([...part1.frames, ...part2.frames])).toEqual(range(1, 10));
    for (const f of [...part1.frames, ...part2.frames]) {
      expect(Buffer.from(f.json.data_b64, 'base64').toString()).toBe('tick\n');
    }
  });

  it('cutStreamsAfter drops the connection after N events; resuming collects everything in order', async () => {
    const id = await browser({});
    const proc = await spawn(id, 'yes cut');
    const path = `/browsers/${id}/process/${proc}/stdout/stream`;
    sim.setFaults({ cutStreamsAfter: 3 });
    try {
      const collected: SseFrame[] = [];
      let lastEventId: string | undefined;
      for (let attempt = 0; attempt < 4; attempt++) {
        const r = await readSse(sim.url, path, { lastEventId });
        expect(r.end).toBe('error');
        expect(r.frames).toHaveLength(3);
        collected.push(...r.frames);
        lastEventId = r.frames.at(-1)?.id;
      }
      expect(ids(collected)).toEqual(range(1, 12));
    } finally {
      sim.setFaults({});
    }
    // The process kept running through the cuts.
    const status = await request(sim.url, 'GET', `/browsers/${id}/process/${proc}/status`);
    expect(status.json.state).toBe('running');
  });

  it('sends keepalive comments while idle', async () => {
    const id = await browser({});
    const watch = await request(sim.url, 'POST', `/browsers/${id}/fs/watch`, { json: { path: '/tmp' } });
    const r = await readSse(sim.url, `/browsers/${id}/fs/watch/${watch.json.watch_id}/events`, {
      until: (_f, comments) => comments.length >= 2,
    });
    expect(r.frames).toHaveLength(0);
    expect(r.comments.slice(0, 2)).toEqual(['keepalive', 'keepalive']);
  });

  it('ends the stream when the resource ends: process exit', async () => {
    const id = await browser({});
    const proc = await spawn(id, 'echo one; sleep 0.02; echo two; exit 3');
    const r = await readSse(sim.url, `/browsers/${id}/process/${proc}/stdout/stream`);
    expect(r.end).toBe('closed');
    const text = r.frames
      .filter((f) => f.json.data_b64)
      .map((f) => Buffer.from(f.json.data_b64, 'base64').toString())
      .join('');
    expect(text).toBe('one\ntwo\n');
    expect(r.frames.at(-1)?.json).toEqual({ event: 'exit', exit_code: 3 });
    // A later reader gets the full log and the end, and resuming after the last id gets nothing.
    const replay = await readSse(sim.url, `/browsers/${id}/process/${proc}/stdout/stream`);
    expect(ids(replay.frames)).toEqual(ids(r.frames));
    const after = await readSse(sim.url, `/browsers/${id}/process/${proc}/stdout/stream`, {
      lastEventId: r.frames.at(-1)?.id,
    });
    expect(after.frames).toHaveLength(0);
    expect(after.end).toBe('closed');
  });

  it('ends telemetry, log-follow and watch streams when the browser is deleted', async () => {
    const id = await browser();
    const watch = await request(sim.url, 'POST', `/browsers/${id}/fs/watch`, { json: { path: '/tmp' } });
    const streams = [
      readSse(sim.url, `/browsers/${id}/telemetry`),
      readSse(sim.url, `/browsers/${id}/logs/stream`, { query: { source: 'path', path: '/var/log/supervisord/neko' } }),
      readSse(sim.url, `/browsers/${id}/fs/watch/${watch.json.watch_id}/events`),
    ];
    await waitFor(() => sim.openStreams() >= 3);
    expect((await request(sim.url, 'DELETE', `/browsers/${id}`)).status).toBe(204);
    const results = await Promise.all(streams);
    expect(results.map((r) => r.end)).toEqual(['closed', 'closed', 'closed']);
    await waitFor(() => sim.openStreams() === 0);
  });

  it('follows a log file: appended lines arrive as events, ids are line numbers', async () => {
    const id = await browser({});
    await request(sim.url, 'PUT', `/browsers/${id}/fs/write_file`, {
      query: { path: '/tmp/app.log' },
      body: Buffer.from('line 1\nline 2\n'),
    });
    const r = await readSse(sim.url, `/browsers/${id}/logs/stream`, {
      query: { source: 'path', path: '/tmp/app.log' },
      onFrame: async (_frame, frames) => {
        if (frames.length === 2) {
          await request(sim.url, 'POST', `/browsers/${id}/process/exec`, {
            json: { command: 'echo line 3 >> /tmp/app.log' },
          });
        }
      },
      until: (f) => f.length >= 3,
    });
    expect(r.frames.map((f) => f.json.message)).toEqual(['line 1', 'line 2', 'line 3']);
    const resumed = await readSse(sim.url, `/browsers/${id}/logs/stream`, {
      query: { source: 'path', path: '/tmp/app.log', follow: false },
      lastEventId: 1,
    });
    expect(resumed.frames.map((f) => [f.id, f.json.message])).toEqual([
      ['2', 'line 2'],
      ['3', 'line 3'],
    ]);
  });

  it('emitTelemetry() pushes test events onto a session stream (only when its telemetry is on)', async () => {
    const on = await browser();
    const off = await browser({});
    const seq = sim.emitTelemetry(on, { type: 'console_log', data: { text: 'from the test' } });
    expect(sim.emitTelemetry(off, { type: 'console_log', data: {} })).toBeUndefined();
    const r = await readSse(sim.url, `/browsers/${on}/telemetry`, {
      lastEventId: (seq ?? 1) - 1,
      until: (f) => f.length >= 1,
    });
    expect(r.frames[0]?.json).toMatchObject({ seq, event: { type: 'console_log', data: { text: 'from the test' } } });
  });

  it('rejects a malformed Last-Event-ID and unknown stream owners', async () => {
    const id = await browser();
    const bad = await readSse(sim.url, `/browsers/${id}/telemetry`, { lastEventId: 'abc' });
    expect(bad.status).toBe(400);
    expect(bad.errorBody.message).toContain('Last-Event-ID');
    const missing = await readSse(sim.url, '/browsers/nope/telemetry');
    expect(missing.status).toBe(404);
  });

  it('counts open streams and connections, and returns to zero when clients leave', async () => {
    const id = await browser();
    const controller = new AbortController();
    const res = await fetch(`${sim.url}/browsers/${id}/telemetry`, {
      headers: { authorization: 'Bearer t' },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(sim.openStreams()).toBe(1);
    expect(sim.openConnections()).toBeGreaterThan(0);
    controller.abort();
    await waitFor(() => sim.openStreams() === 0);
  });

  it('close() ends open streams and resolves', async () => {
    const local = await startSimulator({ eventIntervalMs: 5 });
    const created = await request(local.url, 'POST', '/browsers', { json: { telemetry: {} } });
    const pending = readSse(local.url, `/browsers/${created.json.session_id}/telemetry`);
    await waitFor(() => local.openStreams() === 1);
    await local.close();
    const r = await pending;
    expect(['closed', 'error']).toContain(r.end);
    expect(local.openStreams()).toBe(0);
    expect(local.openConnections()).toBe(0);
  });
});
