/**
 * HTTP load: 50 concurrent clients x 200 tool calls against `kernel-mcp --transport http` (a child process), once
 * with 2026-07-28 clients and once with 2025-era clients; throughput, p50/p99 latency, errors, and the server's
 * RSS (from /proc/<pid>/status) before and after. Then the leak figures: the server's open sockets and the
 * simulator's open connections and streams once every client has closed.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { connectHttp, type Era, type Session } from './clients.js';
import type { HttpServerChild } from './http-server.js';
import { type Figure, mb, now, round, rssOf, type Stats, sleep, stats } from './lib.js';

export interface LoadRound {
  era: Era;
  clients: number;
  callsPerClient: number;
  calls: number;
  errors: number;
  firstError?: string;
  seconds: number;
  throughput: number;
  latency: Stats;
  rssBefore: number | undefined;
  rssAfter: number | undefined;
}

export interface LoadResult {
  rounds: LoadRound[];
  rssStart: number | undefined;
  rssEnd: number | undefined;
  leaks: {
    serverSocketsBefore: number | undefined;
    serverSocketsAfter: number | undefined;
    simulatorConnectionsAfter: number;
    simulatorStreamsAfter: number;
    simulatorConnectionsAfterExit?: number;
  };
}

/** Sockets a process holds open (Linux: its fds that point at sockets). */
export function socketCount(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    let n = 0;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
      } catch {}
    }
    return n;
  } catch {
    return undefined;
  }
}

export interface LoadOptions {
  server: HttpServerChild;
  browserId: string;
  clients?: number;
  callsPerClient?: number;
  sim: { openConnections(): number; openStreams(): number };
}

async function round1(o: LoadOptions, era: Era): Promise<LoadRound> {
  const clients = o.clients ?? 50;
  const callsPerClient = o.callsPerClient ?? 200;
  const pid = o.server.child.pid;
  const rssBefore = rssOf(pid);
  const times: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const sessions: Session[] = [];
  const started = now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      let s: Session;
      try {
        s = await connectHttp(era, o.server.url, o.server.token);
      } catch (err) {
        errors += callsPerClient;
        firstError ??= `connect: ${(err as Error).message}`;
        return;
      }
      sessions.push(s);
      for (let i = 0; i < callsPerClient; i++) {
        const t = now();
        try {
          const r = await s.call('browsers_retrieve', { id: o.browserId }, { timeout: 60_000 });
          if (r.isError) {
            errors++;
            firstError ??= r.content[0]?.text;
          }
        } catch (err) {
          errors++;
          firstError ??= (err as Error).message;
        }
        times.push(now() - t);
      }
    }),
  );
  const seconds = (now() - started) / 1000;
  await Promise.all(sessions.map((s) => s.close().catch(() => {})));
  return {
    era,
    clients,
    callsPerClient,
    calls: clients * callsPerClient,
    errors,
    ...(firstError ? { firstError } : {}),
    seconds: round(seconds, 2),
    throughput: round((clients * callsPerClient) / seconds, 0),
    latency: stats(times),
    rssBefore,
    rssAfter: rssOf(pid),
  };
}

/** Polls until `fn()` is at most `target` or the deadline passes; returns the last reading. */
async function settle(fn: () => number | undefined, target: number, ms: number): Promise<number | undefined> {
  const deadline = Date.now() + ms;
  let v = fn();
  while ((v === undefined || v > target) && Date.now() < deadline) {
    await sleep(100);
    v = fn();
  }
  return v;
}

export async function httpLoad(o: LoadOptions): Promise<LoadResult> {
  const pid = o.server.child.pid;
  const rssStart = rssOf(pid);
  const serverSocketsBefore = socketCount(pid);
  const rounds: LoadRound[] = [];
  for (const era of ['modern', 'legacy'] as const) rounds.push(await round1(o, era));
  // Clients closed: their sockets to the server should go (fetch keeps idle ones ~4 s).
  const serverSocketsAfter = await settle(() => socketCount(pid), serverSocketsBefore ?? 0, 10_000);
  const simulatorStreamsAfter = o.sim.openStreams();
  const simulatorConnectionsAfter = o.sim.openConnections();
  return {
    rounds,
    rssStart,
    rssEnd: rssOf(pid),
    leaks: { serverSocketsBefore, serverSocketsAfter, simulatorConnectionsAfter, simulatorStreamsAfter },
  };
}

export function httpLoadFigures(r: LoadResult): Figure[] {
  const out: Figure[] = [];
  for (const x of r.rounds) {
    const s = `HTTP load, ${x.era === 'modern' ? '2026-07-28' : '2025-11-25'} clients (${x.clients} x ${x.callsPerClient} calls)`;
    out.push(
      { section: s, name: 'throughput', value: x.throughput, unit: 'calls/s' },
      {
        section: s,
        name: 'latency p50 / p99',
        value: `${round(x.latency.p50, 2)} / ${round(x.latency.p99, 2)}`,
        unit: 'ms',
      },
      {
        section: s,
        name: 'errors',
        value: x.errors,
        unit: `of ${x.calls}`,
        target: '0',
        met: x.errors === 0,
        ...(x.firstError ? { note: x.firstError.slice(0, 160) } : {}),
      },
      { section: s, name: 'server RSS before / after', value: `${mb(x.rssBefore)} / ${mb(x.rssAfter)}`, unit: 'MB' },
    );
  }
  const s = 'HTTP load, leaks after every client closed';
  const l = r.leaks;
  out.push(
    {
      section: s,
      name: 'server sockets before / after (listening + upstream keep-alive)',
      value: `${l.serverSocketsBefore ?? 'n/a'} / ${l.serverSocketsAfter ?? 'n/a'}`,
      unit: '',
    },
    {
      section: s,
      name: 'simulator stream connections open',
      value: l.simulatorStreamsAfter,
      unit: '',
      target: '0',
      met: l.simulatorStreamsAfter === 0,
    },
    {
      section: s,
      name: 'simulator connections open (server idle; upstream keep-alive pool)',
      value: l.simulatorConnectionsAfter,
      unit: '',
    },
  );
  if (l.simulatorConnectionsAfterExit !== undefined) {
    out.push({
      section: s,
      name: 'simulator connections open after the server exited',
      value: l.simulatorConnectionsAfterExit,
      unit: '',
      target: '0',
      met: l.simulatorConnectionsAfterExit === 0,
    });
  }
  out.push({ section: s, name: 'server RSS at start / end', value: `${mb(r.rssStart)} / ${mb(r.rssEnd)}`, unit: 'MB' });
  return out;
}
