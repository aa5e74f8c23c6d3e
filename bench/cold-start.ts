/**
 * Cold start: spawn a process and time until it answers `initialize` on stdout (or, for bare node, until it
 * exits). The built kernel-mcp CLI is pointed at an already running simulator (KERNEL_BASE_URL), so the figure
 * does not include starting the simulator; it does not contact the API before answering anyway.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BENCH_DIR, CLI, childEnv, type Figure, now, round, type Stats, stats, track } from './lib.js';

const INITIALIZE = `${JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1.0.0' } },
})}\n`;

/** Spawns `args` with node, sends initialize at once, resolves with ms until the answer line arrives. */
async function timeToInitialize(args: string[], env: Record<string, string>): Promise<number> {
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
        if (/"id":1[,}]/.test(out) && out.includes('"result"')) resolve(now() - started);
      });
      void exited.then((code) => reject(new Error(`exited with ${code} before answering: ${err.slice(0, 500)}`)));
      timer = setTimeout(() => reject(new Error('no initialize answer within 15 s')), 15_000);
      child.stdin?.write(INITIALIZE);
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

async function series(runs: number, fn: () => Promise<number>): Promise<Stats> {
  await fn(); // warm the file-system cache; not counted
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await fn());
  return stats(times);
}

export interface ColdStartResult {
  runs: number;
  node: Stats;
  bareSdk: Stats;
  kernelMcp: Stats;
}

export async function coldStart(baseUrl: string, apiKey: string, runs = 20): Promise<ColdStartResult> {
  const env = childEnv({ KERNEL_API_KEY: apiKey, KERNEL_BASE_URL: baseUrl, KERNEL_MCP_LOG_LEVEL: 'warn' });
  const node = await series(runs, timeBareNode);
  const bareSdk = await series(runs, () => timeToInitialize([join(BENCH_DIR, 'bare-server.mjs')], childEnv()));
  const kernelMcp = await series(runs, () => timeToInitialize([CLI], env));
  return { runs, node, bareSdk, kernelMcp };
}

export function coldStartFigures(r: ColdStartResult): Figure[] {
  const s = 'Cold start (spawn → initialize answer)';
  return [
    { section: s, name: `bare node -e '' (exit), median / p95`, value: fmt(r.node), unit: 'ms' },
    { section: s, name: 'bare v2 SDK server, one tool, median / p95', value: fmt(r.bareSdk), unit: 'ms' },
    {
      section: s,
      name: 'kernel-mcp stdio, median / p95',
      value: fmt(r.kernelMcp),
      unit: 'ms',
      target: 'median < 300 ms',
      met: r.kernelMcp.p50 < 300,
    },
    {
      section: s,
      name: 'kernel-mcp over the bare SDK server (median)',
      value: round(r.kernelMcp.p50 - r.bareSdk.p50, 1),
      unit: 'ms',
    },
  ];
}

const fmt = (s: Stats) => `${round(s.p50, 1)} / ${round(s.p95, 1)}`;
