/**
 * The proxy-pool tools against undici's MockAgent: the Connect request (path, headers, camelCase body), answers in
 * snake_case without passwords, and the retry rules (CreateSession sent once; BulkCreateSessions and DeleteSession
 * retried on unavailable and resource_exhausted only).
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeConfig } from '../src/config.js';
import { KernelClient } from '../src/kernel/client.js';
import { createLogger } from '../src/log.js';
import { proxyPoolClient } from '../src/proxy-pool/client.js';
import { proxyPoolTools } from '../src/proxy-pool/tools.js';
import type { ToolContext, ToolDefinition } from '../src/tools/define.js';
import { errorResult } from '../src/tools/results.js';
import { ENDPOINT, ids, POOL, PROVIDER, SESSION_ID, WS } from './helpers/proxy-pool-fixtures.js';

const KERNEL = 'http://kernel.test';
const POOL_URL = 'http://pool.test';
const KEY = 'sk_test_proxy_pool_0123456789';
const PASSWORD = 'pw-mock-7f3a9c2e';

let agent: MockAgent;
let pool: ReturnType<MockAgent['get']>;
let logs: string[];

interface Seen {
  path: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}
let seen: Seen[];

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  pool = agent.get(POOL_URL);
  seen = [];
  logs = [];
});
afterEach(async () => {
  await agent.close();
});

const tool = (name: string): ToolDefinition => {
  const t = proxyPoolTools.find((d) => d.name === name);
  if (!t) throw new Error(`no tool ${name}`);
  return t;
};

function context(kernel?: KernelClient): ToolContext {
  const client =
    kernel ?? new KernelClient({ baseUrl: KERNEL, apiKey: KEY, dispatcher: agent, retryBaseMs: 1, maxRetries: 2 });
  return {
    client,
    config: makeConfig({ proxyPoolUrl: POOL_URL, maxRetries: 2 }),
    logger: createLogger('debug', (line) => logs.push(line)),
    hub: undefined as unknown as ToolContext['hub'],
    localFiles: false,
    signal: new AbortController().signal,
    progress: async () => {},
  };
}

/** Runs a tool the way registerTools does: validated arguments, thrown errors as isError results. */
async function run(name: string, args: Record<string, unknown>, ctx = context()): Promise<CallToolResult> {
  const def = tool(name);
  const parsed = def.input().parse(args);
  try {
    return await def.handler(parsed, ctx);
  } catch (err) {
    return errorResult(err);
  }
}

const textOf = (r: CallToolResult) => (r.content[0] as { text: string }).text;

/** Queues one answer for an RPC and records the request it answers. */
function answer(rpc: string, status: number, body: unknown) {
  pool.intercept({ path: `/proxies.v1.Proxies/${rpc}`, method: 'POST' }).reply(
    status,
    (opts) => {
      seen.push({
        path: opts.path,
        headers: opts.headers as Record<string, string>,
        body: JSON.parse(String(opts.body)) as Record<string, unknown>,
      });
      return body;
    },
    { headers: { 'content-type': 'application/json' } },
  );
}

const wireSession = {
  id: SESSION_ID,
  workspaceId: WS,
  poolId: POOL,
  providerId: PROVIDER,
  token: 'sess-abc123',
  ...ENDPOINT,
  enabled: true,
  version: '1',
  createdAt: '2026-06-29T10:15:00Z',
  updatedAt: '2026-06-29T10:15:00Z',
};
const err = (code: string, message = `simulated ${code}`) => ({ code, message });

