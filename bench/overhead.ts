/**
 * Per-call latency: one simple tool call (`browsers_retrieve` of an existing session, one upstream GET) through
 * kernel-mcp and through the reference server (a bare SDK v2 server whose tool makes the same GET with undici and
 * answers it the same way), over stdio and over HTTP, with clients of both eras; beside them the same GET sent
 * straight with undici. Every path takes its turn call by call, so drift on the machine touches them all alike.
 */
import { Agent, request } from 'undici';
import { connectHttp, connectStdio, type Era, type Session } from './clients.js';
import { childEnv, type Figure, round, type Stats, stats, type Turn, takeTurns } from './lib.js';
import { REFERENCE } from './procs.js';
import { type Target, target } from './targets.js';

type Transport = 'stdio' | 'http';
const ERA_NAME: Record<Era, string> = { modern: '2026-07-28', legacy: '2025-11-25' };

export interface OverheadResult {
  calls: number;
  tool: string;
  undici: Stats;
  /** `${transport} ${era}` → stats of kernel-mcp and of the reference. */
  paths: { transport: Transport; era: Era; kernel: Stats; reference: Stats }[];
}

export interface OverheadOptions {
  simUrl: string;
  apiKey: string;
  /** Env for the spawned kernel-mcp stdio server. */
  stdioEnv: Record<string, string>;
  kernelHttp: { url: string; token: string };
  referenceHttp: { url: string };
  browserId: string;
  calls?: number;
  warmup?: number;
}

export async function overhead(o: OverheadOptions): Promise<OverheadResult> {
  const calls = o.calls ?? 1000;
  const warmup = o.warmup ?? 100;
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 8 });
  const auth = { authorization: `Bearer ${o.apiKey}`, accept: 'application/json' };
  const args = { id: o.browserId };
  const sessions: Session[] = [];
  const paths: Turn[] = [];
  try {
    paths.push({
      name: 'undici',
      times: [],
      call: async () => {
        const res = await request(`${o.simUrl}/browsers/${encodeURIComponent(o.browserId)}`, {
          headers: auth,
          dispatcher: agent,
        });
        const body = await res.body.text();
        if (res.statusCode !== 200) throw new Error(`undici path: HTTP ${res.statusCode}`);
        JSON.parse(body);
      },
    });
    const add = (name: string, s: Session) => {
      sessions.push(s);
      paths.push({
        name,
        times: [],
        call: async () => {
          const r = await s.call('browsers_retrieve', args);
          if (r.isError) throw new Error(`${name}: ${r.content[0]?.text}`);
        },
      });
    };
    const refEnv = childEnv({ KERNEL_BASE_URL: o.simUrl, KERNEL_API_KEY: o.apiKey });
    for (const era of ['modern', 'legacy'] as const) {
      add(`stdio ${era} reference`, await connectStdio(era, { env: refEnv, script: REFERENCE }));
      add(`stdio ${era} kernel`, await connectStdio(era, { env: o.stdioEnv }));
      add(`http ${era} reference`, await connectHttp(era, o.referenceHttp.url));
      add(`http ${era} kernel`, await connectHttp(era, o.kernelHttp.url, o.kernelHttp.token));
    }
    for (let i = 0; i < warmup; i++) for (const p of paths) await p.call();
    await takeTurns(paths, calls);
  } finally {
    for (const s of sessions) await s.close().catch(() => {});
    await agent.close();
  }
  const by = (name: string) => stats(paths.find((p) => p.name === name)?.times ?? []);
  const result: OverheadResult = { calls, tool: 'browsers_retrieve', undici: by('undici'), paths: [] };
  for (const transport of ['stdio', 'http'] as const) {
    for (const era of ['modern', 'legacy'] as const) {
      result.paths.push({
        transport,
        era,
        kernel: by(`${transport} ${era} kernel`),
        reference: by(`${transport} ${era} reference`),
      });
    }
  }
  return result;
}

export function overheadTargets(r: OverheadResult): Target[] {
  return r.paths.map((p) =>
    target(`per call p50, ${p.transport}, ${ERA_NAME[p.era]}`, p.kernel.p50, p.reference.p50, 1.1, 'at most', {
      direct: r.undici.p50,
    }),
  );
}

export function overheadFigures(r: OverheadResult): Figure[] {
  const s = `Per-call latency (${r.tool}, one upstream GET, ${r.calls} calls each, p50 / p99)`;
  const f = (x: Stats) => `${round(x.p50, 3)} / ${round(x.p99, 3)}`;
  const out: Figure[] = [{ section: s, name: 'direct undici GET', value: f(r.undici), unit: 'ms' }];
  for (const p of r.paths) {
    const where = `${p.transport}, ${ERA_NAME[p.era]}`;
    out.push(
      { section: s, name: `reference, ${where}`, value: f(p.reference), unit: 'ms' },
      { section: s, name: `kernel-mcp, ${where}`, value: f(p.kernel), unit: 'ms' },
    );
  }
  return out;
}
