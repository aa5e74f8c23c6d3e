// The cold-start baseline: a bare MCP TypeScript SDK v2 server with one tool, over stdio.
// Plain JavaScript on purpose, so it starts exactly like the built kernel-mcp CLI (node, no loader).
import { McpServer } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { z } from 'zod';

serveStdio(() => {
  const server = new McpServer({ name: 'bare', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Echo a message', inputSchema: z.object({ message: z.string() }) },
    async ({ message }) => ({ content: [{ type: 'text', text: message }] }),
  );
  return server;
});
process.stdin.on('end', () => process.exit(0));