describe('proxy_pool_sessions_create', () => {
  it('sends one Connect call with the camelCase body and answers the session in snake_case', async () => {
    answer('CreateSession', 200, { session: { ...wireSession, password: PASSWORD } });
    const result = await run('proxy_pool_sessions_create', {
      ...ids,
      token: 'sess-abc123',
      ...ENDPOINT,
      password: PASSWORD,
    });
    expect(result.isError).toBeUndefined();
    expect(seen).toHaveLength(1);
    const req = seen[0]!;
    expect(req.path).toBe('/proxies.v1.Proxies/CreateSession');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['connect-protocol-version']).toBe('1');
    expect(req.headers['connect-timeout-ms']).toBe('60000');
    expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req.body).toEqual({
      workspaceId: WS,
      poolId: POOL,
      providerId: PROVIDER,
      token: 'sess-abc123',
      ...ENDPOINT,
      password: PASSWORD,
    });
    expect(result.structuredContent).toEqual({
      session: {
        id: SESSION_ID,
        workspace_id: WS,
        pool_id: POOL,
        provider_id: PROVIDER,
        token: 'sess-abc123',
        ...ENDPOINT,
        enabled: true,
        version: '1',
        created_at: '2026-06-29T10:15:00Z',
        updated_at: '2026-06-29T10:15:00Z',
      },
    });
    // Even a service that echoed the password would not get it into the result.
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
    expect(logs.join('')).not.toContain(PASSWORD);
  });

  it.each(['unavailable', 'resource_exhausted', 'deadline_exceeded', 'internal'])(
    'is sent exactly once on %s',
    async (code) => {
      const status = { unavailable: 503, resource_exhausted: 429, deadline_exceeded: 504, internal: 500 }[code]!;
      answer('CreateSession', status, err(code));
      answer('CreateSession', 200, { session: wireSession });
      const result = await run('proxy_pool_sessions_create', { ...ids, token: 'sess-abc123' });
      expect(result.isError).toBe(true);
      expect(seen).toHaveLength(1);
      expect(textOf(result)).toContain(
        `Proxy-pool service ${code} (HTTP ${status}, CreateSession): simulated ${code}.`,
      );
    },
  );

  it('reports a service password echo in an error as [redacted]', async () => {
    answer('CreateSession', 400, err('invalid_argument', `password ${PASSWORD} is too weak`));
    const result = await run('proxy_pool_sessions_create', {
      ...ids,
      scheme: 'http',
      host: 'h.example',
      port: 1,
      username: 'u',
      password: PASSWORD,
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('password [redacted] is too weak');
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
  });
});

describe('proxy_pool_sessions_bulk_create', () => {
  const args = { ...ids, sessions: [{ token: 'r-1' }, { token: 'r-2' }] };
  const ok = {
    sessions: [
      { ...wireSession, token: 'r-1' },
      { ...wireSession, id: WS, token: 'r-2' },
    ],
  };

  it.each([
    ['unavailable', 503],
    ['resource_exhausted', 429],
  ])('is retried on %s', async (code, status) => {
    answer('BulkCreateSessions', status, err(code));
    answer('BulkCreateSessions', 200, ok);
    const result = await run('proxy_pool_sessions_bulk_create', args);
    expect(result.isError).toBeUndefined();
    expect(seen).toHaveLength(2);
    expect(seen[0]!.body).toEqual(seen[1]!.body);
    expect(seen[0]!.body.sessions).toEqual([{ token: 'r-1' }, { token: 'r-2' }]);
    expect(result.structuredContent).toMatchObject({ count: 2, sessions: [{ token: 'r-1' }, { token: 'r-2' }] });
  });

  it('gives up after KERNEL_MAX_RETRIES retries', async () => {
    for (let i = 0; i < 4; i++) answer('BulkCreateSessions', 503, err('unavailable'));
    const result = await run('proxy_pool_sessions_bulk_create', args);
    expect(result.isError).toBe(true);
    expect(seen).toHaveLength(3);
    expect(textOf(result)).toMatch(/unavailable .*already retried/);
  });

  it.each([
    ['deadline_exceeded', 504],
    ['internal', 500],
    ['aborted', 409],
    ['invalid_argument', 400],
  ])('is not retried on %s', async (code, status) => {
    answer('BulkCreateSessions', status, err(code));
    answer('BulkCreateSessions', 200, ok);
    const result = await run('proxy_pool_sessions_bulk_create', args);
    expect(result.isError).toBe(true);
    expect(seen).toHaveLength(1);
    expect(textOf(result)).toContain(`Proxy-pool service ${code}`);
  });

  it('shows each session as {id, token} when the full answer is over the cap', async () => {
    const many = Array.from({ length: 300 }, (_, i) => ({ ...wireSession, token: `t-${i}` }));
    answer('BulkCreateSessions', 200, { sessions: many });
    const ctx = context();
    ctx.config = makeConfig({ proxyPoolUrl: POOL_URL, maxResultTokens: 5000 });
    const result = await run(
      'proxy_pool_sessions_bulk_create',
      { ...ids, sessions: many.map((s) => ({ token: s.token })) },
      ctx,
    );
    const sc = result.structuredContent as { sessions: Record<string, unknown>[]; count: number; note: string };
    expect(sc.count).toBe(300);
    expect(sc.sessions.length).toBeGreaterThan(0);
    expect(Object.keys(sc.sessions[0]!)).toEqual(['id', 'token']);
    expect(sc.note).toMatch(/result cap/);
    expect(textOf(result).length).toBeLessThanOrEqual(20_000);
  });
});

