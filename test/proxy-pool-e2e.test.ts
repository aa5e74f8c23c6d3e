import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorWorkspaceId, PROXY_POOL_CODES, proxyPoolSessions } from '../simulator/proxy-pool.js';
import { useSimulator } from './helpers/fixtures.js';
import { connectStdio, ERAS, type McpSession, runCli, type ToolResult, text } from './helpers/mcp.js';
import { ENDPOINT, POOL, PROVIDER, workspaceIds } from './helpers/proxy-pool-fixtures.js';

const KEY = 'sk_e2e_proxy_pool_0123456789';
const PASSWORD = 'pw-e2e-S3cr3t-91c4d';
/** Too short for the redactor (under 6 characters): it must never be echoed at all. */
const SHORT_PASSWORD = 'Zq9#x';
const SERVICE = '/proxies.v1.Proxies/';

const sim = useSimulator({ apiKey: KEY });

/** A workspace of its own per test, so eras and tests never see each other's sessions. */
const freshWorkspace = workspaceIds(0x11, 0x01);

const stored = (ws: string) => proxyPoolSessions(sim.url).filter((s) => s.workspaceId === ws);
const serviceRequests = (rpc?: string) => sim.requests.filter((r) => r.path.startsWith(SERVICE + (rpc ?? '')));

function connect(era: (typeof ERAS)[number], extra: string[] = [], env: Record<string, string> = {}) {
  return connectStdio(era, {
    args: [
      '--base-url',
      sim.url,
      '--proxy-pool-url',
      sim.url,
      '--toolsets',
      'proxy_pool_sessions',
      '--max-retries',
      '2',
      ...extra,
    ],
    env: { KERNEL_API_KEY: KEY, KERNEL_MCP_LOG_LEVEL: 'debug', ...env },
  });
}

