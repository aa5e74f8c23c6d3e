/**
 * MCP clients of both protocol eras on each transport, behind one small interface, for the benchmarks and the
 * reliability tests:
 * - in process: the product's `createServer` behind the SDK's `createMcpHandler`, driven through `handler.fetch`
 *   (no socket), with a 2026-07-28 client or a 2025-era one (served by the handler's stateless legacy leg);
 * - stdio: the built CLI spawned as a child;
 * - HTTP: a running `kernel-mcp --transport http` at a URL.
 * The modern client is `@modelcontextprotocol/client` pinned to 2026-07-28; the 2025 client is the 1.x SDK's.
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernHttp } from '@modelcontextprotocol/client';
import { StdioClientTransport as ModernStdio } from '@modelcontextprotocol/client/stdio';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as LegacyStdio } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport as LegacyHttp } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createMcpHandler, type McpHttpHandler } from '@modelcontextprotocol/server';
import type { Dispatcher } from 'undici';
import { type Config, makeConfig } from '../src/config.js';
import { TenantPort } from '../src/http/tenant-port.js';
import { KernelClient } from '../src/kernel/client.js';
import { createLogger, type Logger } from '../src/log.js';
import { type HubOptions, StreamHub } from '../src/resources/hub.js';
import { selectTools } from '../src/selection.js';
import { createServer, type ServerDeps } from '../src/server.js';
import { wrapClient } from '../test/helpers/mcp.js';
import { CLI } from './lib.js';

export type Era = 'modern' | 'legacy';
export const ERAS: readonly Era[] = ['modern', 'legacy'];

export interface ToolResult {
  content: { type: string; text?: string; data?: string; mimeType?: string; resource?: Record<string, unknown> }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export interface Session {
  era: Era;
  /** The SDK client itself (a v2 `Client` for modern, a 1.x `Client` for legacy), for what the wrapper lacks. */
  client: unknown;
  listTools(): Promise<Record<string, unknown>[]>;
  call(name: string, args?: Record<string, unknown>, opts?: { timeout?: number }): Promise<ToolResult>;
  close(): Promise<void>;
  /** The spawned server, for stdio sessions. */
  child?: ChildProcess;
  /** What the spawned server wrote to stderr so far (stdio sessions). */
  stderr(): string;
}

interface AnyClient {
  listTools(params?: unknown): Promise<{ tools: Record<string, unknown>[]; nextCursor?: string }>;
  callTool(params: { name: string; arguments?: Record<string, unknown> }, ...rest: unknown[]): Promise<unknown>;
  close(): Promise<void>;
}

function modernClient(): ModernClient {
  return new ModernClient({ name: 'kernel-mcp-bench', version: '1.0.0' }, {
    versionNegotiation: { mode: { pin: '2026-07-28' } },
  } as ConstructorParameters<typeof ModernClient>[1]);
}

function legacyClient(): LegacyClient {
  return new LegacyClient({ name: 'kernel-mcp-bench-2025', version: '1.0.0' }, { capabilities: {} });
}

function wrap(era: Era, client: AnyClient, extra: Partial<Session> = {}): Session {
  return { ...wrapClient(era, client as never), ...extra } as Session;
}

/** The product's server, in process: its deps, the SDK handler, and what its logger wrote. */
export interface InProcessServer {
  config: Config;
  deps: ServerDeps;
  handler: McpHttpHandler;
  /** Everything the server logged (debug level), for secret checks. */
  logs: string[];
  connect(era: Era): Promise<Session>;
  close(): Promise<void>;
}

export interface InProcessOptions {
  baseUrl: string;
  apiKey: string;
  config?: Partial<Config>;
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Passed to the KernelClient (tests shorten retry waits). */
  retryBaseMs?: number;
  /** The KernelClient's connection pool (tests pass one with a short keep-alive, to see sockets close). */
  dispatcher?: Dispatcher;
  /** Stream hub options beyond the config's buffers (tests shorten reconnect backoff). */
  hub?: Partial<HubOptions>;
}

