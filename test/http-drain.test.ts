/**
 * Graceful drain (SIGTERM) of the HTTP server, for a load balancer: it keeps listening, `/healthz` answers 503, new MCP
 * requests get 503 with Retry-After, a request in flight finishes, open streams end with a final `shutdown` event,
 * then the process exits 0. A second signal cuts the drain short; a drain also ends by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import {
  connectHttp,
  type HttpServerProcess,
  INITIALIZE,
  legacyPost,
  rawRequest,
  sessionIdOf,
  startHttp,
} from './helpers/http.js';
import { text } from './helpers/mcp.js';

const KEY = 'sk_http_drain_key_0123456789';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY });
});
afterAll(async () => {
  await sim?.close();
});

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A 2025 session's GET stream, read to its end: the text it carried and how it ended. */
async function openStream(url: string) {
  const sid = sessionIdOf(await legacyPost(url, INITIALIZE));
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
  });
  expect(res.status).toBe(200);
  let seen = '';
  const ended = (async () => {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return 'ended';
        seen += decoder.decode(value, { stream: true });
      }
    } catch (err) {
      return `broken: ${err instanceof Error ? err.message : String(err)}`;
    }
  })();
  return { text: () => seen, ended };
}

function start(drainMs: number): Promise<HttpServerProcess> {
  return startHttp({
    args: ['--shutdown-drain-ms', String(drainMs)],
    env: { KERNEL_API_KEY: KEY, KERNEL_BASE_URL: sim.url },
  });
}

describe('SIGTERM drains the HTTP server', () => {
  it('answers 503 to health checks and new requests, lets a call in flight finish, then ends streams and exits', async () => {
    // A drain far longer than the test: it ends when the test sends the second signal.
    const srv = await start(600_000);
    try {
      expect((await rawRequest(srv.url.replace(/\/mcp$/, '/healthz'))).status).toBe(200);
      const stream = await openStream(srv.url);
      const client = await connectHttp('modern', srv.url);
      const created = await client.call('browsers_create', { headless: true });
      const id = (created.structuredContent as { session_id: string }).session_id;

      // A call in flight across the signal: the API answers it slowly.
      sim.setFaults({ latencyMs: 1500 });
      sim.resetRequests();
      const inFlight = client.call('browsers_retrieve', { id });
      await until(() => sim.requests.length > 0, 'the call to reach the API');
      srv.proc.kill('SIGTERM');

      const health = srv.url.replace(/\/mcp$/, '/healthz');
      await until(async () => (await rawRequest(health)).status === 503, '/healthz to answer 503');
      expect(JSON.parse((await rawRequest(health)).body)).toEqual({ status: 'stopping' });
      const refused = await legacyPost(srv.url, INITIALIZE);
      expect(refused.status).toBe(503);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);

      const done = await inFlight;
      expect(done.isError, text(done)).toBeFalsy();
      expect((done.structuredContent as { session_id: string }).session_id).toBe(id);
      sim.setFaults({});
      // Still draining (listening, refusing) after the call finished, and the stream is still open.
      expect(srv.proc.exitCode).toBeNull();
      expect((await rawRequest(health)).status).toBe(503);
      expect(stream.text()).not.toContain('event: shutdown');

      srv.proc.kill('SIGINT');
      expect(await stream.ended).toBe('ended');
      expect(stream.text()).toMatch(/event: shutdown\nretry: \d+\ndata: \{"reason":"server shutting down"\}\n\n/);
      expect(await srv.exited).toBe(0);
      expect(srv.stderr()).toContain('draining before shutdown');
      await client.close().catch(() => {});
    } finally {
      sim.setFaults({});
      await srv.stop();
    }
  });

  it.each([
    [1000, 'ends the drain by itself after --shutdown-drain-ms'],
    [0, 'with --shutdown-drain-ms 0 stops at once'],
  ])('--shutdown-drain-ms %i: %s, still ending streams with the shutdown event', async (drainMs) => {
    const srv = await start(drainMs);
    try {
      const stream = await openStream(srv.url);
      srv.proc.kill('SIGTERM');
      expect(await stream.ended).toBe('ended');
      expect(stream.text()).toContain('event: shutdown');
      expect(await srv.exited).toBe(0);
      expect(srv.stderr().includes('draining before shutdown')).toBe(drainMs > 0);
    } finally {
      await srv.stop();
    }
  });
});