describe.each(ERAS)('proxy-pool sessions over stdio (%s client)', (era) => {
  let mcp: McpSession;
  /** Every result this era saw, to check that no password ever came back. */
  const results: ToolResult[] = [];
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = await mcp.call(name, args);
    results.push(r);
    return r;
  };

  beforeAll(async () => {
    mcp = await connect(era);
  });
  afterAll(async () => {
    await mcp?.close();
  });
  beforeEach(() => {
    sim.resetRequests();
  });

  it('lists the three tools with plain object schemas', async () => {
    const tools = await mcp.listTools();
    expect(tools.map((t) => t.name)).toEqual([
      'proxy_pool_sessions_create',
      'proxy_pool_sessions_bulk_create',
      'proxy_pool_sessions_delete',
    ]);
    for (const t of tools) {
      const schema = t.inputSchema as Record<string, unknown>;
      expect(schema.type).toBe('object');
      expect(schema).not.toHaveProperty('anyOf');
      expect(schema).not.toHaveProperty('oneOf');
    }
  });

  it('creates a static session and a rotation session', async () => {
    const ws = freshWorkspace();
    const ids = { workspace_id: ws, pool_id: POOL, provider_id: PROVIDER };
    const staticResult = await call('proxy_pool_sessions_create', {
      ...ids,
      token: `sess-static-${era}`,
      ...ENDPOINT,
      password: PASSWORD,
    });
    expect(staticResult.isError).toBeFalsy();
    const session = (staticResult.structuredContent as { session: Record<string, unknown> }).session;
    expect(session).toMatchObject({
      workspace_id: ws,
      pool_id: POOL,
      provider_id: PROVIDER,
      token: `sess-static-${era}`,
      ...ENDPOINT,
      enabled: true,
      version: '1',
    });
    expect(String(session.id)).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(session).not.toHaveProperty('password');
    expect(JSON.parse(text(staticResult))).toEqual(staticResult.structuredContent);

    const rotation = await call('proxy_pool_sessions_create', { ...ids, token: `sess-rotation-${era}` });
    expect(rotation.isError).toBeFalsy();
    const rot = (rotation.structuredContent as { session: Record<string, unknown> }).session;
    expect(rot.token).toBe(`sess-rotation-${era}`);
    for (const f of ['scheme', 'host', 'port', 'username']) expect(rot).not.toHaveProperty(f);

    // A static session with a short password: sent, never shown.
    const short = await call('proxy_pool_sessions_create', {
      ...ids,
      scheme: 'socks5',
      host: 'proxy.example.com',
      port: 1080,
      username: 'u2',
      password: SHORT_PASSWORD,
    });
    expect(short.isError).toBeFalsy();

    const sent = serviceRequests('CreateSession');
    expect(sent).toHaveLength(3);
    for (const r of sent) {
      expect(r.method).toBe('POST');
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['connect-protocol-version']).toBe('1');
      expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
    }
    expect(stored(ws)).toHaveLength(3);

    // The token of a live session is taken in its pool.
    const again = await call('proxy_pool_sessions_create', { ...ids, token: `sess-rotation-${era}` });
    expect(again.isError).toBe(true);
    expect(text(again)).toMatch(/^Proxy-pool service already_exists \(HTTP 409, CreateSession\)/);
  });

  it('bulk creates idempotently: the same tokens twice make no duplicates', async () => {
    const ws = freshWorkspace();
    const args = {
      workspace_id: ws,
      pool_id: POOL,
      provider_id: PROVIDER,
      sessions: [
        { token: 'bulk-r-1' },
        { token: 'bulk-r-2' },
        { token: 'bulk-s-1', scheme: 'https', host: 'p1.example.com', port: 443, username: 'bu', password: PASSWORD },
      ],
    };
    const first = await call('proxy_pool_sessions_bulk_create', args);
    expect(first.isError).toBeFalsy();
    const a = first.structuredContent as { sessions: Record<string, unknown>[]; count: number };
    expect(a.count).toBe(3);
    expect(a.sessions.map((s) => s.token)).toEqual(['bulk-r-1', 'bulk-r-2', 'bulk-s-1']);

    const second = await call('proxy_pool_sessions_bulk_create', args);
    expect(second.isError).toBeFalsy();
    const b = second.structuredContent as { sessions: Record<string, unknown>[] };
    expect(b.sessions.map((s) => s.id)).toEqual(a.sessions.map((s) => s.id));
    expect(stored(ws)).toHaveLength(3);
    expect(new Set(stored(ws).map((s) => s.token)).size).toBe(3);
    expect(serviceRequests('BulkCreateSessions')).toHaveLength(2);
  });

  it('creates nothing when one session of a bulk request is invalid', async () => {
    const ws = freshWorkspace();
    const base = { workspace_id: ws, pool_id: POOL, provider_id: PROVIDER };
    const good = { token: 'inv-ok-1' };
    const endpoint = { host: 'p.example.com', port: 8080, username: 'u', password: PASSWORD };

    // Invalid by the tool's schema: rejected before any request.
    const local = await call('proxy_pool_sessions_bulk_create', {
      ...base,
      sessions: [good, { token: 'inv-bad', scheme: 'http', ...endpoint, port: 70000 }],
    });
    expect(local.isError).toBe(true);
    expect(text(local)).toMatch(/port/);
    expect(serviceRequests()).toHaveLength(0);

    // Valid in form but refused by the service (it supports http, https, socks4 and socks5): one request, nothing stored.
    const remote = await call('proxy_pool_sessions_bulk_create', {
      ...base,
      sessions: [good, { token: 'inv-ok-2' }, { token: 'inv-ftp', scheme: 'ftp', ...endpoint }],
    });
    expect(remote.isError).toBe(true);
    expect(text(remote)).toMatch(
      /^Proxy-pool service invalid_argument \(HTTP 400, BulkCreateSessions\): sessions\[2\]\.scheme/,
    );
    expect(text(remote)).toMatch(/No session was created \(bulk creation is all or nothing\)/);
    expect(serviceRequests('BulkCreateSessions')).toHaveLength(1);
    expect(stored(ws)).toHaveLength(0);

    // A token already used by a different live session: already_exists, and the new session is not created either.
    await call('proxy_pool_sessions_create', { ...base, token: 'inv-taken' });
    const conflict = await call('proxy_pool_sessions_bulk_create', {
      ...base,
      sessions: [good, { token: 'inv-taken', scheme: 'http', ...endpoint }],
    });
    expect(conflict.isError).toBe(true);
    expect(text(conflict)).toMatch(/already_exists .*different scheme, host, port, username, password/);
    expect(stored(ws).map((s) => s.token)).toEqual(['inv-taken']);
  });

  it('soft deletes, and deleting again is not_found', async () => {
    const ws = freshWorkspace();
    const created = await call('proxy_pool_sessions_create', {
      workspace_id: ws,
      pool_id: POOL,
      provider_id: PROVIDER,
      token: 'del-1',
    });
    const id = (created.structuredContent as { session: { id: string } }).session.id;

    const del = await call('proxy_pool_sessions_delete', { workspace_id: ws, id });
    expect(del.isError).toBeFalsy();
    expect(del.structuredContent).toEqual({ deleted: true, id, workspace_id: ws });
    expect(stored(ws)).toEqual([expect.objectContaining({ id, deletedAt: expect.any(String) })]);

    const again = await call('proxy_pool_sessions_delete', { workspace_id: ws, id });
    expect(again.isError).toBe(true);
    expect(text(again)).toMatch(/^Proxy-pool service not_found \(HTTP 404, DeleteSession\)/);
    expect(text(again)).toMatch(/already deleted/);
    // not_found is not retried.
    expect(serviceRequests('DeleteSession')).toHaveLength(2);

    // The token is free again once its session is deleted.
    const reuse = await call('proxy_pool_sessions_create', {
      workspace_id: ws,
      pool_id: POOL,
      provider_id: PROVIDER,
      token: 'del-1',
    });
    expect(reuse.isError).toBeFalsy();
  });

  it('gives each Connect error code its tool error', async () => {
    for (const [code, , status] of PROXY_POOL_CODES) {
      const r = await call('proxy_pool_sessions_create', {
        workspace_id: errorWorkspaceId(code),
        pool_id: POOL,
        provider_id: PROVIDER,
        token: `code-${code}`,
      });
      expect(r.isError, code).toBe(true);
      expect(text(r)).toMatch(new RegExp(`^Proxy-pool service ${code} \\(HTTP ${status}, CreateSession\\): `));
      expect(text(r)).toContain(`always answers ${code}`);
      expect(text(r)).toMatch(/No session was created|may or may not have been created/);
    }
    // CreateSession is never retried, whatever the code.
    expect(serviceRequests('CreateSession')).toHaveLength(PROXY_POOL_CODES.length);
  });

  it('rejects a malformed id before any request', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ workspace_id: 'not-base64!', pool_id: POOL, provider_id: PROVIDER, token: 't' }, 'workspace_id'],
      [
        { workspace_id: POOL, pool_id: Buffer.alloc(12).toString('base64'), provider_id: PROVIDER, token: 't' },
        'pool_id',
      ],
      [{ workspace_id: POOL, pool_id: POOL, provider_id: 'AY-MIBEReqqLuywsLCwsLA==', token: 't' }, 'provider_id'],
    ];
    for (const [args, field] of cases) {
      const r = await call('proxy_pool_sessions_create', args);
      expect(r.isError).toBe(true);
      expect(text(r)).toContain(`${field} `);
      expect(text(r)).toMatch(/16 bytes/);
    }
    const del = await call('proxy_pool_sessions_delete', { workspace_id: POOL, id: 'AY+MIjMzfu6P/05OTk5OTg' });
    expect(del.isError).toBe(true);
    expect(text(del)).toMatch(/id is not canonical base64.*did you mean AY\+MIjMzfu6P\/05OTk5OTg==/);
    const bad = await call('proxy_pool_sessions_create', {
      workspace_id: POOL,
      pool_id: POOL,
      provider_id: PROVIDER,
      host: 'h.example.com',
      password: PASSWORD,
    });
    expect(bad.isError).toBe(true);
    expect(text(bad)).toMatch(/also needs scheme/);
    expect(serviceRequests()).toHaveLength(0);
  });

  it('sends CreateSession once on unavailable, and retries BulkCreateSessions and DeleteSession', async () => {
    const flaky = errorWorkspaceId('unavailable', true);
    const ids = { workspace_id: flaky, pool_id: POOL, provider_id: PROVIDER };

    const create = await call('proxy_pool_sessions_create', { ...ids, token: `retry-create-${era}` });
    expect(create.isError).toBe(true);
    expect(text(create)).toMatch(/^Proxy-pool service unavailable \(HTTP 503, CreateSession\)/);
    expect(text(create)).toMatch(/did not retry/);
    expect(serviceRequests('CreateSession')).toHaveLength(1);
    // The agent may call again (the fault answers only the first call with a body).
    const second = await call('proxy_pool_sessions_create', { ...ids, token: `retry-create-${era}` });
    expect(second.isError).toBeFalsy();
    expect(serviceRequests('CreateSession')).toHaveLength(2);

    const bulk = await call('proxy_pool_sessions_bulk_create', { ...ids, sessions: [{ token: `retry-bulk-${era}` }] });
    expect(bulk.isError).toBeFalsy();
    expect(serviceRequests('BulkCreateSessions')).toHaveLength(2);

    const id = (bulk.structuredContent as { sessions: { id: string }[] }).sessions[0]!.id;
    const limited = errorWorkspaceId('resource_exhausted', true);
    // resource_exhausted: DeleteSession retried too (a not_found on the retry proves it reached the service twice).
    const del = await call('proxy_pool_sessions_delete', { workspace_id: limited, id });
    expect(serviceRequests('DeleteSession')).toHaveLength(2);
    expect(text(del)).toMatch(/not_found/);
    const delFlaky = await call('proxy_pool_sessions_delete', { workspace_id: flaky, id });
    expect(delFlaky.isError).toBeFalsy();
    expect(serviceRequests('DeleteSession')).toHaveLength(4);

    // deadline_exceeded is not retried, even for the idempotent RPCs; a lasting unavailable is retried twice.
    const slow = await call('proxy_pool_sessions_bulk_create', {
      ...ids,
      workspace_id: errorWorkspaceId('deadline_exceeded'),
      sessions: [{ token: 'x' }],
    });
    expect(text(slow)).toMatch(/^Proxy-pool service deadline_exceeded/);
    const down = await call('proxy_pool_sessions_bulk_create', {
      ...ids,
      workspace_id: errorWorkspaceId('unavailable'),
      sessions: [{ token: 'x' }],
    });
    expect(text(down)).toMatch(/already retried/);
    expect(serviceRequests('BulkCreateSessions')).toHaveLength(2 + 1 + 3);
  });

  it('never shows a password in any result, error or log line', async () => {
    const all = JSON.stringify(results) + mcp.stderr();
    expect(results.length).toBeGreaterThan(20);
    expect(mcp.stderr()).toContain('proxy-pool call');
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(SHORT_PASSWORD);
  });
});

