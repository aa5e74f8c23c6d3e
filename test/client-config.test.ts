import { tmpdir } from 'node:os';
import { isAbsolute } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { CLI, connectStdio, type Era, runCli } from './helpers/mcp.js';

const printConfig = (args: string[], env: Record<string, string> = {}) => runCli(['config', ...args], env, tmpdir());

interface StdioServer {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

function jsonConfig(args: string[]): StdioServer {
  const res = printConfig(args);
  expect(res.status, res.stderr).toBe(0);
  return (JSON.parse(res.stdout) as { mcpServers: { kernel: StdioServer } }).mcpServers.kernel;
}

/** The words of a POSIX shell line, with '...' and "..." quoting (enough for what `config claude-code` prints). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

async function toolNames(era: Era, server: StdioServer, env: Record<string, string> = server.env ?? {}) {
  const s = await connectStdio(era, { command: { command: server.command, args: server.args }, env, cwd: tmpdir() });
  try {
    return { session: s, names: (await s.listTools()).map((t) => String(t.name)) };
  } catch (err) {
    await s.close();
    throw err;
  }
}

describe('kernel-mcp config', () => {
  let sim: Simulator;
  const key = 'sk_client_config_test_key';
  beforeAll(async () => {
    sim = await startSimulator({ apiKey: key });
  });
  afterAll(() => sim?.close());

  it('claude-desktop: absolute node and cli.js, the options passed on; it starts and lists tools (2025 client)', async () => {
    const server = jsonConfig(['claude-desktop', '--simulate', '--toolsets', 'default,logs']);
    expect(isAbsolute(server.command)).toBe(true);
    expect(server.args[0]).toBe(CLI);
    expect(server.args.slice(1)).toEqual(['--simulate', '--toolsets', 'default,logs']);
    expect(server.env).toBeUndefined();
    const { session, names } = await toolNames('legacy', server);
    expect(names).toContain('browsers_create');
    expect(names).toContain('browsers_logs_stream');
    await session.close();
  });

  it('claude-desktop with a key: the placeholder, once replaced, reaches the API', async () => {
    const server = jsonConfig(['claude-desktop', '--base-url', sim.url]);
    expect(server.env).toEqual({ KERNEL_API_KEY: '<your Kernel API key>' });
    const { session } = await toolNames('legacy', server, { KERNEL_API_KEY: key });
    const res = await session.call('browsers_list', {});
    expect(res.isError).toBeFalsy();
    await session.close();
  });

  it('cursor: the key from the environment; it starts and lists tools (2026-07-28 client)', async () => {
    expect(jsonConfig(['cursor']).env).toEqual({ KERNEL_API_KEY: `\${env:KERNEL_API_KEY}` });
    const server = jsonConfig(['cursor', '--simulate', '--read-only']);
    const { session, names } = await toolNames('modern', server);
    expect(names.length).toBeGreaterThan(0);
    expect(names).not.toContain('browsers_create');
    await session.close();
  });

  it('claude-code: a claude mcp add line whose command starts the server', async () => {
    const res = printConfig(['claude-code']);
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/^claude mcp add --transport stdio --env KERNEL_API_KEY="\$KERNEL_API_KEY" kernel -- /);
    const simulated = printConfig(['claude-code', '--simulate']).stdout.trim();
    const [command, ...args] = shellWords(simulated.split(' -- ')[1]!);
    expect(args[0]).toBe(CLI);
    const { session, names } = await toolNames('modern', { command: command!, args });
    expect(names).toContain('browsers_create');
    await session.close();
  });

  it('never prints the key from the environment', () => {
    for (const client of ['claude-desktop', 'claude-code', 'cursor']) {
      const res = printConfig([client], { KERNEL_API_KEY: key });
      expect(res.status).toBe(0);
      expect(res.stdout + res.stderr).not.toContain(key);
    }
  });

  it('bad requests are one line that says what works', () => {
    const cases: [string[], RegExp][] = [
      [['vscode'], /unknown client vscode: `node \S+cli\.js config <client> \[options\]` takes claude-desktop/],
      [[], /which client\?/],
      [['cursor', '--api-key', key], /--api-key would write your key into the config/],
      [['cursor', '--transport', 'http'], /for HTTP run `node \S+cli\.js --transport http`/],
      [['cursor', '--toolsets'], /Unknown option|argument missing|--toolsets/],
    ];
    for (const [args, message] of cases) {
      const res = printConfig(args);
      expect(res.status).not.toBe(0);
      expect(res.stdout).toBe('');
      expect(res.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(res.stderr).toMatch(message);
      expect(res.stderr).not.toContain(key);
    }
  });
});
