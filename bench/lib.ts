/**
 * Small helpers shared by the benchmarks: percentiles, timing, child processes, memory readings, free ports.
 * Nothing here asserts a time; the benchmarks only measure and report.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(BENCH_DIR, '..');
export const CLI = join(ROOT, 'dist', 'src', 'cli.js');

/** One figure of the report: a name, a value, its unit, and optionally a target and whether it was met. */
export interface Figure {
  section: string;
  name: string;
  value: number | string | null;
  unit: string;
  target?: string;
  met?: boolean;
  note?: string;
}

export interface Stats {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of sorted values (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN;
}

export function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

export const round = (v: number, digits = 2) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : v);

/** High-resolution milliseconds. */
export const now = () => Number(process.hrtime.bigint()) / 1e6;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A free loopback TCP port (bound and released; good enough on a quiet machine). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (Linux); undefined elsewhere. */
export function rssOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m?.[1] ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time a process has used (user + system), in clock ticks; undefined once it is gone. */
export function cpuTicksOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/**
 * Waits `atLeastMs`, then until a server has used no CPU for `quietMs` (at most `maxMs` more): its after-load work
 * (kernel-mcp gives memory back 5 s after the last request) then does not fall into the next server's measured turn.
 */
export async function quiet(pid: number | undefined, atLeastMs: number, quietMs = 300, maxMs = 5000): Promise<void> {
  await sleep(atLeastMs);
  const deadline = Date.now() + maxMs;
  let last = cpuTicksOf(pid);
  let since = Date.now();
  while (last !== undefined && Date.now() < deadline && Date.now() - since < quietMs) {
    await sleep(100);
    const now = cpuTicksOf(pid);
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

export const mb = (bytes: number | undefined) => (bytes === undefined ? null : round(bytes / 1024 / 1024, 1));

/** The environment a spawned server gets: just enough to run, plus what the caller adds. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'SYSTEMROOT']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return { ...env, ...extra };
}

/** Children this process started, so a crash or Ctrl-C still ends them (each by its own pid). */
const children = new Set<ChildProcess>();
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
export function killChildren() {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
process.once('exit', killChildren);

/** Ends a child: closes stdin, then SIGTERM, then SIGKILL; resolves when it exited. */
export async function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.stdin?.end();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Spawns a child whose stdout/stderr are captured (not inherited), tracked for cleanup. */
export function spawnNode(args: string[], env: Record<string, string>): ChildProcess {
  return track(spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] }));
}

/** Waits until a TCP port accepts connections (the HTTP server is up) or the deadline passes. */
export async function waitForPort(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`the server exited (code ${child.exitCode}) before listening on ${port}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on port ${port} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export function assertBuilt() {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm run bench does).`);
}

/** The machine the figures came from. */
export interface Machine {
  nproc: number;
  cpu: string;
  node: string;
  platform: string;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  loadAtStart: number;
}

export async function machine(): Promise<Machine> {
  const os = await import('node:os');
  const cpus = os.cpus();
  let cpu = cpus[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpu = m[1].trim();
  } catch {}
  return {
    nproc: os.availableParallelism?.() ?? cpus.length,
    cpu,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAtStart: round(os.loadavg()[0] ?? 0, 2),
  };
}

/** Runs `fn` for each input with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      await fn(items[i] as T, i);
    }
  });
  await Promise.all(workers);
}

/** One of the variants a figure compares: what one turn does, and how long each turn took (ms). */
export interface Turn {
  name: string;
  call: () => Promise<unknown>;
  times: number[];
  /** The call measures itself and resolves with its ms (cold starts: the time to the answer, not to the exit). */
  selfTimed?: boolean;
}

/**
 * Takes turns: `rounds` rounds in which every variant runs once, the order rotated each round so none always runs
 * right after another and drift on the machine touches them all alike. Each turn is timed into its `times`.
 */
export async function takeTurns(turns: readonly Turn[], rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    for (let j = 0; j < turns.length; j++) {
      const turn = turns[(i + j) % turns.length]!;
      const t = now();
      const r = await turn.call();
      turn.times.push(turn.selfTimed ? (r as number) : now() - t);
    }
  }
}
