/**
 * 2025-era sessions over HTTP: idle expiry, an open GET stream keeping a session alive, the concurrent-request
 * bound, and graceful shutdown ending the streams.
 */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAll,
  type HttpServerProcess,
  INITIALIZE,
  legacyPost,
  openSessionStream,
  sessionIdOf,
  startHttp,
} from './helpers/http.js';

/** Polls until `check` holds: the server's own log says when a session expired, so no test sleeps past a timer. */
async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(50);
  }
}

const count = (text: string, what: string) => text.split(what).length - 1;
/** The number of live legacy sessions, from the server's latest debug line about one opening or closing. */
const liveSessions = (stderr: string) =>
  Number([...stderr.matchAll(/legacy session (?:opened|closed) .*"sessions":(\d+)/g)].at(-1)?.[1] ?? 0);

describe('legacy session lifetime and the concurrency bound', () => {
  let srv: HttpServerProcess;
  beforeAll(async () => {
    srv = await startHttp({ args: ['--simulate', '--session-idle-ms', '1000', '--max-concurrent-requests', '1'] });
  });
  afterAll(async () => {
    await closeAll(srv);
  });

  it('expires an idle legacy session: its id is gone afterwards', async () => {
    const sid = sessionIdOf(await legacyPost(srv.url, INITIALIZE));
    const ok = await legacyPost(srv.url, { id: 2, method: 'tools/list' }, { 'mcp-session-id': sid });
    expect(ok.status).toBe(200);
    const expired = count(srv.stderr(), 'legacy session expired');
    await until(() => count(srv.stderr(), 'legacy session expired') > expired, 'the idle session to expire');
    const gone = await legacyPost(srv.url, { id: 3, method: 'tools/list' }, { 'mcp-session-id': sid });
    expect(gone.status).toBe(404);
  });

  it('answers 503 with Retry-After beyond the concurrent-request bound, and recovers', async () => {
    const sid = sessionIdOf(await legacyPost(srv.url, INITIALIZE));
    // An open GET stream is a stream, not a request: calls still go through beside it.
    const stream = await openSessionStream(srv.url, sid);
    expect(stream.response.status).toBe(200);
    const beside = await legacyPost(srv.url, { id: 2, method: 'tools/list' }, { 'mcp-session-id': sid });
    expect(beside.status).toBe(200);
    // A request whose body is still arriving is the one request in flight the bound allows.
    const slow = connect(srv.port, '127.0.0.1');
    await new Promise<void>((r) => slow.once('connect', () => r()));
    slow.write(
      `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nContent-Type: application/json\r\n` +
        `Accept: application/json, text/event-stream\r\nMcp-Session-Id: ${sid}\r\nContent-Length: 100\r\n\r\n{"jsonrpc"`,
    );
    let busy = await legacyPost(srv.url, { id: 3, method: 'tools/list' }, { 'mcp-session-id': sid });
    for (let i = 0; i < 50 && busy.status !== 503; i++) {
      await sleep(20);
      busy = await legacyPost(srv.url, { id: 3, method: 'tools/list' }, { 'mcp-session-id': sid });
    }
    expect(busy.status).toBe(503);
    expect(busy.headers['retry-after']).toBeTruthy();
    slow.destroy();
    stream.abort();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      await sleep(50);
      status = (await legacyPost(srv.url, { id: 4, method: 'tools/list' }, { 'mcp-session-id': sid })).status;
    }
    expect(status).toBe(200);
  });

  it('keeps a session with an open GET stream alive past the idle time', async () => {
    // Start from no sessions, so the one that expires next is the idle control opened here.
    await until(() => liveSessions(srv.stderr()) === 0, 'the earlier sessions to expire');
    // The control is opened first, so it is the idle session that expires.
    const control = sessionIdOf(await legacyPost(srv.url, INITIALIZE));
    const sid = sessionIdOf(await legacyPost(srv.url, INITIALIZE));
    const stream = await openSessionStream(srv.url, sid);
    expect(stream.response.status).toBe(200);
    const expired = count(srv.stderr(), 'legacy session expired');
    await until(() => count(srv.stderr(), 'legacy session expired') > expired, 'the idle control session to expire');
    expect(liveSessions(srv.stderr())).toBe(1);
    stream.abort();
    let status = 0;
    for (let i = 0; i < 50 && (status === 0 || status === 503); i++) {
      await sleep(50);
      status = (await legacyPost(srv.url, { id: 2, method: 'tools/list' }, { 'mcp-session-id': sid })).status;
    }
    expect(status).toBe(200);
    const gone = await legacyPost(srv.url, { id: 3, method: 'tools/list' }, { 'mcp-session-id': control });
    expect(gone.status).toBe(404);
  });
});

describe('graceful shutdown', () => {
  it('ends a legacy GET stream on SIGTERM and exits 0', async () => {
    const srv = await startHttp({ args: ['--simulate'] });
    try {
      const sid = sessionIdOf(await legacyPost(srv.url, INITIALIZE));
      const stream = await fetch(srv.url, {
        headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
      });
      expect(stream.status).toBe(200);
      const drained = (async () => {
        const reader = stream.body!.getReader();
        // A graceful end finishes the response; a process that dies or resets the socket makes the read throw.
        try {
          while (!(await reader.read()).done) {}
          return 'ended';
        } catch (err) {
          return `broken: ${err instanceof Error ? err.message : String(err)}`;
        }
      })();
      srv.proc.kill('SIGTERM');
      expect(await drained).toBe('ended');
      expect(await srv.exited).toBe(0);
      expect(srv.stderr()).toContain('legacy session closed');
    } finally {
      await srv.stop();
    }
  });
});
