/**
 * Fuzz: every tool (all toolsets, deprecated ones, the proxy-pool service) called with random and near-valid
 * arguments through the MCP server — in process (createMcpHandler, both client eras) and, in a smaller pass, the
 * built CLI over stdio. Properties, for every call:
 * - the call resolves (no thrown protocol error, no crash, no unhandled rejection) with a well-formed result;
 * - arguments the tool's schema rejects (its zod schema, or the JSON Schema it publishes) give an `isError` result
 *   with a validation message, and no request reaches the API (the simulator records every request);
 * - any other error is clear: words, no stack trace, no JS internals;
 * - the server keeps serving.
 * Seeds and run counts are fixed, so a failure reproduces.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import Ajv2020Import from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  connectFetch,
  connectStdio,
  type InProcessServer,
  inProcessServer,
  type Session,
} from '../../bench/clients.js';
import { childEnv } from '../../bench/lib.js';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { type Config, makeConfig } from '../../src/config.js';
import { KernelClient } from '../../src/kernel/client.js';
import { selectTools } from '../../src/selection.js';
import { compile, type ToolDefinition } from '../../src/tools/define.js';
import { MUTATIONS, type Mutation, mutate, randomArgs, type Schema, validArgs } from './arbitraries.js';
import {
  callRequests,
  expectClearError,
  expectWellFormed,
  Seen,
  secretsFor,
  textOf,
  VALIDATION_ERROR,
  watchProcess,
} from './harness.js';

const Ajv2020 = Ajv2020Import.default;
const SEED = 20260728;
const S = secretsFor('fuzz');

/** Every tool the product has: all toolsets, deprecated operations, and the proxy-pool service. */
const OVERRIDES: Partial<Config> = {
  toolsets: ['all'],
  includeDeprecated: true,
  timeoutMs: 3000,
  maxRetries: 0,
  // No idle sweep during the fuzz: the count of streams the hub holds only grows, one per stream opened.
  streamIdleMs: 3_600_000,
};
const DEFS: readonly ToolDefinition[] = selectTools({
  ...makeConfig({ proxyPoolUrl: 'http://127.0.0.1:1' }),
  ...OVERRIDES,
}).tools;
const BY_NAME = new Map(DEFS.map((d) => [d.name, d]));

let sim: Simulator;
let srv: InProcessServer;
let modern: Session;
let legacy: Session;
const published = new Map<string, Schema>();
const validators = new Map<string, (v: unknown) => boolean>();
const seen = new Seen(Object.values(S));
const proc = watchProcess();

beforeAll(async () => {
  sim = await startSimulator({ apiKey: S.apiKey, eventIntervalMs: 20, enforceBrowserTimeouts: false });
  srv = inProcessServer({
    baseUrl: sim.url,
    apiKey: S.apiKey,
    config: { ...OVERRIDES, proxyPoolUrl: sim.url },
  });
  modern = await srv.connect('modern');
  legacy = await srv.connect('legacy');
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: false });
  for (const t of await modern.listTools()) {
    const schema = t.inputSchema as Schema;
    published.set(t.name as string, schema);
    const validate = ajv.compile(schema);
    validators.set(t.name as string, (v) => validate(v) as boolean);
  }
});

afterAll(async () => {
  await modern?.close();
  await legacy?.close();
  await srv?.close();
  for (const line of srv?.logs ?? []) seen.add('server log', line);
  await sim?.close();
  proc.stop();
});

/**
 * Arguments that make a valid call wait are kept short in generated values: stream tools wait up to max_seconds
 * (at most 50 ms here), and delays and durations (typing delay, drag and sleep times) at most 50 ms. Mutations still
 * use the published schema, so out-of-range values of these fields are tried too.
 */
function forGeneration(schema: Schema): Schema {
  const cap = (node: unknown, key = ''): unknown => {
    if (Array.isArray(node)) return node.map((n) => cap(n));
    if (!node || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] =
        k === 'properties' && v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([name, p]) => [name, cap(p, name)]))
          : cap(v);
    }
    const t = out.type;
    if ((t === 'integer' || t === 'number') && /delay|duration|sleep|wait|_ms$/.test(key)) {
      const min = typeof out.minimum === 'number' ? out.minimum : 0;
      out.maximum = Math.max(min, Math.min(typeof out.maximum === 'number' ? out.maximum : 50, 50));
    }
    return out;
  };
  const capped = cap(schema) as Schema;
  const props = (capped.properties ?? {}) as Record<string, Schema>;
  if (!props.max_seconds) return capped;
  return {
    ...capped,
    properties: { ...props, max_seconds: { type: 'number', minimum: 0, maximum: 0.05 } },
    required: [...((capped.required as string[]) ?? []), 'max_seconds'],
  };
}

/** Local-file arguments (`*_path`) are dropped for the stdio pass: the fuzz must not read files on this machine. */
function withoutLocalPaths(args: Record<string, unknown>, schema: Schema): Record<string, unknown> {
  const out = { ...args };
  for (const k of Object.keys(out)) {
    if (k.endsWith('_path') && (schema.properties as Record<string, Schema> | undefined)?.[k.slice(0, -5)])
      delete out[k];
  }
  return out;
}

