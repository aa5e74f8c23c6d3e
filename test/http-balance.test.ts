/**
 * Two instances behind one port: a 2026-07-28 client needs no session, so a plain L4 balancer alternating
 * connections between instances serves it without error.
 */
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { closeAll, connectHttp, type HttpServerProcess, startHttp } from './helpers/http.js';
import { text } from './helpers/mcp.js';

const TOKEN = 'tok_http_e2e_0123456789abcdef';
const KEY = 'sk_http_e2e_server_key_0123456789';

/**
 * A TCP proxy on one port that hands each new connection to the next upstream in turn, like a plain L4 balancer.
 * `ports` may be filled in after it started (the instances behind it need its port first).
 */
async function roundRobin(): Promise<{ port: number; ports: number[]; counts: number[]; close(): void }> {
  const ports: number[] = [];
  const counts: number[] = [];
  const sockets = new Set<Socket>();
  let next = 0;
  const server = createNetServer((client) => {
    const i = next++ % ports.length;
    counts[i] = (counts[i] ?? 0) + 1;
    const upstream = connect(ports[i]!, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    ports,
    counts,
    close() {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

describe('two instances behind one port', () => {
  let sim: Simulator;
  let one: HttpServerProcess;
  let two: HttpServerProcess;
  let lb: Awaited<ReturnType<typeof roundRobin>>;
  // No keep-alive: every request opens a new connection, so the balancer alternates instances per request.
  const agent = new Agent({ pipelining: 0 });
  const freshConnections = ((input: string | URL | Request, init?: RequestInit) =>
    undiciFetch(input as never, { ...(init as object), dispatcher: agent } as never)) as unknown as typeof fetch;

  beforeAll(async () => {
    sim = await startSimulator({ apiKey: KEY });
    lb = await roundRobin();
    const env = { KERNEL_API_KEY: KEY, KERNEL_BASE_URL: sim.url, KERNEL_MCP_HTTP_TOKEN: TOKEN };
    // Clients name the balancer in their Host header.
    const args = ['--allowed-hosts', `127.0.0.1:${lb.port}`];
    [one, two] = await Promise.all([startHttp({ env, args }), startHttp({ env, args })]);
    lb.ports.push(one.port, two.port);
  });
  afterAll(async () => {
    lb?.close();
    await closeAll(one, two, sim);
    await agent.close();
  });

  it('serves one modern client alternately from both, without error', async () => {
    const mcp = await connectHttp('modern', `http://127.0.0.1:${lb.port}/mcp`, {
      token: TOKEN,
      fetch: freshConnections,
    });
    try {
      const tools = await mcp.listTools();
      expect(tools.map((t) => t.name)).toContain('browsers_retrieve');
      const created = await mcp.call('browsers_create', { headless: true });
      expect(created.isError, text(created)).toBeFalsy();
      const id = (created.structuredContent as { session_id: string }).session_id;
      // A browser made through one instance is there through the other: state lives in the API, not the server.
      for (let i = 0; i < 6; i++) {
        const got = await mcp.call('browsers_retrieve', { id });
        expect(got.isError, text(got)).toBeFalsy();
        expect(got.structuredContent).toMatchObject({ session_id: id });
      }
    } finally {
      await mcp.close();
    }
    expect(lb.counts[0]).toBeGreaterThanOrEqual(3);
    expect(lb.counts[1]).toBeGreaterThanOrEqual(3);
  });
});
