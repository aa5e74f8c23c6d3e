/**
 * Per-call overhead: one simple tool call (`browsers_retrieve` of an existing session) against the simulator,
 * through the MCP server in process (createMcpHandler), over stdio (the built CLI as a child) and over HTTP (the
 * built CLI with --transport http, when it works), against the same request sent straight with undici. The paths
 * take turns call by call, so drift on the machine touches them all alike.
 */

import { join } from 'node:path';
import { Agent, request } from 'undici';
import { connectHttp, connectStdio, inProcessServer, type Session } from './clients.js';
import { BENCH_DIR, childEnv, type Figure, now, round, type Stats, stats } from './lib.js';

export interface OverheadResult {
  calls: number;
  tool: string;
  undici: Stats;
  inProcess: Stats;
  stdio: Stats;
  http?: Stats;
  httpNote?: string;
  /** The floor: a bare SDK server's echo tool over stdio (no API call at all). */
  bareSdkStdio: Stats;
}

export interface OverheadOptions {
  simUrl: string;
  apiKey: string;
  /** Env for the spawned stdio server. */
  stdioEnv: Record<string, string>;
  /** A running HTTP endpoint, or why there is none. */
  http?: { url: string; token: string } | { skip: string };
  calls?: number;
  warmup?: number;
}

export async function overhead(o: OverheadOptions): Promise<OverheadResult> {
  const calls = o.calls ?? 2000;
  const warmup = o.warmup ?? 200;
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 8 });
  const auth = { authorization: `Bearer ${o.apiKey}`, accept: 'application/json' };

  // A session to retrieve.
  const created = await request(`${o.simUrl}/browsers`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ headless: true, timeout_seconds: 3600 }),
    dispatcher: agent,
  });
  const browser = (await created.body.json()) as { session_id: string };
  const id = browser.session_id;
  const args = { id };

  const inProc = inProcessServer({ baseUrl: o.simUrl, apiKey: o.apiKey, logLevel: 'warn' });
  const sessions: Session[] = [];
  const paths: { name: string; call: () => Promise<void>; times: number[] }[] = [];
  let httpNote: string | undefined;
  try {
    paths.push({
      name: 'undici',
      times: [],
      call: async () => {
        const res = await request(`${o.simUrl}/browsers/${encodeURIComponent(id)}`, {
          headers: auth,
          dispatcher: agent,
        });
        const body = await res.body.text();
        if (res.statusCode !== 200) throw new Error(`undici path: HTTP ${res.statusCode}`);
        JSON.parse(body);
      },
    });
    const viaMcp = (name: string, s: Session) => {
      sessions.push(s);
      paths.push({
        name,
        times: [],
        call: async () => {
          const r = await s.call('browsers_retrieve', args);
          if (r.isError) throw new Error(`${name} path: ${r.content[0]?.text}`);
        },
      });
    };
    const bare = await connectStdio('modern', { env: childEnv(), script: join(BENCH_DIR, 'bare-server.mjs') });
    sessions.push(bare);
    paths.push({
      name: 'bareSdkStdio',
      times: [],
      call: async () => {
        const r = await bare.call('echo', { message: 'hello' });
        if (r.isError) throw new Error(`bare SDK path: ${r.content[0]?.text}`);
      },
    });
    viaMcp('inProcess', await inProc.connect('modern'));
    viaMcp('stdio', await connectStdio('modern', { env: o.stdioEnv }));
    if (o.http && 'url' in o.http) viaMcp('http', await connectHttp('modern', o.http.url, o.http.token));
    else httpNote = o.http && 'skip' in o.http ? o.http.skip : 'no HTTP endpoint';

    for (let i = 0; i < warmup; i++) for (const p of paths) await p.call();
    for (let i = 0; i < calls; i++) {
      for (const p of paths) {
        const t = now();
        await p.call();
        p.times.push(now() - t);
      }
    }
  } finally {
    for (const s of sessions) await s.close().catch(() => {});
    await inProc.close();
    await agent.close();
  }
  const by = (name: string) => paths.find((p) => p.name === name);
  const result: OverheadResult = {
    calls,
    tool: 'browsers_retrieve',
    undici: stats(by('undici')?.times ?? []),
    inProcess: stats(by('inProcess')?.times ?? []),
    stdio: stats(by('stdio')?.times ?? []),
    bareSdkStdio: stats(by('bareSdkStdio')?.times ?? []),
  };
  const http = by('http');
  if (http) result.http = stats(http.times);
  if (httpNote) result.httpNote = httpNote;
  return result;
}

export function overheadFigures(r: OverheadResult): Figure[] {
  const s = `Per-call latency (${r.tool}, ${r.calls} calls each, p50 / p99)`;
  const f = (x: Stats) => `${round(x.p50, 3)} / ${round(x.p99, 3)}`;
  const out: Figure[] = [
    { section: s, name: 'straight undici request', value: f(r.undici), unit: 'ms' },
    { section: s, name: 'floor: bare SDK echo tool over stdio (no API call)', value: f(r.bareSdkStdio), unit: 'ms' },
    { section: s, name: 'MCP in process (createMcpHandler)', value: f(r.inProcess), unit: 'ms' },
    { section: s, name: 'MCP over stdio', value: f(r.stdio), unit: 'ms' },
  ];
  if (r.http) out.push({ section: s, name: 'MCP over HTTP', value: f(r.http), unit: 'ms' });
  else out.push({ section: s, name: 'MCP over HTTP', value: null, unit: 'ms', note: `skipped: ${r.httpNote}` });
  const stdioOver = r.stdio.p50 - r.undici.p50;
  out.push(
    {
      section: s,
      name: 'MCP overhead over stdio, p50',
      value: round(stdioOver, 3),
      unit: 'ms',
      target: '< 1 ms',
      met: stdioOver < 1,
    },
    {
      section: s,
      name: "of which the bare SDK's own stdio round trip, p50",
      value: round(r.bareSdkStdio.p50, 3),
      unit: 'ms',
    },
    {
      section: s,
      name: "of which kernel-mcp's own work, p50 (stdio − undici − bare SDK)",
      value: round(stdioOver - r.bareSdkStdio.p50, 3),
      unit: 'ms',
    },
    { section: s, name: 'MCP overhead in process, p50', value: round(r.inProcess.p50 - r.undici.p50, 3), unit: 'ms' },
  );
  if (r.http) {
    out.push({
      section: s,
      name: 'MCP overhead over HTTP, p50',
      value: round(r.http.p50 - r.undici.p50, 3),
      unit: 'ms',
    });
  }
  return out;
}
