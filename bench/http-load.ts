/**
 * HTTP load: C concurrent clients × N tool calls each (`browsers_retrieve`, one upstream GET) at 50 × 40, 200 × 10
 * and the longer 50 × 200 and 200 × 50 (the whole bench takes about four minutes on two idle cores), with 2026-07-28
 * and 2025-era clients, against `kernel-mcp --transport http` and against the reference server over HTTP (each its
 * own process, the simulator a third), taking turns load by load (the short 50 × 40 and 200 × 10 twice each, in
 * A-B-B-A order, added up), after an uncounted 50 × 40 warm-up load per server and era; beside them the same GETs
 * sent straight with undici at the same concurrency. Throughput counts only answered calls; every error is counted.
 * Each server's RSS is read before any load (the warm-up included) and after the last, once its sockets closed. V8 keeps the heap it grew under load: waiting longer does not bring it back (an
 * HTTP server idle for a minute after these loads held the same RSS). kernel-mcp gives memory back itself once no
 * request has come for --idle-release-ms (30 s; src/http/memory.ts, longer than any gap between its loads here, so
 * no load starts on a heap just given back): RSS after the loads is read once that time has passed (for both servers,
 * after the same idle time).
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { Agent, request } from 'undici';
import { makeConfig } from '../src/config.js';
import { connectHttp, type Era, type Session } from './clients.js';
import { type Figure, mb, now, quiet, round, rssOf, type Stats, sleep, stats } from './lib.js';
import { type Target, target } from './targets.js';

export const SHAPES: readonly [number, number][] = [
  [50, 40],
  [200, 10],
  [50, 200],
  [200, 50],
];
/** Loads of at most this many calls are run twice per server, A-B-B-A (see loadPair). */
const SHORT_LOAD = 2000;
/** The uncounted load each server gets per era before the first measured one. */
const WARMUP: readonly [number, number] = [50, 40];
/** The RSS target: after the loads, at most this times the RSS before them. */
const RSS_BOUND = 1.2;
const ERA_NAME: Record<Era, string> = { modern: '2026-07-28', legacy: '2025-11-25' };

export interface LoadRun {
  calls: number;
  errors: number;
  firstError?: string;
  seconds: number;
  /** Answered calls per second. */
  throughput: number;
  latency: Stats;
}

export interface LoadCase {
  era: Era;
  clients: number;
  callsPerClient: number;
  kernel: LoadRun;
  reference: LoadRun;
  undici: LoadRun;
}

export interface ServerMemory {
  rssBefore: number | undefined;
  rssAfter: number | undefined;
  /** Seconds from the end of the last load to the rssAfter reading. */
  idleSeconds?: number;
  socketsBefore: number | undefined;
  socketsAfter: number | undefined;
}

export interface LoadResult {
  cases: LoadCase[];
  kernel: ServerMemory;
  reference: ServerMemory;
  simulatorSocketsAfter: number | undefined;
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

export interface LoadServer {
  url: string;
  token?: string;
  pid: number | undefined;
}

export interface LoadOptions {
  kernel: LoadServer;
  reference: LoadServer;
  simUrl: string;
  simPid: number | undefined;
  apiKey: string;
  browserId: string;
  shapes?: readonly [number, number][];
  /** Told each load as it ends (a long run shows where it is). */
  progress?: (line: string) => void;
}

/** What a client load measured: each successful call's time, the errors and the first one's message. */
export interface ClientLoad {
  times: number[];
  errors: number;
  firstError: string | undefined;
  seconds: number;
}

/**
 * `clients` MCP clients at once, each connected by `connect(c)` and then calling `browsers_retrieve {id}`
 * `perClient` times; a client that cannot connect counts all its calls as errors.
 */
export async function clientLoad(
  clients: number,
  perClient: number,
  id: string,
  connect: (client: number) => Promise<Session>,
): Promise<ClientLoad> {
  const times: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const sessions: Session[] = [];
  const started = now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      let s: Session;
      try {
        s = await connect(c);
      } catch (err) {
        errors += perClient;
        firstError ??= `connect: ${(err as Error).message}`;
        return;
      }
      sessions.push(s);
      for (let i = 0; i < perClient; i++) {
        const t = now();
        try {
          const r = await s.call('browsers_retrieve', { id }, { timeout: 60_000 });
          if (r.isError) {
            errors++;
            firstError ??= r.content[0]?.text;
            continue;
          }
        } catch (err) {
          errors++;
          firstError ??= (err as Error).message;
          continue;
        }
        times.push(now() - t);
      }
    }),
  );
  const seconds = (now() - started) / 1000;
  await Promise.all(sessions.map((s) => s.close().catch(() => {})));
  return { times, errors, firstError, seconds };
}

