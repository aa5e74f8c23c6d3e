/**
 * Cold start: spawn a server over stdio and time until its first `tools/list` answer arrives (initialize, then
 * tools/list, sent at once). Variants take turns round by round — bare node, the reference server (a bare SDK v2
 * server, bench/reference-server.mjs), and kernel-mcp with the default tools, `--toolsets all` and `--dynamic` —
 * so drift on the machine touches them all alike. kernel-mcp does not contact the API before answering.
 */
import { spawn } from 'node:child_process';
import { CLI, childEnv, type Figure, now, round, type Stats, stats, type Turn, takeTurns, track } from './lib.js';
import { REFERENCE } from './procs.js';
import { type Target, target } from './targets.js';

const line = (m: unknown) => `${JSON.stringify(m)}\n`;
const HANDSHAKE =
  line({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1.0.0' } },
  }) +
  line({ jsonrpc: '2.0', method: 'notifications/initialized' }) +
  line({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });

/** Spawns `args` with node, sends the handshake and tools/list, resolves with ms until the tools/list answer. */
async function timeToToolsList(args: string[], env: Record<string, string>): Promise<number> {
  const started = now();
  const child = track(spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] }));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        for (;;) {
          const nl = out.indexOf('\n');
          if (nl < 0) break;
          const msg = JSON.parse(out.slice(0, nl)) as { id?: number; result?: { tools?: unknown[] }; error?: unknown };
          out = out.slice(nl + 1);
          if (msg.id !== 2) continue;
          if (!msg.result?.tools?.length) reject(new Error(`tools/list failed: ${JSON.stringify(msg).slice(0, 300)}`));
          else resolve(now() - started);
        }
      });
      void exited.then((code) => reject(new Error(`exited with ${code} before answering: ${err.slice(0, 500)}`)));
      timer = setTimeout(() => reject(new Error('no tools/list answer within 15 s')), 15_000);
      child.stdin?.write(HANDSHAKE);
    });
  } finally {
    clearTimeout(timer);
    child.stdin?.end();
    child.kill('SIGKILL');
    await exited;
  }
}

/** Spawns `node -e ''` and resolves with ms until it exited. */
function timeBareNode(): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = now();
    const child = track(spawn(process.execPath, ['-e', ''], { env: childEnv(), stdio: 'ignore' }));
    child.once('exit', () => resolve(now() - started));
    child.once('error', reject);
  });
}

export interface ColdStartResult {
  rounds: number;
  node: Stats;
  reference: Stats;
  kernel: { default: Stats; all: Stats; dynamic: Stats };
}

export async function coldStart(baseUrl: string, apiKey: string, rounds = 15): Promise<ColdStartResult> {
  const env = childEnv({ KERNEL_API_KEY: apiKey, KERNEL_BASE_URL: baseUrl, KERNEL_MCP_LOG_LEVEL: 'warn' });
  const run = (args: string[], e: Record<string, string>) => () => timeToToolsList(args, e);
  const refEnv = childEnv({ KERNEL_BASE_URL: baseUrl, KERNEL_API_KEY: apiKey });
  const turns: Turn[] = [
    { name: 'node', selfTimed: true, call: timeBareNode, times: [] },
    { name: 'reference', selfTimed: true, call: run([REFERENCE], refEnv), times: [] },
    { name: 'default', selfTimed: true, call: run([CLI], env), times: [] },
    { name: 'all', selfTimed: true, call: run([CLI, '--toolsets', 'all'], env), times: [] },
    { name: 'dynamic', selfTimed: true, call: run([CLI, '--dynamic'], env), times: [] },
  ];
  for (const t of turns) await t.call(); // warm the file-system cache; not counted
  await takeTurns(turns, rounds);
  const times = new Map(turns.map((t) => [t.name, t.times]));
  const s = (n: string) => stats(times.get(n)!);
  return {
    rounds,
    node: s('node'),
    reference: s('reference'),
    kernel: { default: s('default'), all: s('all'), dynamic: s('dynamic') },
  };
}

export function coldStartTargets(r: ColdStartResult): Target[] {
  return (['default', 'all', 'dynamic'] as const).map((k) =>
    target(`cold start to the first tools/list, ${k}`, r.kernel[k].p50, r.reference.p50, 1.15, 'at most'),
  );
}

export function coldStartFigures(r: ColdStartResult): Figure[] {
  const s = `Cold start (spawn → first tools/list answer, ${r.rounds} rounds, median / p95)`;
  const fmt = (x: Stats) => `${round(x.p50, 1)} / ${round(x.p95, 1)}`;
  return [
    { section: s, name: "bare node -e '' (exit)", value: fmt(r.node), unit: 'ms' },
    { section: s, name: 'reference: bare SDK v2 server', value: fmt(r.reference), unit: 'ms' },
    { section: s, name: 'kernel-mcp, default tools', value: fmt(r.kernel.default), unit: 'ms' },
    { section: s, name: 'kernel-mcp, --toolsets all', value: fmt(r.kernel.all), unit: 'ms' },
    { section: s, name: 'kernel-mcp, --dynamic', value: fmt(r.kernel.dynamic), unit: 'ms' },
  ];
}
