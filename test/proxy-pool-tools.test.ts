/**
 * The proxy-pool tools in process (so a mutant of src/proxy-pool/tools.ts is seen): against the simulator, a large
 * bulk answer shrinks to {id, token} and then to the first sessions that fit the cap, in request order; against a
 * service that answers without a session, each tool says what happened and whether calling again is safe; and the
 * three tiers of the bulk answer at their exact boundaries.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessServer } from '../bench/clients.js';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { bulkResult } from '../src/proxy-pool/tools.js';
import { ENDPOINT, ids, workspaceIds } from './helpers/proxy-pool-fixtures.js';

const KEY = 'sk_pool_tools_key_0123456789';
const textOf = (r: { content: unknown[] }) => (r.content[0] as { text: string }).text;
const nextWorkspace = workspaceIds(0x5a, 0x01);

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY });
});
afterAll(async () => {
  await sim?.close();
});

function server(baseUrl: string, maxResultTokens = 1000) {
  return inProcessServer({
    baseUrl,
    apiKey: KEY,
    config: { toolsets: ['proxy_pool_sessions'], proxyPoolUrl: baseUrl, maxRetries: 0, maxResultTokens },
  });
}

describe('proxy-pool tools against the simulator', () => {
  it('create answers the session without its password; delete answers what it deleted', async () => {
    const srv = server(sim.url);
    const s = await srv.connect('modern');
    try {
      const workspace_id = nextWorkspace();
      const password = 'pw-pool-tools-0123456789';
      const created = await s.call('proxy_pool_sessions_create', {
        ...ids,
        workspace_id,
        ...ENDPOINT,
        password,
        token: 'static-1',
      });
      expect(created.isError, textOf(created)).toBeFalsy();
      const session = (created.structuredContent as { session: Record<string, unknown> }).session;
      expect(session).toMatchObject({ token: 'static-1', host: ENDPOINT.host, port: ENDPOINT.port });
      expect(JSON.stringify(created)).not.toContain(password);
      const deleted = await s.call('proxy_pool_sessions_delete', { workspace_id, id: session.id });
      expect(deleted.isError, textOf(deleted)).toBeFalsy();
      expect(deleted.structuredContent).toMatchObject({ deleted: true, id: session.id, workspace_id });
    } finally {
      await s.close();
      await srv.close();
    }
  });

  it('a bulk answer over the cap shrinks to {id, token}, then to the first sessions that fit, in order', async () => {
    const srv = server(sim.url);
    const s = await srv.connect('modern');
    try {
      for (const [n, cut] of [
        [30, false],
        [150, true],
      ] as const) {
        const workspace_id = nextWorkspace();
        const tokens = Array.from({ length: n }, (_, i) => `rot-${String(i).padStart(3, '0')}-${'t'.repeat(20)}`);
        const r = await s.call('proxy_pool_sessions_bulk_create', {
          ...ids,
          workspace_id,
          sessions: tokens.map((token) => ({ token })),
        });
        expect(r.isError, textOf(r)).toBeFalsy();
        expect(textOf(r).length).toBeLessThanOrEqual(4000);
        const body = r.structuredContent as { sessions: { id: string; token: string }[]; count: number; note: string };
        expect(body.count).toBe(n);
        for (const one of body.sessions) expect(Object.keys(one).sort()).toEqual(['id', 'token']);
        expect(body.sessions.map((x) => x.token)).toEqual(tokens.slice(0, body.sessions.length));
        if (cut) {
          expect(body.sessions.length).toBeLessThan(n);
          expect(body.note).toContain(`only the first ${body.sessions.length} fit`);
        } else {
          expect(body.sessions).toHaveLength(n);
          expect(body.note).toContain(`All ${n} sessions`);
        }
      }
    } finally {
      await s.close();
      await srv.close();
    }
  });
});

describe('a service that answers without the session, or with something else', () => {
  let api: Server;
  let url = '';
  /** The answer body per RPC name (the last path segment); `{}` for the rest. */
  const answers = new Map<string, unknown>();
  beforeAll(async () => {
    api = createServer((req, res) => {
      req.resume();
      const rpc = String(req.url).split('/').pop() ?? '';
      req.on('end', () =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answers.get(rpc) ?? {})),
      );
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => api.close(() => r())));

  it('says whether the call may have taken effect, or that calling again is safe', async () => {
    const srv = server(url);
    const s = await srv.connect('legacy');
    try {
      const workspace_id = nextWorkspace();
      const created = await s.call('proxy_pool_sessions_create', { ...ids, workspace_id, token: 'x-1' });
      expect(created.isError).toBe(true);
      expect(textOf(created)).toContain('answered CreateSession without a session; the call may have taken effect');
      const bulk = await s.call('proxy_pool_sessions_bulk_create', {
        ...ids,
        workspace_id,
        sessions: [{ token: 'x' }],
      });
      expect(bulk.isError).toBe(true);
      expect(textOf(bulk)).toContain('answered BulkCreateSessions without sessions; calling again is safe');
      const deleted = await s.call('proxy_pool_sessions_delete', { workspace_id, id: ids.pool_id });
      expect(deleted.isError, textOf(deleted)).toBeFalsy();
      expect(deleted.structuredContent).toEqual({ deleted: true, id: ids.pool_id, workspace_id });
    } finally {
      await s.close();
      await srv.close();
    }
  });

  it('takes a session only when it is an object: create refuses anything else, delete shows the object it got', async () => {
    const srv = server(url);
    const s = await srv.connect('modern');
    const workspace_id = nextWorkspace();
    try {
      for (const session of ['gone', 7, true]) {
        answers.set('CreateSession', { session });
        const created = await s.call('proxy_pool_sessions_create', { ...ids, workspace_id, token: 'x-2' });
        expect(created.isError, JSON.stringify(session)).toBe(true);
        expect(textOf(created)).toContain('answered CreateSession without a session');
        answers.set('DeleteSession', { session });
        const deleted = await s.call('proxy_pool_sessions_delete', { workspace_id, id: ids.pool_id });
        expect(deleted.structuredContent, JSON.stringify(session)).toEqual({
          deleted: true,
          id: ids.pool_id,
          workspace_id,
        });
      }
      // The deleted session as the service sent it, in snake_case and without its password.
      const gone = {
        id: ids.pool_id,
        poolId: ids.pool_id,
        deletedAt: '2026-01-01T00:00:00Z',
        password: 'pw-deleted-0',
      };
      answers.set('DeleteSession', { session: gone });
      const deleted = await s.call('proxy_pool_sessions_delete', { workspace_id, id: ids.pool_id });
      expect(deleted.isError, textOf(deleted)).toBeFalsy();
      expect(deleted.structuredContent).toEqual({
        deleted: true,
        id: ids.pool_id,
        workspace_id,
        session: { id: ids.pool_id, pool_id: ids.pool_id, deleted_at: '2026-01-01T00:00:00Z' },
      });
    } finally {
      answers.clear();
      await s.close();
      await srv.close();
    }
  });
});

