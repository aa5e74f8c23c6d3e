// The fair reference for kernel-mcp: a bare MCP TypeScript SDK v2 server whose tool makes the same upstream GET
// with undici and answers it the same way (JSON as structuredContent plus the same JSON as text; text as text).
// Nothing else: no selection, no redaction, no caps. Plain JavaScript on purpose, so it starts exactly like the
// built kernel-mcp CLI (node, no loader).
//
//   node bench/reference-server.mjs                     stdio
//   node bench/reference-server.mjs --http PORT         Streamable HTTP on 127.0.0.1:PORT: 2026-07-28 per request,
//                                                       2025 clients through the SDK's stateless legacy leg
// Env: KERNEL_BASE_URL, KERNEL_API_KEY (the same upstream kernel-mcp is given).
import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

const baseUrl = process.env.KERNEL_BASE_URL ?? 'http://127.0.0.1:1';
const auth = { authorization: `Bearer ${process.env.KERNEL_API_KEY ?? ''}` };
// undici is loaded on the first call, as kernel-mcp does, so cold start compares like with like.
let undici;
const agent = () => undici.agent;

async function get(path, accept) {
  undici ??= await import('undici').then((u) => ({ request: u.request, agent: new u.Agent() }));
  const res = await undici.request(`${baseUrl}${path}`, { headers: { ...auth, accept }, dispatcher: agent() });
  const type = String(res.headers['content-type'] ?? '');
  const body = await res.body.text();
  return { status: res.statusCode, type, body };
}

function answer({ status, type, body }) {
  if (status >= 400) return { content: [{ type: 'text', text: `HTTP ${status}: ${body}` }], isError: true };
  if (type.includes('json')) {
    const data = JSON.parse(body);
    return { content: [{ type: 'text', text: JSON.stringify(data) }], structuredContent: data };
  }
  return { content: [{ type: 'text', text: body }] };
}

function createServer() {
  const server = new McpServer({ name: 'reference', version: '1.0.0' });
  server.registerTool(
    'browsers_retrieve',
    { description: 'Get a browser session', inputSchema: z.object({ id: z.string() }) },
    async ({ id }) => answer(await get(`/browsers/${encodeURIComponent(id)}`, 'application/json')),
  );
  server.registerTool(
    'browsers_fs_read_file',
    { description: 'Read a file', inputSchema: z.object({ id: z.string(), path: z.string() }) },
    async ({ id, path }) =>
      answer(await get(`/browsers/${encodeURIComponent(id)}/fs/read_file?path=${encodeURIComponent(path)}`, '*/*')),
  );
  return server;
}

const httpAt = process.argv.indexOf('--http');
if (httpAt >= 0) {
  const port = Number(process.argv[httpAt + 1]);
  const { createServer: createHttpServer } = await import('node:http');
  const { createMcpHandler } = await import('@modelcontextprotocol/server');
  const { toNodeHandler } = await import('@modelcontextprotocol/node');
  const handler = toNodeHandler(createMcpHandler(createServer));
  const server = createHttpServer((req, res) => void handler(req, res));
  server.listen(port, '127.0.0.1');
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const { serveStdio } = await import('@modelcontextprotocol/server/stdio');
  serveStdio(createServer);
  process.stdin.on('end', () => process.exit(0));
}