async function mcpLoad(server: LoadServer, era: Era, clients: number, perClient: number, id: string) {
  const r = await clientLoad(clients, perClient, id, () => connectHttp(era, server.url, server.token));
  return run(clients * perClient, r.errors, r.firstError, r.seconds, r.times);
}

/**
 * One load of each server, taking turns: `first` then the other. A short load (a few seconds) is run twice in
 * A-B-B-A order and each server's two runs are added up (calls, seconds, latencies), so drift on the machine
 * during the pair touches both alike; a long load runs once.
 */
async function loadPair(
  o: LoadOptions,
  era: Era,
  clients: number,
  perClient: number,
  first: 'kernel' | 'reference',
): Promise<Record<'kernel' | 'reference', LoadRun>> {
  const second: 'kernel' | 'reference' = first === 'kernel' ? 'reference' : 'kernel';
  const order = clients * perClient <= SHORT_LOAD ? [first, second, second, first] : [first, second];
  const runs: Record<'kernel' | 'reference', ClientLoad[]> = { kernel: [], reference: [] };
  for (const which of order) {
    const server = o[which];
    runs[which].push(
      await clientLoad(clients, perClient, o.browserId, () => connectHttp(era, server.url, server.token)),
    );
  }
  const added = (loads: ClientLoad[]) =>
    run(
      clients * perClient * loads.length,
      loads.reduce((n, l) => n + l.errors, 0),
      loads.find((l) => l.firstError)?.firstError,
      loads.reduce((n, l) => n + l.seconds, 0),
      loads.flatMap((l) => l.times),
    );
  return { kernel: added(runs.kernel), reference: added(runs.reference) };
}

async function undiciLoad(o: LoadOptions, clients: number, perClient: number) {
  const agent = new Agent({ connections: clients });
  const times: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const started = now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < perClient; i++) {
        const t = now();
        try {
          const res = await request(`${o.simUrl}/browsers/${encodeURIComponent(o.browserId)}`, {
            headers: { authorization: `Bearer ${o.apiKey}`, accept: 'application/json' },
            dispatcher: agent,
          });
          const body = await res.body.text();
          if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
          JSON.parse(body);
          times.push(now() - t);
        } catch (err) {
          errors++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  const seconds = (now() - started) / 1000;
  await agent.close();
  return run(clients * perClient, errors, firstError, seconds, times);
}

function run(calls: number, errors: number, firstError: string | undefined, seconds: number, times: number[]): LoadRun {
  return {
    calls,
    errors,
    ...(firstError ? { firstError: firstError.slice(0, 200) } : {}),
    seconds: round(seconds, 2),
    throughput: round((calls - errors) / seconds, 0),
    latency: stats(times),
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
  // Sockets are counted idle, before any load (the warm-up's clients may still be closing theirs afterwards).
  const idleSockets = { kernel: socketCount(o.kernel.pid), reference: socketCount(o.reference.pid) };
  // Memory before any load: what the server holds once started and idle.
  const kb = { rssBefore: rssOf(o.kernel.pid), socketsBefore: idleSockets.kernel };
  const rb = { rssBefore: rssOf(o.reference.pid), socketsBefore: idleSockets.reference };
  // A load per server and era first, not counted, as long as the first measured one: that one would otherwise also
  // pay for the code paths concurrency reaches first (compiled there and then; three 50 × 40 loads in a row ran at
  // about 450, 780 and 1,200 calls/s on a fresh kernel-mcp), on whichever server goes first.
  for (const era of ['modern', 'legacy'] as const) {
    for (const which of ['kernel', 'reference'] as const)
      await mcpLoad(o[which], era, WARMUP[0], WARMUP[1], o.browserId);
  }
  const cases: LoadCase[] = [];
  let flip = false;
  // When kernel-mcp last had requests (at the latest: the end of the last load pair).
  let kernelDone = now();
  for (const [clients, perClient] of o.shapes ?? SHAPES) {
    for (const era of ['modern', 'legacy'] as const) {
      // Take turns: which server goes first alternates from one load to the next.
      flip = !flip;
      const got = await loadPair(o, era, clients, perClient, flip ? 'kernel' : 'reference');
      kernelDone = now();
      const undici = await undiciLoad(o, clients, perClient);
      cases.push({ era, clients, callsPerClient: perClient, kernel: got.kernel, reference: got.reference, undici });
      o.progress?.(
        `  ${clients} × ${perClient}, ${ERA_NAME[era]}: kernel-mcp ${got.kernel.throughput}, reference ` +
          `${got.reference.throughput}, undici ${undici.throughput} calls/s; errors ${got.kernel.errors} / ${got.reference.errors}`,
      );
    }
  }
  // Every client closed: let sockets and idle timers go, and kernel-mcp give memory back (--idle-release-ms after
  // its last request), then read memory.
  const idleFrom = now();
  await quiet(o.kernel.pid, Math.max(0, kernelDone + makeConfig({}).idleReleaseMs + 500 - now()));
  const after = async (s: LoadServer, b: { socketsBefore: number | undefined }) => {
    const socketsAfter = await settle(() => socketCount(s.pid), b.socketsBefore ?? 0, 6000);
    return { rssAfter: rssOf(s.pid), idleSeconds: round((now() - idleFrom) / 1000, 1), socketsAfter };
  };
  const kernel = { ...kb, ...(await after(o.kernel, kb)) };
  const reference = { ...rb, ...(await after(o.reference, rb)) };
  return { cases, kernel, reference, simulatorSocketsAfter: socketCount(o.simPid) };
}

/** The message of a JSON-RPC error quoted in a client's error, else the error's start. */
function errorGist(error: string): string {
  return (/"message":"([^"]{1,120})/.exec(error)?.[1] ?? error).slice(0, 120);
}

