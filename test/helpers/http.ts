/**
 * HTTP variant of the end-to-end harness: spawns the BUILT CLI with `--transport http` on an ephemeral loopback
 * port, and connects a client of either era over Streamable HTTP — a 2026-07-28 client (`@modelcontextprotocol/client`
 * v2, pinned to the modern revision) or a 2025-11-25 client (`@modelcontextprotocol/sdk` 1.x). Sessions share the
 * `McpSession` interface of the stdio harness, so a test runs the same assertions for each era.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { StreamableHTTPClientTransport as ModernHttp } from '@modelcontextprotocol/client';
import { StreamableHTTPClientTransport as LegacyHttp } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { assertBuilt, baseEnv, CLI, connectClient, type Era, type McpSession, wrapClient } from './mcp.js';

export interface HttpServerProcess {
  /** The MCP endpoint, e.g. http://127.0.0.1:41234/mcp */
  url: string;
  port: number;
  proc: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL if it has not exited after a while; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface StartHttpOptions {
  args?: string[];
  env?: Record<string, string>;
  /** How long to wait for the ready line. */
  timeoutMs?: number;
}

/** Spawns `kernel-mcp --transport http --port 0 ...args` and resolves once it is listening. */
export async function startHttp(options: StartHttpOptions = {}): Promise<HttpServerProcess> {
  assertBuilt();
  const proc = spawn(process.execPath, [CLI, '--transport', 'http', '--port', '0', ...(options.args ?? [])], {
    // No drain at SIGTERM unless a test asks for one: stop() is SIGTERM, and a server waits --shutdown-drain-ms.
    env: baseEnv({ KERNEL_MCP_SHUTDOWN_DRAIN_MS: '0', ...options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  proc.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`kernel-mcp did not start listening in time:\n${stderr}`));
    }, options.timeoutMs ?? 20_000);
    proc.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on (http:\/\/\S+\/mcp)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`kernel-mcp exited with ${code} before listening:\n${stderr}${stdout}`));
    });
  });
  const port = Number(new URL(url).port);
  return {
    url,
    port,
    proc,
    stderr: () => stderr,
    exited,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface ConnectHttpOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** A custom fetch for the client transport (e.g. one without keep-alive). */
  fetch?: typeof fetch;
}

/** Connects a client of the given era to a running HTTP server. */
export async function connectHttp(era: Era, url: string, options: ConnectHttpOptions = {}): Promise<McpSession> {
  const requestInit: RequestInit = options.token ? { headers: { Authorization: `Bearer ${options.token}` } } : {};
  const init = { requestInit, ...(options.fetch ? { fetch: options.fetch } : {}) };
  const transport = era === 'modern' ? new ModernHttp(new URL(url), init) : new LegacyHttp(new URL(url), init);
  return wrapClient(era, await connectClient(era, transport));
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One raw HTTP request with node:http, which (unlike fetch) lets a test set any Host header and see exactly what the
 * server answered.
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A JSON-RPC POST as a 2025-era client sends it. */
export function legacyPost(
  url: string,
  message: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const body = JSON.stringify({ jsonrpc: '2.0', ...message });
  return rawRequest(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      ...headers,
    },
    body,
  });
}

/** Opens the GET (SSE) stream of a 2025-era session; `abort()` drops it. */
export async function openSessionStream(url: string, sid: string): Promise<{ response: Response; abort(): void }> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
    signal: controller.signal,
  });
  return { response, abort: () => controller.abort() };
}

export const INITIALIZE = {
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1.0.0' } },
};

/** The JSON-RPC messages in a response body, whether JSON or SSE. */
export function messages(body: string): Record<string, unknown>[] {
  const trimmed = body.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const v = JSON.parse(trimmed);
    return Array.isArray(v) ? v : [v];
  }
  const out: Record<string, unknown>[] = [];
  for (const line of body.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data) out.push(JSON.parse(data));
  }
  return out;
}

/** Listens on a free loopback port: its origin, and a close that cuts open connections. */
async function listenLoopback(server: Server): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Passes a request on to `base` (an origin, or a URL the path is appended to), Host header and all. */
function forward(req: IncomingMessage, res: ServerResponse, base: string) {
  const up = httpRequest(base + (req.url ?? '/'), { method: req.method, headers: req.headers }, (upRes) => {
    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
    upRes.pipe(res);
  });
  up.on('error', () => res.destroy());
  res.on('close', () => up.destroy());
  req.pipe(up);
}

/** A reverse proxy that sends each request to the simulator of its bearer key: per-key API state, like Kernel's. */
export async function keyRouter(
  routes: Record<string, { url: string }>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createHttpServer((req, res) => {
    const key = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const sim = routes[key];
    if (!sim) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"unauthorized","message":"bad key"}');
      return;
    }
    forward(req, res, sim.url);
  });
  return listenLoopback(server);
}

/**
 * A load balancer in front of kernel-mcp instances, steered by the test: every request goes to the instance last
 * chosen with `use`, keeping its Host header (the public URL's), and `served` records which port took each one.
 */
export async function frontDoor(): Promise<{
  url: string;
  use(instance: HttpServerProcess): void;
  served: number[];
  close(): Promise<void>;
}> {
  let target: HttpServerProcess | undefined;
  const served: number[] = [];
  const server = createHttpServer((req, res) => {
    if (!target) {
      res.writeHead(502).end('no instance chosen');
      return;
    }
    served.push(target.port);
    forward(req, res, `http://127.0.0.1:${target.port}`);
  });
  return {
    ...(await listenLoopback(server)),
    use(instance) {
      target = instance;
    },
    served,
  };
}

/** Stops servers and closes clients and simulators, ignoring errors (for afterAll). */
export async function closeAll(
  ...things: ({ close(): Promise<unknown> } | { stop(): Promise<unknown> } | undefined)[]
): Promise<void> {
  for (const t of things) {
    if (!t) continue;
    try {
      if ('stop' in t) await t.stop();
      else await t.close();
    } catch {}
  }
}

/** The `Mcp-Session-Id` of an answer (an initialize), or an error. */
export function sessionIdOf(res: { headers: Record<string, string | string[] | undefined> }): string {
  const id = res.headers['mcp-session-id'];
  if (typeof id !== 'string' || !id) throw new Error('no mcp-session-id in the answer');
  return id;
}

export type KeyRouter = Awaited<ReturnType<typeof keyRouter>>;
