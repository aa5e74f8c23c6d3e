/**
 * The proxy-pool tool schemas: 16-byte base64 IDs with errors naming the field, the rotation/static rule as a
 * refinement (the published JSON Schema stays a plain object schema), bulk rules, the snake_case -> camelCase wire
 * translation, and session views that never carry a password.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  bulkCreateSessionsBody,
  bulkCreateSessionsInput,
  createSessionBody,
  createSessionInput,
  deleteSessionBody,
  deleteSessionInput,
  ID_EXAMPLE,
  idProblem,
  MAX_BULK_SESSIONS,
  sessionView,
} from '../src/proxy-pool/schemas.js';
import { proxyPoolTools } from '../src/proxy-pool/tools.js';
import { compile } from '../src/tools/define.js';
import { ENDPOINT, ids, POOL, PROVIDER, WS } from './helpers/proxy-pool-fixtures.js';

const SESSION = 'AY+MIjMzfu6P/05OTk5OTg==';
const endpoint = { ...ENDPOINT, password: 'pw-unit-1' };

function issues(schema: z.ZodType, value: unknown): { path: string; message: string }[] {
  const r = schema.safeParse(value);
  if (r.success) return [];
  return r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

describe('16-byte base64 IDs', () => {
  it('accepts the seed example IDs', () => {
    for (const id of [WS, POOL, PROVIDER, SESSION, ID_EXAMPLE]) expect(idProblem(id)).toBeUndefined();
    expect(Buffer.from(SESSION, 'base64')).toHaveLength(16);
  });

  it.each([
    ['', /is empty/],
    ['abc', /decodes to 2 bytes/],
    ['AY+MHnorfD2eTxorPE1e', /decodes to 15 bytes/],
    [Buffer.alloc(17, 7).toString('base64'), /decodes to 17 bytes/],
    [Buffer.alloc(12, 7).toString('base64'), /decodes to 12 bytes/],
    ['AY-MHnorfD2eTxorPE1ebw==', /URL-safe base64.*did you mean AY\+MHnorfD2eTxorPE1ebw==/],
    ['AY+MHnorfD2eTxorPE1ebw', /not canonical.*did you mean AY\+MHnorfD2eTxorPE1ebw==/],
    ['AY+MHnorfD2eTxorPE1ebx==', /not canonical/],
    ['AY+MHnorfD2eTxorPE1e!w==', /is not base64/],
    ['AY+MHnorfD2eTxor=E1ebw==', /is not base64/],
  ])('rejects %j with a clear reason', (value, reason) => {
    expect(idProblem(value)).toMatch(reason);
    const found = issues(deleteSessionInput(), { workspace_id: WS, id: value });
    expect(found).toHaveLength(1);
    expect(found[0]?.path).toBe('id');
    expect(found[0]?.message).toMatch(/^id /);
    expect(found[0]?.message).toMatch(reason);
  });

  it('names each ID field in its error', () => {
    const found = issues(createSessionInput(), { workspace_id: 'x', pool_id: 'y', provider_id: 'z', token: 't' });
    expect(found.map((i) => i.path).sort()).toEqual(['pool_id', 'provider_id', 'workspace_id']);
    for (const i of found) expect(i.message.startsWith(`${i.path} `)).toBe(true);
  });
});

describe('CreateSession arguments', () => {
  const schema = createSessionInput();

  it('accepts a rotation session (token only) and a static session (with or without a token)', () => {
    expect(issues(schema, { ...ids, token: 'sess-abc123' })).toEqual([]);
    expect(issues(schema, { ...ids, ...endpoint })).toEqual([]);
    expect(issues(schema, { ...ids, token: 'sess-abc123', ...endpoint })).toEqual([]);
    expect(issues(schema, { ...ids, ...endpoint, host: '2001:db8::1' })).toEqual([]);
  });

  it('needs a token or a whole static endpoint', () => {
    const none = issues(schema, ids);
    expect(none).toHaveLength(1);
    expect(none[0]?.path).toBe('token');
    expect(none[0]?.message).toMatch(/needs token .*rotation.* or scheme, host, port, username and password/);
  });

  it('names every missing static-endpoint field', () => {
    const found = issues(schema, { ...ids, token: 't', host: 'proxy.example.com', port: 8080 });
    expect(found).toEqual([
      {
        path: 'scheme',
        message: expect.stringMatching(
          /^The session is a static session \(it has host, port\), so it also needs scheme, username and password: /,
        ),
      },
    ]);
  });

  it.each([
    [{ port: 0 }, 'port', /1 to 65535/],
    [{ port: 65536 }, 'port', /1 to 65535/],
    [{ port: 80.5 }, 'port', /whole number/],
    [{ host: 'http://proxy.example.com' }, 'host', /bare host name/],
    [{ host: 'user@proxy' }, 'host', /bare host name/],
    [{ scheme: 'HTTP://' }, 'scheme', /lowercase URL scheme/],
    [{ password: '' }, 'password', /must not be empty/],
  ])('rejects a bad endpoint field %j', (patch, path, message) => {
    const found = issues(schema, { ...ids, ...endpoint, ...patch });
    expect(found.map((i) => i.path)).toEqual([path]);
    expect(found[0]?.message).toMatch(message);
  });

  it('rejects camelCase (wire) names with a hint', () => {
    const found = issues(schema, { ...ids, token: 't', workspaceId: WS });
    expect(found[0]?.message).toMatch(/Unknown argument\(s\) workspaceId: arguments are snake_case/);
  });

  it('never echoes a password value in an error', () => {
    const r = schema.safeParse({ ...ids, ...endpoint, port: 'eighty', password: 'pw-never-echoed' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).not.toContain('pw-never-echoed');
  });
});

describe('BulkCreateSessions arguments', () => {
  const schema = bulkCreateSessionsInput();

  it('accepts rotation and static sessions, each with a token', () => {
    const value = { ...ids, sessions: [{ token: 'r-1' }, { token: 's-1', ...endpoint }] };
    expect(issues(schema, value)).toEqual([]);
  });

  it('needs a token on every session (idempotency key)', () => {
    const found = issues(schema, { ...ids, sessions: [{ token: 'r-1' }, { ...endpoint }] });
    expect(found.map((i) => i.path)).toEqual(['sessions.1.token']);
  });

  it('rejects a session that mixes a partial endpoint in', () => {
    const found = issues(schema, { ...ids, sessions: [{ token: 'r-1' }, { token: 'r-2', host: 'h.example' }] });
    expect(found.map((i) => i.path)).toEqual(['sessions.1.scheme']);
    expect(found[0]?.message).toMatch(
      /^sessions\[1\] is a static session \(it has host\), so it also needs scheme, port, username and password/,
    );
  });

  it('rejects repeated tokens, empty and oversized lists', () => {
    const dup = issues(schema, { ...ids, sessions: [{ token: 'a' }, { token: 'b' }, { token: 'a' }] });
    expect(dup).toEqual([
      { path: 'sessions.2.token', message: expect.stringMatching(/repeats the token of sessions\[0\]/) },
    ]);
    expect(issues(schema, { ...ids, sessions: [] })[0]?.message).toMatch(/at least one/);
    const many = Array.from({ length: MAX_BULK_SESSIONS + 1 }, (_, i) => ({ token: `t-${i}` }));
    expect(issues(schema, { ...ids, sessions: many })[0]?.message).toMatch(/at most 1000/);
  });
});

describe('published JSON Schemas', () => {
  it('are plain object schemas without top-level anyOf/oneOf/allOf', () => {
    expect(proxyPoolTools.map((t) => t.name)).toEqual([
      'proxy_pool_sessions_create',
      'proxy_pool_sessions_bulk_create',
      'proxy_pool_sessions_delete',
    ]);
    for (const tool of proxyPoolTools) {
      const json = compile(tool).json;
      expect(json.type).toBe('object');
      for (const key of ['anyOf', 'oneOf', 'allOf', 'not', 'if']) expect(json).not.toHaveProperty(key);
      // Unknown arguments are rejected by the server's own validation, not advertised (it only costs context).
      const unknown = compile(tool).zod.safeParse({ bogus: 1 });
      expect(JSON.stringify(unknown.error?.issues)).toContain('bogus');
      expect(json.required).toEqual(expect.arrayContaining(['workspace_id']));
      expect(tool.toolset).toBe('proxy_pool_sessions');
    }
  });

  it('publish the id pattern, the port range and the write-only password', () => {
    const create = compile(proxyPoolTools[0]!).json as { properties: Record<string, Record<string, unknown>> };
    expect(create.properties.workspace_id?.pattern).toBe('^[A-Za-z0-9+/]{21}[AQgw]==$');
    expect(create.properties.port).toMatchObject({ type: 'integer', minimum: 1, maximum: 65535 });
    expect(String(create.properties.password?.description)).toMatch(/Write-only/);
    expect(Object.keys(create.properties)).toEqual([
      'workspace_id',
      'pool_id',
      'provider_id',
      'token',
      'scheme',
      'host',
      'port',
      'username',
      'password',
    ]);
  });

  it('match the checked-in snapshot', async () => {
    const snap = proxyPoolTools.map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      toolset: t.toolset,
      annotations: t.annotations,
      inputSchema: compile(t).json,
    }));
    await expect(`${JSON.stringify(snap, null, 2)}\n`).toMatchFileSnapshot('./proxy-pool-tools.snap.json');
  });
});

describe('wire bodies', () => {
  it('translate snake_case arguments to the camelCase wire and keep absent fields out', () => {
    const create = createSessionInput().parse({ ...ids, token: 'sess-abc123', ...endpoint });
    expect(createSessionBody(create)).toEqual({
      workspaceId: WS,
      poolId: POOL,
      providerId: PROVIDER,
      token: 'sess-abc123',
      ...ENDPOINT,
      password: 'pw-unit-1',
    });
    const rotation = createSessionInput().parse({ ...ids, token: 'r' });
    expect(createSessionBody(rotation)).toEqual({ workspaceId: WS, poolId: POOL, providerId: PROVIDER, token: 'r' });
    const bulk = bulkCreateSessionsInput().parse({ ...ids, sessions: [{ token: 'r' }, { token: 's', ...endpoint }] });
    expect(bulkCreateSessionsBody(bulk)).toEqual({
      workspaceId: WS,
      poolId: POOL,
      providerId: PROVIDER,
      sessions: [{ token: 'r' }, { token: 's', ...endpoint }],
    });
    expect(deleteSessionBody(deleteSessionInput().parse({ workspace_id: WS, id: SESSION }))).toEqual({
      workspaceId: WS,
      id: SESSION,
    });
  });

  it('show sessions in snake_case and drop any password at any depth', () => {
    const answer = {
      id: SESSION,
      workspaceId: WS,
      createdAt: '2026-06-29T10:15:00Z',
      password: 'pw-echoed-by-mistake',
      nested: { Password: 'x', poolId: POOL },
    };
    expect(sessionView(answer)).toEqual({
      id: SESSION,
      workspace_id: WS,
      created_at: '2026-06-29T10:15:00Z',
      nested: { pool_id: POOL },
    });
  });
});
