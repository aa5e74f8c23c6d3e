/**
 * The processes a benchmark run talks to, each its own child so none shares a CPU queue with the load generator:
 * the Kernel API simulator (`kernel-mcp simulator`), the fixed upstream of the large-answer benchmark, and the
 * reference server over HTTP (kernel-mcp over HTTP is started by http-server.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { BENCH_DIR, CLI, childEnv, freePort, spawnNode, stopChild, waitForPort } from './lib.js';

export interface Child {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Spawns `args` with node and resolves once it printed an http:// URL on stdout. */
async function spawnWithUrl(args: string[], env: Record<string, string>): Promise<Child> {
  const child = spawnNode(args, env);
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${args.join(' ')}: no URL within 15 s; ${err.slice(0, 300)}`)),
      15_000,
    );
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code}: ${err.slice(0, 300)}`));
    });
  });
  child.stdout?.resume();
  return { url, child, stop: () => stopChild(child, 3000) };
}

/** The Kernel API simulator in its own process. */
export function startSimulatorProcess(apiKey: string): Promise<Child> {
  return spawnWithUrl([CLI, 'simulator', '--port', '0', '--api-key', apiKey], childEnv());
}

/** The fixed upstream of the large-answer benchmark (bench/upstream.mjs). */
export function startUpstream(): Promise<Child> {
  return spawnWithUrl([join(BENCH_DIR, 'upstream.mjs')], childEnv());
}

export const REFERENCE = join(BENCH_DIR, 'reference-server.mjs');

/** The reference server over Streamable HTTP (both eras), pointed at `baseUrl`. */
export async function startReferenceHttp(baseUrl: string, apiKey: string): Promise<Child & { port: number }> {
  const port = await freePort();
  const child = spawnNode(
    [REFERENCE, '--http', String(port)],
    childEnv({ KERNEL_BASE_URL: baseUrl, KERNEL_API_KEY: apiKey }),
  );
  child.stdout?.resume();
  child.stderr?.resume();
  await waitForPort(port, 15_000, child);
  return { url: `http://127.0.0.1:${port}/mcp`, port, child, stop: () => stopChild(child, 3000) };
}
