/**
 * The ready message: where the server listens and a ready-to-paste client config for Claude Code, Claude Desktop,
 * Cursor and VS Code. Secrets are never printed: configs name an environment variable or a prompt instead.
 */
import type { AuthMode } from './auth.js';

export interface BannerInput {
  url: string;
  healthUrl: string;
  auth: AuthMode;
  version: string;
  target: string;
  tools: number;
}

export function banner({ url, healthUrl, auth, version, target, tools }: BannerInput): string {
  const secretVar = auth === 'passthrough' ? 'KERNEL_API_KEY' : 'KERNEL_MCP_HTTP_TOKEN';
  // With OAuth the client signs in by itself (discovery from the 401): no header to paste.
  const needsHeader = auth !== 'none' && auth !== 'oauth';
  const authLine =
    auth === 'oauth'
      ? 'auth: oauth (clients sign in through the browser; add it as a custom connector in Claude or ChatGPT by its URL)'
      : auth === 'token'
        ? 'auth: token (clients send `Authorization: Bearer <KERNEL_MCP_HTTP_TOKEN>`)'
        : auth === 'passthrough'
          ? 'auth: passthrough (each client sends its own Kernel API key as `Authorization: Bearer <key>`)'
          : 'auth: none (loopback only)';

  const claudeCode = `claude mcp add --transport http kernel ${url}${
    needsHeader ? ` --header "Authorization: Bearer $${secretVar}"` : ''
  }`;

  const desktop = {
    mcpServers: {
      kernel: {
        command: 'npx',
        args: ['-y', 'mcp-remote', url, ...(needsHeader ? ['--header', `Authorization:${'$'}{KERNEL_AUTH}`] : [])],
        ...(needsHeader ? { env: { KERNEL_AUTH: `Bearer <your ${secretVar}>` } } : {}),
      },
    },
  };

  const cursor = {
    mcpServers: {
      kernel: {
        url,
        ...(needsHeader ? { headers: { Authorization: `Bearer \${env:${secretVar}}` } } : {}),
      },
    },
  };

  const vscode = {
    servers: {
      kernel: {
        type: 'http',
        url,
        ...(needsHeader ? { headers: { Authorization: `Bearer ${'$'}{input:kernel-mcp-token}` } } : {}),
      },
    },
    ...(needsHeader
      ? {
          inputs: [
            {
              type: 'promptString',
              id: 'kernel-mcp-token',
              description: auth === 'passthrough' ? 'Your Kernel API key' : 'The kernel-mcp HTTP token',
              password: true,
            },
          ],
        }
      : {}),
  };

  const json = (v: unknown) => JSON.stringify(v, null, 2).replace(/\n/g, '\n    ');
  return [
    '',
    `kernel-mcp ${version}: ${tools} tools over Streamable HTTP against ${target}`,
    `  MCP endpoint: ${url}`,
    `  health:       ${healthUrl}`,
    `  ${authLine}`,
    '',
    '  Claude Code:',
    `    ${claudeCode}`,
    '',
    '  Claude Desktop (claude_desktop_config.json; Desktop reaches HTTP servers through mcp-remote):',
    `    ${json(desktop)}`,
    '',
    '  Cursor (~/.cursor/mcp.json):',
    `    ${json(cursor)}`,
    '',
    '  VS Code (.vscode/mcp.json):',
    `    ${json(vscode)}`,
    '',
  ].join('\n');
}
