import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useSimulatorBehindHttp } from './helpers/fixtures.js';
import { connectHttp, INITIALIZE, legacyPost, messages, rawRequest, sessionIdOf } from './helpers/http.js';
import { ERAS, type McpSession, runCli, text } from './helpers/mcp.js';

const TOKEN = 'tok_http_e2e_0123456789abcdef';

/** The status and headers of a response, without waiting for its body (a GET stream that was let in never ends). */
function headOf(url: string, method: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders }>((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      req.destroy();
    });
    req.on('error', reject);
    req.end(body);
  });
}
const KEY = 'sk_http_e2e_server_key_0123456789';

describe('HTTP with a token (both eras)', () => {
  const fixture = useSimulatorBehindHttp({ key: KEY, token: TOKEN, args: ['--max-body-bytes', '4096'] });

  describe.each(ERAS)('%s client', (era) => {
    let mcp: McpSession;
    beforeAll(async () => {
      mcp = await connectHttp(era, fixture.srv.url, { token: TOKEN });
    });
    afterAll(async () => {
      await mcp?.close();
    });

    it('lists tools and calls them, reaching the API with the server key', async () => {
      const tools = await mcp.listTools();
      const names = tools.map((t) => t.name as string);
      expect(names).toContain('browsers_create');
      expect(names).toContain('browsers_list');
      fixture.sim.resetRequests();
      const created = await mcp.call('browsers_create', { headless: true });
      expect(created.isError, text(created)).toBeFalsy();
      const id = (created.structuredContent as { session_id: string }).session_id;
      const listed = await mcp.call('browsers_list', { limit: 100 });
      const items = (listed.structuredContent as { items: { session_id: string }[] }).items;
      expect(items.map((b) => b.session_id)).toContain(id);
      expect(fixture.sim.requests.length).toBeGreaterThanOrEqual(2);
      for (const r of fixture.sim.requests) expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
    });

    it('answers an API error as an isError result', async () => {
      const res = await mcp.call('browsers_retrieve', { id: 'no-such-browser' });
      expect(res.isError).toBe(true);
      expect(text(res)).toMatch(/Kernel API 404/);
    });

    it('refuses a client with a wrong token', async () => {
      await expect(connectHttp(era, fixture.srv.url, { token: 'wrong-token-0123456789' })).rejects.toThrow();
    });
  });

  it('answers 401 with a Bearer challenge before any MCP processing', async () => {
    const missing = await legacyPost(fixture.srv.url, INITIALIZE);
    expect(missing.status).toBe(401);
    expect(String(missing.headers['www-authenticate'])).toMatch(/^Bearer realm="kernel-mcp"/);
    expect(missing.headers['mcp-session-id']).toBeUndefined();

    const wrong = await legacyPost(fixture.srv.url, INITIALIZE, { authorization: 'Bearer not-the-token-at-all' });
    expect(wrong.status).toBe(401);
    expect(String(wrong.headers['www-authenticate'])).toContain('error="invalid_token"');

    const basic = await legacyPost(fixture.srv.url, INITIALIZE, { authorization: `Basic ${TOKEN}` });
    expect(basic.status).toBe(401);

    const ok = await legacyPost(fixture.srv.url, INITIALIZE, { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(ok.headers['mcp-session-id']).toBeTruthy();
  });

  it('answers 403 for a foreign Host or Origin, whatever the credentials', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const host = await legacyPost(fixture.srv.url, INITIALIZE, { ...auth, host: `evil.example:${fixture.srv.port}` });
    expect(host.status).toBe(403);
    const rebound = await legacyPost(fixture.srv.url, INITIALIZE, {
      ...auth,
      host: `localhost.evil.example:${fixture.srv.port}`,
    });
    expect(rebound.status).toBe(403);
    const otherPort = await legacyPost(fixture.srv.url, INITIALIZE, {
      ...auth,
      host: `127.0.0.1:${fixture.srv.port + 1}`,
    });
    expect(otherPort.status).toBe(403);
    const origin = await legacyPost(fixture.srv.url, INITIALIZE, { ...auth, origin: 'https://evil.example' });
    expect(origin.status).toBe(403);
    const nullOrigin = await legacyPost(fixture.srv.url, INITIALIZE, { ...auth, origin: 'null' });
    expect(nullOrigin.status).toBe(403);

    const local = await legacyPost(fixture.srv.url, INITIALIZE, {
      ...auth,
      host: `localhost:${fixture.srv.port}`,
      origin: 'http://localhost:5173',
    });
    expect(local.status).toBe(200);
    expect(local.headers['access-control-allow-origin']).toBe('http://localhost:5173');
  });

  it('refuses a foreign Host or Origin on every method, not only POST', async () => {
    const auth = { authorization: `Bearer ${TOKEN}`, 'mcp-protocol-version': '2025-11-25' };
    const fresh = async () => sessionIdOf(await legacyPost(fixture.srv.url, INITIALIZE, auth));
    const foreign: Record<string, string>[] = [
      { host: `evil.example:${fixture.srv.port}` },
      { origin: 'https://evil.example' },
      { origin: 'null' },
    ];
    for (const method of ['GET', 'DELETE', 'OPTIONS', 'POST']) {
      for (const bad of foreign) {
        const sid = await fresh();
        const headers = { ...auth, 'mcp-session-id': sid, accept: 'application/json, text/event-stream', ...bad };
        const body = method === 'POST' ? JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) : undefined;
        const res = await headOf(
          fixture.srv.url,
          method,
          body ? { ...headers, 'content-type': 'application/json' } : headers,
          body,
        );
        expect(res.status, `${method} with ${JSON.stringify(bad)}`).toBe(403);
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
        // The refused request did nothing: the session is still there.
        const still = await legacyPost(
          fixture.srv.url,
          { id: 3, method: 'tools/list' },
          { ...auth, 'mcp-session-id': sid },
        );
        expect(still.status, `${method} with ${JSON.stringify(bad)} ended the session`).toBe(200);
      }
    }
    // The same requests from home are served: DELETE ends the session, OPTIONS answers the preflight.
    const sid = await fresh();
    const home = { ...auth, 'mcp-session-id': sid, origin: 'http://localhost:5173' };
    expect((await rawRequest(fixture.srv.url, { method: 'OPTIONS', headers: home })).status).toBe(204);
    expect((await rawRequest(fixture.srv.url, { method: 'DELETE', headers: home })).status).toBe(200);
    expect(
      (await legacyPost(fixture.srv.url, { id: 4, method: 'tools/list' }, { ...auth, 'mcp-session-id': sid })).status,
    ).toBe(404);
  });

  it('refuses an oversized body with 413, declared or streamed', async () => {
    const big = JSON.stringify({
      ...INITIALIZE,
      jsonrpc: '2.0',
      params: { ...INITIALIZE.params, pad: 'x'.repeat(8000) },
    });
    const headers = {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    };
    const declared = await rawRequest(fixture.srv.url, { method: 'POST', headers, body: big });
    expect(declared.status).toBe(413);
    const chunked = await rawRequest(fixture.srv.url, {
      method: 'POST',
      headers: { ...headers, 'transfer-encoding': 'chunked' },
      body: big,
    });
    expect(chunked.status).toBe(413);
    // The server is still fine afterwards.
    const ok = await legacyPost(fixture.srv.url, INITIALIZE, { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
  });

  it('ends a legacy session on DELETE: its id is gone afterwards', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const init = await legacyPost(fixture.srv.url, INITIALIZE, auth);
    const sid = sessionIdOf(init);
    const list = await legacyPost(fixture.srv.url, { id: 2, method: 'tools/list' }, { ...auth, 'mcp-session-id': sid });
    expect(list.status).toBe(200);
    expect(messages(list.body)[0]).toHaveProperty('result.tools');

    const del = await rawRequest(fixture.srv.url, {
      method: 'DELETE',
      headers: { ...auth, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
    });
    expect(del.status).toBe(200);
    const after = await legacyPost(
      fixture.srv.url,
      { id: 3, method: 'tools/list' },
      { ...auth, 'mcp-session-id': sid },
    );
    expect(after.status).toBe(404);
    expect(messages(after.body)[0]).toMatchObject({ error: { code: -32001 } });
    const unknown = await legacyPost(
      fixture.srv.url,
      { id: 4, method: 'tools/list' },
      { ...auth, 'mcp-session-id': '00000000-0000-4000-8000-000000000000' },
    );
    expect(unknown.status).toBe(404);
  });

  it('prints the URL and client configs, never the token or the key', () => {
    const err = fixture.srv.stderr();
    expect(err).toContain(`MCP endpoint: ${fixture.srv.url}`);
    expect(err).toContain(`claude mcp add --transport http kernel ${fixture.srv.url}`);
    expect(err).toContain('Authorization: Bearer $KERNEL_MCP_HTTP_TOKEN');
    expect(err).toContain('mcp-remote');
    expect(err).toContain('$' + '{env:KERNEL_MCP_HTTP_TOKEN}');
    expect(err).toContain('"type": "http"');
    expect(err).not.toContain(TOKEN);
    expect(err).not.toContain(KEY);
  });
});

describe('startup refusals', () => {
  it('refuses to bind a non-loopback address without authentication', () => {
    const res = runCli(['--simulate', '--transport', 'http', '--host', '0.0.0.0']);
    expect(res.status).not.toBe(0);
    expect(res.status).not.toBeNull();
    expect(res.stderr).toContain('refusing to serve HTTP on 0.0.0.0 without authentication');
    expect(res.stderr).toContain('KERNEL_MCP_HTTP_TOKEN');
  });

  it('refuses --auth token without a token', () => {
    const res = runCli(['--simulate', '--transport', 'http', '--auth', 'token']);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain('--auth token needs a token');
  });
});