describe('proxy-pool configuration', () => {
  it('is unauthenticated with a key the service does not accept', async () => {
    const mcp = await connectStdio('modern', {
      args: ['--base-url', sim.url, '--proxy-pool-url', sim.url, '--toolsets', 'proxy_pool_sessions'],
      env: { KERNEL_API_KEY: 'sk_wrong_key_0000000000' },
    });
    try {
      const r = await mcp.call('proxy_pool_sessions_create', {
        workspace_id: freshWorkspace(),
        pool_id: POOL,
        provider_id: PROVIDER,
        token: 'auth',
      });
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(/^Proxy-pool service unauthenticated \(HTTP 401, CreateSession\): .*KERNEL_API_KEY/);
      expect(text(r)).not.toContain('sk_wrong_key_0000000000');
    } finally {
      await mcp.close();
    }
  });

  it('works with --simulate alone', async () => {
    const mcp = await connectStdio('legacy', { args: ['--simulate', '--toolsets', 'proxy_pool_sessions'] });
    try {
      const r = await mcp.call('proxy_pool_sessions_bulk_create', {
        workspace_id: freshWorkspace(),
        pool_id: POOL,
        provider_id: PROVIDER,
        sessions: [
          { token: 'sim-1' },
          { token: 'sim-2', scheme: 'http', host: '198.51.100.7', port: 3128, username: 'u', password: PASSWORD },
        ],
      });
      expect(r.isError).toBeFalsy();
      expect((r.structuredContent as { count: number }).count).toBe(2);
      expect(JSON.stringify(r) + mcp.stderr()).not.toContain(PASSWORD);
    } finally {
      await mcp.close();
    }
  });

  it.each([[['--toolsets', 'proxy_pool_sessions']], [['--tools', 'proxy_pool_sessions_create']]])(
    'names KERNEL_PROXY_POOL_URL when %j is asked for without it',
    (args) => {
      const res = runCli(args, { KERNEL_API_KEY: KEY });
      expect(res.status).not.toBe(0);
      expect(res.stderr).toContain('KERNEL_PROXY_POOL_URL');
      expect(res.stdout).toBe('');
    },
  );

  it('does not list the tools without the service URL', async () => {
    const mcp = await connectStdio('modern', {
      args: ['--base-url', sim.url, '--toolsets', 'all'],
      env: { KERNEL_API_KEY: KEY },
    });
    try {
      const names = (await mcp.listTools()).map((t) => String(t.name));
      expect(names.length).toBeGreaterThan(50);
      expect(names.filter((n) => n.startsWith('proxy_pool_'))).toEqual([]);
    } finally {
      await mcp.close();
    }
  });
});
