/**
 * End-to-end test harness: spawns the BUILT CLI (dist/src/cli.js) over stdio and connects an MCP client of either
 * protocol era — a 2026-07-28 client (`@modelcontextprotocol/client` v2, pinned to the modern revision) or a
 * 2025-11-25 client (the `Client` of `@modelcontextprotocol/sdk` 1.x). Both sit behind one small interface so a
 * test can run the same assertions for each era.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Client as ModernClient } from '@modelcontextprotocol/client';
import { StdioClientTransport as ModernStdio } from '@modelcontextprotocol/client/stdio';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as LegacyStdio } from '@modelcontextprotocol/sdk/client/stdio.js';

export type Era = 'modern' | 'legacy';
export const ERAS: Era[] = ['modern', 'legacy'];

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'dist', 'src', 'cli.js');

export function assertBuilt() {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does).`);
}

/**
 * Runs the built CLI to its end (from `cwd`, default here) with no stdin and only PATH plus `env` in its
 * environment: for start-up failures, `--help`, `config` and the like.
 */
export function runCli(args: string[], env: Record<string, string> = {}, cwd?: string): SpawnSyncReturns<string> {
  assertBuilt();
  return spawnSync(process.execPath, [CLI, ...args], {
    ...(cwd ? { cwd } : {}),
    env: { PATH: process.env.PATH ?? '', ...env },
    input: '',
    encoding: 'utf8',
    timeout: 20_000,
  });
}

export interface ToolResult {
  content: { type: string; text?: string; data?: string; mimeType?: string; resource?: Record<string, unknown> }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export interface CallOptions {
  signal?: AbortSignal;
  onprogress?: (p: { progress: number; total?: number; message?: string }) => void;
  timeout?: number;
}

/** The methods both clients share, typed loosely enough for either. */
export interface AnyClient {
  listTools(params?: unknown): Promise<{ tools: Record<string, unknown>[]; nextCursor?: string }>;
  callTool(params: { name: string; arguments?: Record<string, unknown> }, ...rest: unknown[]): Promise<unknown>;
  listResourceTemplates(params?: unknown): Promise<{ resourceTemplates: Record<string, unknown>[] }>;
  listResources(params?: unknown): Promise<{ resources: Record<string, unknown>[] }>;
  readResource(params: { uri: string }): Promise<{ contents: Record<string, unknown>[] }>;
  getServerVersion(): unknown;
  getInstructions(): string | undefined;
  close(): Promise<void>;
}

export interface McpSession {
  era: Era;
  client: AnyClient;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  listTools(): Promise<Record<string, unknown>[]>;
  call(name: string, args?: Record<string, unknown>, options?: CallOptions): Promise<ToolResult>;
  close(): Promise<void>;
}

export interface SpawnOptions {
  args?: string[];
  env?: Record<string, string>;
  /**
   * The whole command line instead of `node dist/src/cli.js ...args`, as a client config, an installed bin or an
   * unpacked bundle runs it.
   */
  command?: { command: string; args: string[] };
  cwd?: string;
}

/** The seed the spawned servers' simulators use, so a failing run's ids repeat (a user's run gets a new one). */
export const TEST_SIMULATOR_SEED = '20261201';

/** The environment a spawned CLI gets: the few variables a process needs, debug logs and the pinned seed. */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'SYSTEMROOT', 'NODE_OPTIONS']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return { ...env, KERNEL_MCP_LOG_LEVEL: 'debug', KERNEL_MCP_SIMULATOR_SEED: TEST_SIMULATOR_SEED, ...extra };
}

/** Spawns the built CLI over stdio and connects a client of the given era. */
export async function connectStdio(era: Era, options: SpawnOptions = {}): Promise<McpSession> {
  if (!options.command) assertBuilt();
  const params = {
    ...(options.command ?? { command: process.execPath, args: [CLI, ...(options.args ?? [])] }),
    env: baseEnv(options.env),
    stderr: 'pipe' as const,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  };
  let stderr = '';
  const transport = era === 'modern' ? new ModernStdio(params) : new LegacyStdio(params);
  (transport.stderr as Readable | null)?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return wrapClient(era, await connectClient(era, transport), () => stderr);
}

/**
 * Connects a client of `era` over a transport of its own SDK: a 2026-07-28 client pinned to the modern revision
 * (checked), or a 2025-11-25 client.
 */
export async function connectClient(era: Era, transport: unknown): Promise<AnyClient> {
  if (era === 'modern') {
    const c = new ModernClient(
      { name: 'kernel-mcp-tests', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await c.connect(transport as Parameters<ModernClient['connect']>[0]);
    if (c.getProtocolEra() !== 'modern') throw new Error(`expected the modern era, got ${c.getProtocolEra()}`);
    return c as unknown as AnyClient;
  }
  const c = new LegacyClient({ name: 'kernel-mcp-tests-2025', version: '1.0.0' }, { capabilities: {} });
  await c.connect(transport as Parameters<LegacyClient['connect']>[0]);
  return c as unknown as AnyClient;
}

/**
 * One interface over either era's client: the 1.x client takes `callTool(params, resultSchema, options)`, the v2
 * client `callTool(params, options)`. The HTTP harness and the benchmarks wrap their clients with this too.
 */
export function wrapClient(era: Era, client: AnyClient, stderr: () => string = () => ''): McpSession {
  return {
    era,
    client,
    stderr,
    async listTools() {
      const all: Record<string, unknown>[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : undefined);
        all.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor);
      return all;
    },
    async call(name, args = {}, opts = {}) {
      const requestOptions: Record<string, unknown> = { timeout: opts.timeout ?? 30_000 };
      if (opts.signal) requestOptions.signal = opts.signal;
      if (opts.onprogress) requestOptions.onprogress = opts.onprogress;
      const result =
        era === 'legacy'
          ? await client.callTool({ name, arguments: args }, undefined, requestOptions)
          : await client.callTool({ name, arguments: args }, requestOptions);
      return result as ToolResult;
    },
    close: () => client.close(),
  };
}

/** The text of a result's first text block. */
export function text(result: ToolResult): string {
  return result.content.find((c) => c.type === 'text')?.text ?? '';
}