describe('bulkResult at its boundaries', () => {
  const sessions = Array.from({ length: 20 }, (_, i) => ({
    id: `id-${i}`,
    token: `tok-${i}`,
    host: 'proxy.example',
    port: 8080,
  }));
  const full = JSON.stringify({ sessions, count: 20 }).length;
  const brief = sessions.map((s) => ({ id: s.id, token: s.token }));

  it('answers in full when the full answer is exactly the cap', () => {
    const r = bulkResult(sessions, full);
    expect(r.structuredContent).toEqual({ sessions, count: 20 });
  });

  it('answers {id, token} from one character under it, while that fits exactly', () => {
    const r = bulkResult(sessions, full - 1);
    const body = r.structuredContent as { sessions: unknown[]; count: number; note: string };
    expect(body.sessions).toEqual(brief);
    expect(body.count).toBe(20);
    const shortLength = JSON.stringify(body).length;
    expect(textOf(r)).toBe(JSON.stringify(body));
    expect((bulkResult(sessions, shortLength).structuredContent as { sessions: unknown[] }).sessions).toEqual(brief);
    const cut = bulkResult(sessions, shortLength - 1).structuredContent as { sessions: unknown[]; note: string };
    expect(cut.sessions.length).toBeLessThan(20);
  });

  it('cuts by whole sessions, counting each one, so the answer stays under the cap', () => {
    for (const cap of [450, 500, 600, 700]) {
      const r = bulkResult(sessions, cap);
      const body = r.structuredContent as { sessions: { id: string }[]; count: number; note: string };
      // 400 characters for the frame and note, then each session with its comma.
      let size = 400;
      let kept = 0;
      for (const s of brief) {
        const len = JSON.stringify(s).length + 1;
        if (size + len > cap) break;
        size += len;
        kept++;
      }
      expect(body.sessions, `cap ${cap}`).toEqual(brief.slice(0, kept));
      expect(body.count).toBe(20);
      expect(body.note).toContain(`only the first ${kept} fit`);
    }
    const none = bulkResult(sessions, 401).structuredContent as { sessions: unknown[] };
    expect(none.sessions).toEqual([]);
  });

  it('shows a missing session as an empty {id, token}', () => {
    const small = bulkResult([null, { id: 'a', token: 'b', extra: 'x'.repeat(500) }], 400);
    expect((small.structuredContent as { sessions: unknown[] }).sessions).toEqual([{}, { id: 'a', token: 'b' }]);
  });
});