export function loadTargets(r: LoadResult): Target[] {
  const out: Target[] = [];
  for (const c of r.cases) {
    out.push(
      target(
        `HTTP throughput, ${c.clients} × ${c.callsPerClient}, ${ERA_NAME[c.era]}`,
        c.kernel.throughput,
        c.reference.throughput,
        0.9,
        'at least',
        {
          unit: 'calls/s',
          direct: c.undici.throughput,
          note: `errors ${c.kernel.errors} / ${c.reference.errors}${c.kernel.firstError ? ` (${errorGist(c.kernel.firstError)})` : ''}`,
        },
      ),
    );
    // Zero errors is part of the target: a load with any is missed whatever its throughput.
    if (c.kernel.errors > 0) out[out.length - 1]!.met = false;
  }
  const rss = (m: ServerMemory) => (m.rssBefore && m.rssAfter ? m.rssAfter / m.rssBefore : Number.NaN);
  const k = rss(r.kernel);
  const t = target('server RSS after the loads ÷ before', k, 1, RSS_BOUND, 'at most', {
    unit: '×',
    note:
      `kernel-mcp ${mb(r.kernel.rssBefore)} → ${mb(r.kernel.rssAfter)} MB after ${r.kernel.idleSeconds ?? '?'} s idle; ` +
      `reference ${mb(r.reference.rssBefore)} → ${mb(r.reference.rssAfter)} MB after ${r.reference.idleSeconds ?? '?'} s`,
  });
  out.push(t);
  return out;
}

export function loadFigures(r: LoadResult): Figure[] {
  const out: Figure[] = [];
  const s = 'HTTP load (calls/s; p50 / p99 ms; errors)';
  const f = (x: LoadRun) =>
    `${x.throughput} calls/s; ${round(x.latency.p50, 1)} / ${round(x.latency.p99, 1)} ms; ${x.errors} errors`;
  for (const c of r.cases) {
    const w = `${c.clients} × ${c.callsPerClient}, ${ERA_NAME[c.era]}`;
    out.push(
      { section: s, name: `${w}: kernel-mcp`, value: f(c.kernel), unit: '' },
      { section: s, name: `${w}: reference`, value: f(c.reference), unit: '' },
      { section: s, name: `${w}: direct undici`, value: f(c.undici), unit: '' },
    );
  }
  const m = 'HTTP load: memory and sockets (before the first load / after the last, idle)';
  for (const [name, x] of [
    ['kernel-mcp', r.kernel],
    ['reference', r.reference],
  ] as const) {
    out.push(
      {
        section: m,
        name: `${name} RSS`,
        value: `${mb(x.rssBefore)} / ${mb(x.rssAfter)}`,
        unit: 'MB',
        note: `after ${x.idleSeconds ?? '?'} s idle`,
      },
      {
        section: m,
        name: `${name} sockets`,
        value: `${x.socketsBefore ?? 'n/a'} / ${x.socketsAfter ?? 'n/a'}`,
        unit: '',
      },
    );
  }
  out.push({ section: m, name: 'simulator sockets after', value: r.simulatorSocketsAfter ?? 'n/a', unit: '' });
  return out;
}
