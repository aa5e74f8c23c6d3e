/**
 * The simulator's proxy-pool service on the wire (no MCP in between): Connect protocol checks, per-workspace and
 * per-pool storage, all-or-nothing idempotent bulk creation, soft delete, the reserved error workspaces, and that
 * docs/proxy-pool.md lists the same reserved IDs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorWorkspaceId, PROXY_POOL_CODES, proxyPoolSessions } from '../simulator/proxy-pool.js';
import { useSimulator } from './helpers/fixtures.js';
import { ROOT } from './helpers/mcp.js';
import { POOL, PROVIDER, workspaceIds } from './helpers/proxy-pool-fixtures.js';

const KEY = 'sk_sim_proxy_pool_0123456789';
const POOL_2 = 'AY+MISIifMyN3T09PT09Pg==';
const CONNECT = { 'content-type': 'application/json', 'connect-protocol-version': '1' };

const sim = useSimulator({ apiKey: KEY });

const freshWorkspace = workspaceIds(0x22);

async function rpc(
  method: string,
  body: unknown,
  headers: Record<string, string> = CONNECT,
): Promise<{ status: number; body: Record<string, unknown> | undefined; contentType: string | null }> {
  const res = await fetch(`${sim.url}/proxies.v1.Proxies/${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
    contentType: res.headers.get('content-type'),
  };
}

const stored = (ws: string) => proxyPoolSessions(sim.url).filter((s) => s.workspaceId === ws);
const endpoint = { scheme: 'http', host: '203.0.113.10', port: 8080, username: 'user', password: 'pw-sim-5551212' };

describe('Connect protocol', () => {
  it('answers errors as JSON {code, message} with the code HTTP status', async () => {
    const r = await rpc('NoSuchMethod', {});
    expect(r).toMatchObject({ status: 501, body: { code: 'unimplemented' } });
    expect(r.contentType).toBe('application/json');
    expect(String(r.body?.message)).toContain('proxies.v1.Proxies/NoSuchMethod');
  });

  it('requires Connect-Protocol-Version: 1', async () => {
    const r = await rpc('CreateSession', {}, { 'content-type': 'application/json' });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      code: 'invalid_argument',
      message: 'missing required header: set Connect-Protocol-Version to "1"',
    });
  });

  it('answers a non-JSON content type with a bare 415', async () => {
    const r = await rpc('CreateSession', 'x', { 'content-type': 'text/plain', 'connect-protocol-version': '1' });
    expect(r.status).toBe(415);
    expect(r.body).toBeUndefined();
  });

  it('rejects invalid JSON and wrong field types as invalid_argument', async () => {
    expect((await rpc('CreateSession', '{nope')).body?.code).toBe('invalid_argument');
    const ws = freshWorkspace();
    const r = await rpc('CreateSession', {
      workspaceId: ws,
      poolId: POOL,
      providerId: PROVIDER,
      ...endpoint,
      port: 'x',
    });
    expect(r).toMatchObject({
      status: 400,
      body: { code: 'invalid_argument', message: expect.stringMatching(/^port:/) },
    });
  });

  it('accepts proto field names and URL-safe, unpadded IDs, and answers standard base64', async () => {
    const ws = freshWorkspace();
    const urlSafe = POOL.replace(/\+/g, '-').replace(/=+$/, '');
    const r = await rpc('CreateSession', { workspace_id: ws, pool_id: urlSafe, provider_id: PROVIDER, token: 'proto' });
    expect(r.status).toBe(200);
    expect(r.body?.session).toMatchObject({ workspaceId: ws, poolId: POOL, providerId: PROVIDER, token: 'proto' });
  });

  it('rejects IDs that are not 16 bytes', async () => {
    const r = await rpc('CreateSession', { workspaceId: 'AAAA', poolId: POOL, providerId: PROVIDER, token: 't' });
    expect(r.body).toEqual({ code: 'invalid_argument', message: 'workspaceId: value must be 16 bytes, got 3' });
  });
});

describe('sessions', () => {
  it('answers a session like the seed: camelCase, unset fields omitted, int64 version as a string, no password', async () => {
    const ws = freshWorkspace();
    const r = await rpc('CreateSession', {
      workspaceId: ws,
      poolId: POOL,
      providerId: PROVIDER,
      token: 'seed',
      ...endpoint,
    });
    const s = r.body?.session as Record<string, unknown>;
    expect(Object.keys(s)).toEqual([
      'id',
      'workspaceId',
      'poolId',
      'providerId',
      'token',
      'scheme',
      'host',
      'port',
      'username',
      'enabled',
      'version',
      'createdAt',
      'updatedAt',
    ]);
    expect(s.version).toBe('1');
    expect(Buffer.from(String(s.id), 'base64')).toHaveLength(16);
    expect((Buffer.from(String(s.id), 'base64')[6] ?? 0) >> 4).toBe(7);
    expect(JSON.stringify(r.body)).not.toContain(endpoint.password);
    const rotation = await rpc('CreateSession', { workspaceId: ws, poolId: POOL, providerId: PROVIDER, token: 'rot' });
    expect(Object.keys(rotation.body?.session as object)).not.toContain('host');
  });

  it('keeps tokens unique per pool among live sessions, not across pools or workspaces', async () => {
    const ws = freshWorkspace();
    const other = freshWorkspace();
    const make = (w: string, p: string) =>
      rpc('CreateSession', { workspaceId: w, poolId: p, providerId: PROVIDER, token: 'same' });
    expect((await make(ws, POOL)).status).toBe(200);
    expect((await make(ws, POOL)).body?.code).toBe('already_exists');
    expect((await make(ws, POOL_2)).status).toBe(200);
    expect((await make(other, POOL)).status).toBe(200);
    expect(stored(ws)).toHaveLength(2);
    expect(stored(other)).toHaveLength(1);
  });

  it('checks the session kind', async () => {
    const ws = freshWorkspace();
    const base = { workspaceId: ws, poolId: POOL, providerId: PROVIDER };
    expect((await rpc('CreateSession', base)).body?.message).toMatch(/^token: a rotation session needs a token/);
    const partial = await rpc('CreateSession', { ...base, host: 'h.example.com' });
    expect(partial.body?.message).toBe('scheme: value is required for a static endpoint');
    const ftp = await rpc('CreateSession', { ...base, ...endpoint, scheme: 'ftp' });
    expect(ftp.body?.message).toMatch(/^scheme: value must be one of http, https, socks4, socks5/);
    const host = await rpc('CreateSession', { ...base, ...endpoint, host: 'bad host' });
    expect(host.body?.message).toMatch(/^host:/);
    expect(stored(ws)).toHaveLength(0);
  });

  it('bulk creates all or nothing, idempotent on pool and token', async () => {
    const ws = freshWorkspace();
    const base = { workspaceId: ws, poolId: POOL, providerId: PROVIDER };
    const sessions = [{ token: 'b1' }, { token: 'b2', ...endpoint }];
    const first = await rpc('BulkCreateSessions', { ...base, sessions });
    expect(first.status).toBe(200);
    const again = await rpc('BulkCreateSessions', { ...base, sessions: [...sessions, { token: 'b3' }] });
    const ids = (r: typeof first) => (r.body!.sessions as { id: string }[]).map((s) => s.id);
    expect(ids(again).slice(0, 2)).toEqual(ids(first));
    expect(stored(ws).map((s) => s.token)).toEqual(['b1', 'b2', 'b3']);

    for (const [bad, message] of [
      [[{ token: 'n1' }, { ...endpoint }], /^sessions\[1\]\.token: value is required/],
      [[{ token: 'n1' }, { token: 'n1' }], /^sessions\[1\]\.token: repeats the token of sessions\[0\]/],
      [[{ token: 'n1' }, { token: 'b2', ...endpoint, port: 9090 }], /^sessions\[1\]: .*different port$/],
      [[{ token: 'n1' }, { token: 'b1', providerId: 'x' }, 7], /^sessions\[2\]: invalid value/],
      [[], /at least 1 item/],
    ] as const) {
      const r = await rpc('BulkCreateSessions', { ...base, sessions: bad });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(String(r.body?.message)).toMatch(message);
    }
    const big = Array.from({ length: 1001 }, (_, i) => ({ token: `t${i}` }));
    expect((await rpc('BulkCreateSessions', { ...base, sessions: big })).body?.message).toMatch(/at most 1000/);
    expect(stored(ws).map((s) => s.token)).toEqual(['b1', 'b2', 'b3']);
  });

  it('soft deletes: not_found the second time and in other workspaces, and frees the token', async () => {
    const ws = freshWorkspace();
    const created = await rpc('CreateSession', { workspaceId: ws, poolId: POOL, providerId: PROVIDER, token: 'd' });
    const id = (created.body!.session as { id: string }).id;
    expect((await rpc('DeleteSession', { workspaceId: freshWorkspace(), id })).body?.code).toBe('not_found');
    expect(await rpc('DeleteSession', { workspaceId: ws, id })).toMatchObject({ status: 200, body: {} });
    expect((await rpc('DeleteSession', { workspaceId: ws, id })).body?.code).toBe('not_found');
    expect(stored(ws)).toEqual([expect.objectContaining({ id, deletedAt: expect.any(String) })]);
    const reuse = await rpc('CreateSession', { workspaceId: ws, poolId: POOL, providerId: PROVIDER, token: 'd' });
    expect(reuse.status).toBe(200);
  });
});

describe('reserved error workspaces', () => {
  it.each(PROXY_POOL_CODES.map(([code, n, status]) => [code, n, status] as const))(
    '%s (%i) is answered with HTTP %i, always or once per body',
    async (code, n, status) => {
      const always = errorWorkspaceId(code);
      expect([...Buffer.from(always, 'base64')]).toEqual([...Array(15).fill(0), n]);
      const body = { workspaceId: always, poolId: POOL, providerId: PROVIDER, token: `w-${code}` };
      for (let i = 0; i < 2; i++) {
        const r = await rpc('CreateSession', body);
        expect(r.status).toBe(status);
        expect(r.body?.code).toBe(code);
      }
      const onceBody = { ...body, workspaceId: errorWorkspaceId(code, true) };
      expect((await rpc('DeleteSession', { workspaceId: onceBody.workspaceId, id: POOL })).body?.code).toBe(code);
      expect((await rpc('CreateSession', onceBody)).body?.code).toBe(code);
      expect((await rpc('CreateSession', onceBody)).status).toBe(200);
    },
  );

  it('are listed in docs/proxy-pool.md', () => {
    const doc = readFileSync(join(ROOT, 'docs/proxy-pool.md'), 'utf8');
    const rows = doc
      .split('\n')
      .map((line) => line.split('|').map((cell) => cell.trim().replace(/^`|`$/g, '')))
      .filter((cells) => cells.length === 7 && /^[A-Za-z0-9+/]{22}==$/.test(cells[4] ?? ''));
    expect(rows.map((cells) => cells.slice(1, 6))).toEqual(
      PROXY_POOL_CODES.map(([code, n, status]) => [
        code,
        String(status),
        String(n),
        errorWorkspaceId(code),
        errorWorkspaceId(code, true),
      ]),
    );
  });
});