async function createBrowser(): Promise<string> {
  const res = await fetch(`${sim.url}/browsers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${S.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ headless: true, viewport: { width: 800, height: 600 } }),
  });
  return ((await res.json()) as { session_id: string }).session_id;
}

interface Verdict {
  valid: boolean;
  zod: boolean;
  published: boolean;
}

function judge(name: string, args: unknown): Verdict {
  const def = BY_NAME.get(name);
  const zod = def ? compile(def).zod.safeParse(args).success : false;
  const pub = validators.get(name)?.(args) ?? false;
  return { valid: zod && pub, zod, published: pub };
}

let calls = 0;
const outcomes = { invalid: 0, ok: 0, apiError: 0, otherError: 0 };

/** An error from the API side (an answer, or the lack of one), as opposed to a refusal before any request. */
const API_SIDE = /Kernel API|Proxy-pool service|Could not reach|did not answer/;

/**
 * One call and every property that must hold for it. `hub`: the in-process server's stream hub, when there is one,
 * to check that refused arguments opened no stream.
 */
async function check(
  session: Session,
  name: string,
  args: Record<string, unknown>,
  label: string,
  hub?: { size: number },
) {
  calls++;
  const verdict = judge(name, args);
  const before = sim.requests.length;
  const streamsBefore = hub?.size;
  const what = `${label} ${name} ${JSON.stringify(args).slice(0, 300)}`;
  let result: Awaited<ReturnType<Session['call']>>;
  try {
    result = await session.call(name, args, { timeout: 20_000 });
  } catch (err) {
    throw new Error(`${what}: the call threw ${(err as Error).message}`);
  }
  seen.add(what, result);
  expectWellFormed(result, what);
  const text = textOf(result);
  const sent = callRequests(sim.requests, before).map((r) => `${r.method} ${r.path}`);
  if (!verdict.valid) {
    outcomes.invalid++;
    if (!verdict.zod) {
      expect(result.isError, `${what}: invalid arguments must be an error`).toBe(true);
      expect(text, what).toMatch(VALIDATION_ERROR);
    }
    // Published-schema-invalid arguments the server still accepted would mean the schema promises more than it checks.
    const by = verdict.zod ? 'published JSON Schema' : 'tool schema';
    expect(sent, `${what}: no request may reach the API for arguments the ${by} rejects`).toEqual([]);
    if (hub) expect(hub.size, `${what}: no stream may be opened for arguments the ${by} rejects`).toBe(streamsBefore);
    expect(result.isError, `${what}: arguments the published schema rejects must be refused`).toBe(true);
    return;
  }
  if (!result.isError) {
    outcomes.ok++;
    return;
  }
  expectClearError(text, what);
  if (API_SIDE.test(text)) {
    outcomes.apiError++;
    return;
  }
  // Refused by the tool itself (a check the schema cannot express): it must say why, and send nothing.
  outcomes.otherError++;
  expect(text, `${what}: a refusal must say what is wrong`).toMatch(
    /Invalid argument|Input validation|not available|local file|shutting down|exactly one|one of/i,
  );
  expect(sent, `${what}: a refusal sends no request`).toEqual([]);
}

/** A tool and either random arguments or valid ones changed by one of `mutations` (`none` leaves them valid). */
function randomOrNearValidCall(mutations: readonly (Mutation | 'none')[]) {
  return fc.constantFrom(...DEFS.map((d) => d.name)).chain((name) => {
    const schema = published.get(name)!;
    return fc.tuple(
      fc.constant(name),
      fc.oneof(
        randomArgs(Object.keys(schema.properties ?? {})),
        fc
          .tuple(validArgs(forGeneration(schema)), fc.constantFrom(...mutations), fc.nat())
          .map(([v, m, p]) =>
            m === 'none' ? (v as Record<string, unknown>) : mutate(schema, v as Record<string, unknown>, m, p).args,
          ),
      ),
    );
  });
}

describe('fuzz in process (createMcpHandler)', () => {
  it('lists every tool with a JSON Schema ajv can compile', () => {
    expect(published.size).toBe(DEFS.length);
    expect(DEFS.length).toBeGreaterThanOrEqual(133);
  });

  it.each(DEFS.map((d) => d.name))(
    'near-valid arguments: %s (2026-07-28 client)',
    async (name) => {
      const schema = published.get(name)!;
      // Two calls in three address a live browser, so handlers run past the 404 of a random id.
      const browserId = name.startsWith('browsers_') ? await createBrowser() : undefined;
      const arb = fc.tuple(
        validArgs(forGeneration(schema)) as fc.Arbitrary<Record<string, unknown>>,
        fc.constantFrom<Mutation | 'none'>('none', ...MUTATIONS),
        fc.nat(),
      );
      await fc.assert(
        fc.asyncProperty(arb, async ([valid, mutation, pick]) => {
          const args = mutation === 'none' ? { ...valid } : mutate(schema, valid, mutation, pick).args;
          if (browserId && typeof args.id === 'string' && pick % 3 !== 0) args.id = browserId;
          await check(modern, name, args, `[modern ${mutation}]`, srv.deps.hub);
        }),
        { seed: SEED, numRuns: 10, endOnFailure: true },
      );
    },
    60_000,
  );

  it('random arguments for random tools (2026-07-28 client)', async () => {
    const names = DEFS.map((d) => d.name);
    await fc.assert(
      fc.asyncProperty(
        fc
          .constantFrom(...names)
          .chain((name) =>
            fc.tuple(
              fc.constant(name),
              randomArgs(Object.keys(BY_NAME.get(name) ? (published.get(name)?.properties ?? {}) : {})),
            ),
          ),
        async ([name, args]) => check(modern, name, args, '[modern random]', srv.deps.hub),
      ),
      { seed: SEED + 1, numRuns: 300, endOnFailure: true },
    );
  });

  it('random and near-valid arguments (2025-11-25 client)', async () => {
    await fc.assert(
      fc.asyncProperty(randomOrNearValidCall(MUTATIONS), async ([name, args]) =>
        check(legacy, name, args, '[legacy]', srv.deps.hub),
      ),
      { seed: SEED + 2, numRuns: 250, endOnFailure: true },
    );
  });

  it('still serves after the fuzz, with no unhandled rejection and no secret in any output', async () => {
    const r = await modern.call('browsers_list', { limit: 1 });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(proc.problems).toEqual([]);
    for (const line of srv.logs) seen.add('server log', line);
    expect(srv.logs.join('')).not.toMatch(/unhandled rejection|uncaught exception/);
    seen.assertClean();
    // The fuzz exercised both sides: refusals and calls that reached the API.
    expect(calls).toBeGreaterThan(DEFS.length * 10);
    expect(outcomes.invalid).toBeGreaterThan(100);
    expect(outcomes.ok + outcomes.apiError).toBeGreaterThan(100);
  });
});

describe.each(['modern', 'legacy'] as const)('fuzz over stdio (%s client)', (era) => {
  let session: Session;
  let outDir: string;
  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'kernel-mcp-fuzz-'));
    session = await connectStdio(era, {
      args: ['--toolsets', 'all', '--include-deprecated', '--max-retries', '0', '--timeout-ms', '3000'],
      env: childEnv({
        KERNEL_API_KEY: S.apiKey,
        KERNEL_BASE_URL: sim.url,
        KERNEL_PROXY_POOL_URL: sim.url,
        KERNEL_MCP_OUTPUT_DIR: outDir,
        KERNEL_MCP_LOG_LEVEL: 'debug',
      }),
    });
  });
  afterAll(async () => {
    await session?.close();
    if (session) seen.add(`stdio ${era} stderr`, session.stderr());
    rmSync(outDir, { recursive: true, force: true });
  });

  it('answers random and near-valid calls and stays up', async () => {
    await fc.assert(
      fc.asyncProperty(randomOrNearValidCall(['none', ...MUTATIONS]), async ([name, args]) =>
        check(session, name, withoutLocalPaths(args, published.get(name)!), `[stdio ${era}]`),
      ),
      { seed: SEED + (era === 'modern' ? 3 : 4), numRuns: 80, endOnFailure: true },
    );
    const r = await session.call('browsers_list', { limit: 1 });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(session.child?.exitCode ?? null).toBeNull();
    expect(session.stderr()).not.toMatch(/unhandled rejection|uncaught exception/);
    seen.add(`stdio ${era} stderr`, session.stderr());
    seen.assertClean();
  });
});

describe('the fuzz oracle itself', () => {
  it('fails for a server that forwards arguments its schema rejects to the API', async () => {
    // A deliberately broken server: it publishes nothing strict, accepts anything, and always calls the API.
    const client = new KernelClient({ baseUrl: sim.url, apiKey: S.apiKey, maxRetries: 0 });
    const handler = createMcpHandler(() => {
      const server = new McpServer({ name: 'broken', version: '0.0.0' });
      server.registerTool(
        'browsers_retrieve',
        { description: 'broken on purpose', inputSchema: z.looseObject({}) },
        async (args: Record<string, unknown>) => {
          await client
            .request({ method: 'GET', path: `/browsers/${encodeURIComponent(String(args.id))}` })
            .catch(() => {});
          return { content: [{ type: 'text' as const, text: 'ok' }] };
        },
      );
      return server;
    });
    const broken = await connectFetch('modern', (u, i) => handler.fetch(new Request(u, i)));
    try {
      const out = await fc.check(
        fc.asyncProperty(randomArgs(['id']), (args) => check(broken, 'browsers_retrieve', args, '[broken server]')),
        { seed: SEED, numRuns: 25 },
      );
      expect(out.failed).toBe(true);
      expect(String(out.errorInstance)).toMatch(/no request may reach the API|must be an error|must be refused/);
    } finally {
      await broken.close();
      await handler.close();
    }
  });
});