export function inProcessServer(options: InProcessOptions): InProcessServer {
  const config: Config = makeConfig({ apiKey: options.apiKey, baseUrl: options.baseUrl, ...options.config });
  const logs: string[] = [];
  const logger: Logger = createLogger(options.logLevel ?? 'debug', (line) => {
    logs.push(line);
  });
  const client = new KernelClient({
    baseUrl: options.baseUrl,
    apiKey: options.apiKey,
    timeoutMs: config.timeoutMs,
    maxRetries: config.maxRetries,
    maxAnswerBytes: config.maxAnswerBytes,
    maxDownloadBytes: config.maxDownloadBytes,
    maxEventBytes: config.maxEventBytes,
    logger,
    ...(options.retryBaseMs !== undefined ? { retryBaseMs: options.retryBaseMs } : {}),
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  const hub = new StreamHub(client, {
    bufferEvents: config.streamBufferEvents,
    bufferBytes: config.streamBufferBytes,
    idleMs: config.streamIdleMs,
    logger,
    ...options.hub,
  });
  const deps: ServerDeps = {
    client,
    hub,
    logger,
    localFiles: false,
    simulated: false,
    selection: selectTools(config),
    skills: null,
  };
  const port = new TenantPort(hub, logger);
  const handler = createMcpHandler(() => createServer(config, deps, port), { bus: port.bus });
  const sessions = new Set<Session>();
  const fetchImpl = (url: string | URL, init?: RequestInit) => handler.fetch(new Request(url, init));
  return {
    config,
    deps,
    handler,
    logs,
    async connect(era) {
      const session = await connectFetch(era, fetchImpl);
      sessions.add(session);
      const close = session.close;
      session.close = async () => {
        sessions.delete(session);
        await close();
      };
      return session;
    },
    async close() {
      for (const s of [...sessions]) await s.close().catch(() => {});
      await handler.close();
      hub.close();
    },
  };
}

/** Connects a client of the given era to an in-process handler through its `fetch` (no socket). */
export async function connectFetch(
  era: Era,
  fetchImpl: (url: string | URL, init?: RequestInit) => Promise<Response>,
): Promise<Session> {
  const url = new URL('http://in-process.invalid/mcp');
  if (era === 'modern') {
    const c = modernClient();
    await c.connect(new ModernHttp(url, { fetch: fetchImpl }));
    return wrap(era, c as unknown as AnyClient);
  }
  const c = legacyClient();
  await c.connect(new LegacyHttp(url, { fetch: fetchImpl as never }));
  return wrap(era, c as unknown as AnyClient);
}

export interface StdioOptions {
  args?: string[];
  env: Record<string, string>;
  /** The script to run instead of the built CLI (the benchmarks' reference server). */
  script?: string;
  /** The 2026-07-28 client's cap on one incoming message (the SDK's default is 10 MiB). */
  maxBufferSize?: number;
}

/** Spawns the built CLI over stdio and connects a client of the given era. */
export async function connectStdio(era: Era, options: StdioOptions): Promise<Session> {
  const params = {
    command: process.execPath,
    args: [options.script ?? CLI, ...(options.args ?? [])],
    env: options.env,
    stderr: 'pipe',
    ...(options.maxBufferSize ? { maxBufferSize: options.maxBufferSize } : {}),
  };
  let stderr = '';
  const onStderr = (d: Buffer) => {
    stderr += d.toString();
  };
  if (era === 'modern') {
    const transport = new ModernStdio(params as ConstructorParameters<typeof ModernStdio>[0]);
    (transport.stderr as Readable | null)?.on('data', onStderr);
    const c = modernClient();
    await c.connect(transport);
    const child = (transport as unknown as { _process?: ChildProcess })._process;
    return wrap(era, c as unknown as AnyClient, { stderr: () => stderr, ...(child ? { child } : {}) });
  }
  const transport = new LegacyStdio(params as ConstructorParameters<typeof LegacyStdio>[0]);
  (transport.stderr as Readable | null)?.on('data', onStderr);
  const c = legacyClient();
  await c.connect(transport);
  const child = (transport as unknown as { _process?: ChildProcess })._process;
  return wrap(era, c as unknown as AnyClient, { stderr: () => stderr, ...(child ? { child } : {}) });
}

/** Connects a client of the given era to a running kernel-mcp HTTP endpoint. */
export async function connectHttp(era: Era, url: string, token?: string): Promise<Session> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (era === 'modern') {
    const c = modernClient();
    await c.connect(new ModernHttp(new URL(url), { requestInit: { headers } }));
    return wrap(era, c as unknown as AnyClient);
  }
  const transport = new LegacyHttp(new URL(url), { requestInit: { headers } });
  const c = legacyClient();
  await c.connect(transport);
  return wrap(era, c as unknown as AnyClient, {
    // End the 2025 session on the server (DELETE), then close the client.
    close: async () => {
      await transport.terminateSession().catch(() => {});
      await c.close();
    },
  });
}
