/**
 * Leaks: after a burst of concurrent sessions (both eras) that call tools and follow live streams, and every
 * session has closed, nothing stays open — no upstream stream once it idles out, no socket stuck busy, no
 * client-facing socket on the HTTP server, and no connection at all once the server has stopped.
 * Checked from the simulator's side (`openStreams()`, `openConnections()`), from the stream hub, and from the HTTP
 * server process's own file descriptors.
 */
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHttp, type Era, inProcessServer, type Session } from '../../bench/clients.js';
import { socketCount } from '../../bench/http-load.js';
import { type HttpServerChild, startHttpChild } from '../../bench/http-server.js';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { eventually, Seen, secretsFor, textOf, watchProcess } from './harness.js';

const S = secretsFor('leaks');
const CLIENTS_PER_ERA = 8;
const CALLS_PER_CLIENT = 12;

let sim: Simulator;
const seen = new Seen(Object.values(S));
const proc = watchProcess();

beforeAll(async () => {
  sim = await startSimulator({ apiKey: S.apiKey, enforceBrowserTimeouts: false, eventIntervalMs: 20 });
});
afterAll(async () => {
  await sim?.close();
  proc.stop();
});

/** A browser with a log file that keeps growing (so `follow: true` streams stay open), via a short-lived pool. */
async function browserWithLiveLog(): Promise<string> {
  const agent = new Agent();
  try {
    const headers = { authorization: `Bearer ${S.apiKey}`, 'content-type': 'application/json' };
    const res = await request(`${sim.url}/browsers`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ headless: true }),
      dispatcher: agent,
    });
    const { session_id: id } = (await res.body.json()) as { session_id: string };
    const put = await request(`${sim.url}/browsers/${id}/fs/write_file?path=/var/log/live.log`, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      body: 'first line\n',
      dispatcher: agent,
    });
    await put.body.dump();
    return id;
  } finally {
    await agent.close();
  }
}

/** One client's work: API calls and reads of a live stream (which opens an upstream connection). */
async function work(session: Session, id: string, n: number) {
  for (let i = 0; i < n; i++) {
    const r =
      i % 3 === 0
        ? await session.call('browsers_logs_stream', {
            id,
            source: 'path',
            path: '/var/log/live.log',
            follow: true,
            max_seconds: 0.1,
          })
        : i % 3 === 1
          ? await session.call('browsers_retrieve', { id })
          : await session.call('browsers_list', { limit: 5 });
    seen.add(`${session.era} call ${i}`, r);
    expect(r.isError, textOf(r)).toBeFalsy();
  }
}

describe('in process (createMcpHandler)', () => {
  it('closes idle upstream streams and every socket after the sessions close', async () => {
    const id = await browserWithLiveLog();
    const agent = new Agent({ keepAliveTimeout: 200, keepAliveMaxTimeout: 200 });
    const srv = inProcessServer({
      baseUrl: sim.url,
      apiKey: S.apiKey,
      config: { toolsets: ['all'], streamIdleMs: 1000 },
      dispatcher: agent,
      hub: { sweepEveryMs: 100 },
    });
    const eras: Era[] = [...Array(CLIENTS_PER_ERA).fill('modern'), ...Array(CLIENTS_PER_ERA).fill('legacy')];
    const sessions = await Promise.all(eras.map((era) => srv.connect(era)));
    await Promise.all(sessions.map((s) => work(s, id, CALLS_PER_CLIENT)));
    // The live stream is open upstream while it is in use.
    expect(sim.openStreams()).toBeGreaterThanOrEqual(1);
    expect(srv.deps.hub.openCount()).toBe(1); // one upstream for all sixteen readers
    await Promise.all(sessions.map((s) => s.close()));

    // Nobody reads it any more: the hub lets it go after --stream-idle-ms, while the server keeps running.
    expect(await eventually(() => srv.deps.hub.openCount() === 0 && sim.openStreams() === 0, 10_000)).toBe(true);
    // Pooled sockets close after their keep-alive; one stuck with an unread answer would stay.
    expect(await eventually(() => sim.openConnections() === 0, 10_000), `${sim.openConnections()} open`).toBe(true);

    await srv.close();
    await agent.close();
    for (const line of srv.logs) seen.add('server log', line);
    seen.assertClean();
  });
});

describe('HTTP (the built CLI, --transport http)', () => {
  let server: HttpServerChild;
  let baseline: number | undefined;
  beforeAll(async () => {
    server = await startHttpChild({
      baseUrl: sim.url,
      apiKey: S.apiKey,
      token: S.httpToken,
      extraArgs: ['--toolsets', 'all', '--stream-idle-ms', '1000'],
    });
    baseline = socketCount(server.child.pid);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('holds no client socket and no stream after the sessions close, and no connection once stopped', async () => {
    const id = await browserWithLiveLog();
    const eras: Era[] = [...Array(CLIENTS_PER_ERA).fill('modern'), ...Array(CLIENTS_PER_ERA).fill('legacy')];
    const sessions = await Promise.all(eras.map((era) => connectHttp(era, server.url, S.httpToken)));
    await Promise.all(sessions.map((s) => work(s, id, CALLS_PER_CLIENT)));
    const during = socketCount(server.child.pid);
    expect(sim.openStreams()).toBeGreaterThanOrEqual(1);
    await Promise.all(sessions.map((s) => s.close()));

    expect(await eventually(() => sim.openStreams() === 0, 10_000), `${sim.openStreams()} streams open`).toBe(true);
    // What the server process holds now: its baseline (listening socket, stdio) plus idle upstream keep-alive
    // sockets, which the simulator counts. Client-facing sockets are all gone.
    const pid = server.child.pid;
    const settled = await eventually(
      () => (socketCount(pid) ?? 0) <= (baseline ?? 0) + sim.openConnections(),
      15_000,
      200,
    );
    expect(
      settled,
      `server sockets: baseline ${baseline}, during ${during}, now ${socketCount(pid)}; upstream ${sim.openConnections()}`,
    ).toBe(true);
    expect(server.child.exitCode).toBeNull();

    await server.stop();
    expect(await eventually(() => sim.openConnections() === 0, 10_000), `${sim.openConnections()} open`).toBe(true);
    seen.add('http server stderr', server.stderr());
    seen.assertClean();
  });
});

describe('afterwards', () => {
  it('had no unhandled rejection', () => {
    expect(proc.problems).toEqual([]);
  });
});
