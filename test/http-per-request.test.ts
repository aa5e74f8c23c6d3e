/**
 * The 2026-07-28 HTTP path builds a server per request and, for a `tools/call`, registers only the tool called; the
 * router reads each body once and hands it on parsed. What clients of both eras see must not change: calls answer
 * (and validate their arguments), a tool the server does not offer is refused as before, every other request gets
 * the whole server, and a body that is not JSON is still a parse error. A `server/discover` gets a server with
 * nothing registered but the whole server's capabilities: a new client must learn exactly what it would otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { closeAll, connectHttp, type HttpServerProcess, messages, rawRequest, startHttp } from './helpers/http.js';
import { connectStdio, ERAS, type McpSession, text } from './helpers/mcp.js';

const TOKEN = 'tok_http_scope_0123456789abcdef';
const KEY = 'sk_http_scope_server_key_0123456789';

let sim: Simulator;
let server: HttpServerProcess;
beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY });
  server = await startHttp({
    args: ['--toolsets', 'browsers'],
    env: { KERNEL_API_KEY: KEY, KERNEL_BASE_URL: sim.url, KERNEL_MCP_HTTP_TOKEN: TOKEN },
  });
});
afterAll(async () => {
  await server?.stop();
  await sim?.close();
});

describe.each(ERAS)('per-request servers over HTTP (%s client)', (era) => {
  let mcp: McpSession;
  beforeAll(async () => {
    mcp = await connectHttp(era, server.url, { token: TOKEN });
  });
  afterAll(async () => {
    await closeAll(mcp);
  });

  it('calls tools, validates their arguments, and still lists every tool and template', async () => {
    const created = await mcp.call('browsers_create', { headless: true });
    expect(created.isError).toBeFalsy();
    const id = (created.structuredContent as { session_id: string }).session_id;
    const got = await mcp.call('browsers_retrieve', { id });
    expect(got.structuredContent).toMatchObject({ session_id: id });
    expect(JSON.parse(text(got))).toEqual(got.structuredContent);

    const bad = await mcp.call('browsers_retrieve', { id: 7 });
    expect(bad.isError).toBe(true);
    expect(text(bad)).toMatch(/\bid\b/);

    const names = (await mcp.listTools()).map((t) => t.name);
    expect(names).toContain('browsers_retrieve');
    expect(names).toContain('browsers_delete');
    expect(names.every((n) => typeof n === 'string' && n.startsWith('browsers_'))).toBe(true);
    const templates = await mcp.client.listResourceTemplates();
    expect(templates.resourceTemplates.length).toBeGreaterThan(0);
  });

  it('refuses a tool it does not offer, naming it', async () => {
    const refused = await mcp.call('profiles_list', {}).then(
      (r) => (r.isError ? text(r) : 'answered'),
      (err: Error) => err.message,
    );
    expect(refused).toContain('profiles_list');
    expect(refused).not.toBe('answered');
  });
});

describe('a body that is not JSON', () => {
  it('is a JSON-RPC parse error, for a 2026-07-28 request and a 2025 one', async () => {
    for (const version of ['2026-07-28', '2025-11-25']) {
      const res = await rawRequest(server.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': version,
        },
        body: '{"jsonrpc": "2.0", "id": 1, "method": ',
      });
      expect(res.status, version).toBe(400);
      expect(messages(res.body)[0]).toMatchObject({ error: { code: -32700 } });
    }
  });
});

describe('server/discover, answered without building the whole server', () => {
  /** What a 2026-07-28 client learns when it connects: the capabilities and instructions discover answered. */
  const learned = (mcp: McpSession) => {
    const c = mcp.client as unknown as { getServerCapabilities(): unknown; getInstructions(): string | undefined };
    return { capabilities: c.getServerCapabilities(), instructions: c.getInstructions() };
  };

  it.each([[[]], [['--dynamic']], [['--code-mode']], [['--no-skills', '--read-only', '--toolsets', 'all']]])(
    'tells a client over HTTP what the whole server tells it over stdio (%j)',
    async (args: string[]) => {
      const env = { KERNEL_API_KEY: KEY, KERNEL_BASE_URL: sim.url };
      const http = await startHttp({ args, env: { ...env, KERNEL_MCP_HTTP_TOKEN: TOKEN } });
      const overHttp = await connectHttp('modern', http.url, { token: TOKEN });
      const overStdio = await connectStdio('modern', { args, env });
      try {
        const viaHttp = learned(overHttp);
        expect(viaHttp.capabilities).toMatchObject({ tools: {}, resources: {} });
        expect(viaHttp.instructions).toBeTruthy();
        expect(viaHttp).toEqual(learned(overStdio));
        // The bare server answered discover only: the tools are all there for the requests after it.
        expect((await overHttp.listTools()).length).toBe((await overStdio.listTools()).length);
      } finally {
        await closeAll(overHttp, overStdio);
        await http.stop();
      }
    },
  );
});
