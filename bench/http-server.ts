/**
 * Starts the built CLI with `--transport http` on a free loopback port, as a child process, and tells whether the
 * HTTP transport works at all (it is built by another issue; until then the benchmarks that need it are skipped).
 */
import type { ChildProcess } from 'node:child_process';
import { connectHttp } from './clients.js';
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

/** Starts the HTTP server and makes one call with each era; returns it, or why HTTP is not usable yet. */
export async function tryHttp(o: StartHttpOptions): Promise<HttpServerChild | { skip: string }> {
  let server: HttpServerChild;
  try {
    server = await startHttpChild(o);
  } catch (err) {
    return { skip: `the HTTP transport did not start (${firstLine((err as Error).message)})` };
  }
  try {
    for (const era of ['modern', 'legacy'] as const) {
      const s = await connectHttp(era, server.url, server.token);
      try {
        const r = await s.call('browsers_list', { limit: 1 });
        if (r.isError) throw new Error(r.content[0]?.text ?? 'isError');
      } finally {
        await s.close();
      }
    }
    return server;
  } catch (err) {
    await server.stop();
    return { skip: `the HTTP transport does not answer tool calls yet (${firstLine((err as Error).message)})` };
  }
}

function firstLine(s: string): string {
  return (
    s
      .split('\n')
      .find((l) => l.trim())
      ?.slice(0, 200) ?? s
  );
}
