/**
 * `kernel-mcp config <client> [options]`: a ready-to-paste stdio config for Claude Desktop, Claude Code or Cursor
 * that starts this very kernel-mcp (the absolute paths of the running node and cli.js, so it works from a clone,
 * a global install or an unpacked tarball, and from GUI apps that do not see the shell's PATH). The options are
 * validated like the server's own and passed on. Secrets are never printed: configs name the variable or a
 * placeholder.
 */
import { ConfigError, loadConfig } from './config.js';
import { cliPath, shellWord } from './invocation.js';

export const CLIENTS = ['claude-desktop', 'claude-code', 'cursor'] as const;
export type ClientName = (typeof CLIENTS)[number];

export interface ClientConfig {
  /** The config itself (stdout: pipe it or paste it). */
  text: string;
  /** Where it goes (stderr). */
  hint: string;
}

const KEY_PLACEHOLDER = '<your Kernel API key>';

export function clientConfig(
  argv: string[],
  where: { node?: string; cli?: string; self: string } = { self: 'kernel-mcp' },
): ClientConfig {
  const [client, ...options] = argv;
  if (!CLIENTS.includes(client as ClientName)) {
    throw new ConfigError(
      `${client ? `unknown client ${client}` : 'which client?'}: \`${where.self} config <client> [options]\` takes ` +
        `${CLIENTS.join(', ')} (options such as --simulate or --toolsets are passed on to the server)`,
    );
  }
  if (options.some((o) => o === '--api-key' || o.startsWith('--api-key='))) {
    throw new ConfigError(
      '--api-key would write your key into the config: the config passes KERNEL_API_KEY in its environment instead',
    );
  }
  // Validated now, so a typo fails here rather than in the client's log.
  const config = loadConfig(options, {});
  if (config.transport !== 'stdio') {
    throw new ConfigError(
      `these configs start kernel-mcp over stdio; for HTTP run \`${where.self} --transport http\`, which prints the ` +
        'configs that reach it',
    );
  }
  const command = where.node ?? process.execPath;
  const args = [where.cli ?? cliPath(), ...options];
  const needsKey = !config.simulate;
  const c = client as ClientName;

  if (c === 'claude-code') {
    const env = needsKey ? ' --env KERNEL_API_KEY="$KERNEL_API_KEY"' : '';
    return {
      text: `claude mcp add --transport stdio${env} kernel -- ${[command, ...args].map(shellWord).join(' ')}\n`,
      hint: needsKey
        ? 'Run this in a shell where KERNEL_API_KEY is set (add --scope user to use it in every project).'
        : 'Run this in a shell (add --scope user to use it in every project).',
    };
  }
  const key = c === 'cursor' ? `\${env:KERNEL_API_KEY}` : KEY_PLACEHOLDER;
  const server = { command, args, ...(needsKey ? { env: { KERNEL_API_KEY: key } } : {}) };
  const text = `${JSON.stringify({ mcpServers: { kernel: server } }, null, 2)}\n`;
  if (c === 'cursor') {
    return {
      text,
      hint:
        'Merge this into ~/.cursor/mcp.json (or .cursor/mcp.json in a project)' +
        (needsKey ? '; Cursor reads KERNEL_API_KEY from the environment it was started in.' : '.'),
    };
  }
  return {
    text,
    hint:
      'Merge this into claude_desktop_config.json (Claude Desktop: Settings -> Developer -> Edit Config)' +
      (needsKey ? `, replacing ${KEY_PLACEHOLDER} with your key, then restart Claude Desktop.` : ', then restart it.'),
  };
}