describe('proxy_pool_sessions_delete', () => {
  it('sends {workspaceId, id} and answers deleted', async () => {
    answer('DeleteSession', 200, {});
    const result = await run('proxy_pool_sessions_delete', { workspace_id: WS, id: SESSION_ID });
    expect(seen[0]!.body).toEqual({ workspaceId: WS, id: SESSION_ID });
    expect(result.structuredContent).toEqual({ deleted: true, id: SESSION_ID, workspace_id: WS });
  });

  it('is retried on unavailable, not on not_found', async () => {
    answer('DeleteSession', 503, err('unavailable'));
    answer('DeleteSession', 404, err('not_found'));
    answer('DeleteSession', 200, {});
    const result = await run('proxy_pool_sessions_delete', { workspace_id: WS, id: SESSION_ID });
    expect(result.isError).toBe(true);
    expect(seen).toHaveLength(2);
    expect(textOf(result)).toMatch(/not_found .*already deleted/);
  });
});

describe('failures with no answer', () => {
  it('maps a timeout to deadline_exceeded and does not retry CreateSession', async () => {
    pool
      .intercept({ path: '/proxies.v1.Proxies/CreateSession', method: 'POST' })
      .reply(200, { session: wireSession })
      .delay(5_000);
    const kernel = new KernelClient({ baseUrl: KERNEL, apiKey: KEY, dispatcher: agent, timeoutMs: 50 });
    const result = await run('proxy_pool_sessions_create', { ...ids, token: 't' }, context(kernel));
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^Proxy-pool service deadline_exceeded \(CreateSession\): .*did not retry/);
  });

  it('maps a cancelled call to canceled', async () => {
    pool.intercept({ path: '/proxies.v1.Proxies/DeleteSession', method: 'POST' }).reply(200, {}).delay(5_000);
    const ctx = context();
    const controller = new AbortController();
    ctx.signal = controller.signal;
    const pending = run('proxy_pool_sessions_delete', { workspace_id: WS, id: SESSION_ID }, ctx);
    controller.abort();
    const result = await pending;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^Proxy-pool service canceled \(DeleteSession\)/);
  });

  it('maps an unreachable service to unavailable naming the URL', async () => {
    const kernel = new KernelClient({ baseUrl: KERNEL, apiKey: KEY, retryBaseMs: 1, maxRetries: 0 });
    const ctx = context(kernel);
    ctx.config = makeConfig({ proxyPoolUrl: 'http://127.0.0.1:9', maxRetries: 0 });
    const result = await run('proxy_pool_sessions_create', { ...ids, token: 't' }, ctx);
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(
      /^Proxy-pool service unavailable \(CreateSession\): could not reach the proxy-pool service at http:\/\/127\.0\.0\.1:9/,
    );
  });
});

describe('the proxy-pool client', () => {
  it('is one per Kernel client (one per passthrough key), sharing nothing across keys', async () => {
    const a = new KernelClient({ baseUrl: KERNEL, apiKey: 'sk_key_a_0123456789', dispatcher: agent, retryBaseMs: 1 });
    const b = new KernelClient({ baseUrl: KERNEL, apiKey: 'sk_key_b_0123456789', dispatcher: agent, retryBaseMs: 1 });
    expect(proxyPoolClient(a, POOL_URL)).toBe(proxyPoolClient(a, POOL_URL));
    expect(proxyPoolClient(a, POOL_URL)).not.toBe(proxyPoolClient(b, POOL_URL));
    expect(proxyPoolClient(a, POOL_URL).baseUrl).toBe(POOL_URL);
    answer('DeleteSession', 200, {});
    answer('DeleteSession', 200, {});
    await run('proxy_pool_sessions_delete', { workspace_id: WS, id: SESSION_ID }, context(a));
    await run('proxy_pool_sessions_delete', { workspace_id: WS, id: SESSION_ID }, context(b));
    expect(seen.map((s) => s.headers.authorization)).toEqual([
      'Bearer sk_key_a_0123456789',
      'Bearer sk_key_b_0123456789',
    ]);
  });

  it('says how to configure the service when its URL is missing', async () => {
    const ctx = context();
    ctx.config = makeConfig({});
    const result = await run('proxy_pool_sessions_delete', { workspace_id: WS, id: SESSION_ID }, ctx);
    expect(textOf(result)).toMatch(/KERNEL_PROXY_POOL_URL/);
    expect(seen).toHaveLength(0);
  });
});
