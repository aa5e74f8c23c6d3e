/**
 * Starts the built CLI with `--transport http` on a free loopback port, as a child process.
 */
import type { ChildProcess } from 'node:child_process';
import { CLI, childEnv, freePort, spawnNode, stopChild, waitForPort } from './lib.js';

export interface HttpServerChild {
  url: string;
  token: string;
  child: ChildProcess;
  port: number;
  stderr(): string;
  stop(): Promise<void>;
}

export interface StartHttpOptions {
  baseUrl: string;
  apiKey: string;
  token: string;
  extraArgs?: string[];
  env?: Record<string, string>;
}

export async function startHttpChild(o: StartHttpOptions): Promise<HttpServerChild> {
  const port = await freePort();
  const child = spawnNode(
    [CLI, '--transport', 'http', '--host', '127.0.0.1', '--port', String(port), ...(o.extraArgs ?? [])],
    childEnv({
      KERNEL_API_KEY: o.apiKey,
      KERNEL_BASE_URL: o.baseUrl,
      KERNEL_MCP_HTTP_TOKEN: o.token,
      KERNEL_MCP_LOG_LEVEL: 'warn',
      // Stopped with SIGTERM: no load balancer to drain.
      KERNEL_MCP_SHUTDOWN_DRAIN_MS: '0',
      ...o.env,
    }),
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout?.resume();
  try {
    await waitForPort(port, 15_000, child);
  } catch (err) {
    await stopChild(child);
    throw new Error(`${(err as Error).message}\n${stderr.trim().split('\n').slice(0, 5).join('\n')}`);
  }
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    token: o.token,
    child,
    port,
    stderr: () => stderr,
    stop: () => stopChild(child, 5000),
  };
}
