import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfCommand } from '../src/invocation.js';
import { CLI, connectStdio, type Era, ROOT, runCli } from './helpers/mcp.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

const run = (args: string[], env: Record<string, string> = {}) => runCli(args, env);

describe('kernel-mcp --version and --help', () => {
  it('--version prints the package version and nothing else', () => {
    for (const flag of ['--version', '-v']) {
      const res = run([flag]);
      expect(res.status).toBe(0);
      expect(res.stdout).toBe(`${pkg.version}\n`);
      expect(res.stderr).toBe('');
    }
  });

  it('--help lists --version and --simulator-seed with their variables', () => {
    const res = run(['--help']);
    expect(res.status).toBe(0);
    expect(res.stdout).toContain(`kernel-mcp ${pkg.version}`);
    expect(res.stdout).toMatch(/--version\s/);
    expect(res.stdout).toMatch(/--simulator-seed <value>\s+KERNEL_MCP_SIMULATOR_SEED/);
  });
});

describe('a taken port', () => {
  let blocker: Server;
  let port: number;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port = (blocker.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it('stops the HTTP server with one line naming the port and --port', () => {
    const res = run(['--simulate', '--transport', 'http', '--port', String(port)], { KERNEL_MCP_LOG_LEVEL: 'warn' });
    expect(res.status).not.toBe(0);
    expect(res.stdout).toBe('');
    expect(res.stderr.trimEnd().split('\n')).toEqual([
      `kernel-mcp: port ${port} on 127.0.0.1 is already in use: pick another with --port`,
    ]);
  });
});

describe('simulator ids', () => {
  async function firstBrowserId(era: Era, seed: string): Promise<string> {
    const s = await connectStdio(era, { args: ['--simulate'], env: { KERNEL_MCP_SIMULATOR_SEED: seed } });
    try {
      const res = await s.call('browsers_create', { headless: true });
      expect(res.isError).toBeFalsy();
      return (res.structuredContent as { session_id: string }).session_id;
    } finally {
      await s.close();
    }
  }

  it('are new on each --simulate run, and repeat with --simulator-seed', async () => {
    // An empty variable is unset: each run picks its own seed. One run of each pair per client era.
    const [a, b] = [await firstBrowserId('modern', ''), await firstBrowserId('legacy', '')];
    expect(a).not.toBe(b);
    const [c, d] = [await firstBrowserId('modern', '4242'), await firstBrowserId('legacy', '4242')];
    expect(c).toBe(d);
    expect([a, b]).not.toContain(c);
  });

  it('a bad seed is an error naming the flag and variable', () => {
    const res = run(['--simulate', '--simulator-seed', 'soon']);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain('--simulator-seed (KERNEL_MCP_SIMULATOR_SEED)');
  });
});

describe('start-up failures', () => {
  /** Runs the CLI from `cwd` and expects a non-zero exit with exactly one line on stderr, which it returns. */
  function oneLine(args: string[], env: Record<string, string> = {}, cwd = ROOT): string {
    const res = runCli(args, env, cwd);
    expect(res.status).not.toBe(0);
    expect(res.stdout).toBe('');
    const lines = res.stderr.trimEnd().split('\n');
    expect(lines, res.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^kernel-mcp: /);
    return lines[0]!;
  }

  it('an unknown flag, bad values, an unknown toolset or tool: one line each, naming the option', () => {
    expect(oneLine(['--no-such-flag'])).toContain("Unknown option '--no-such-flag'");
    const bad = oneLine(['--timeout-ms', 'soon'], { KERNEL_BASE_URL: 'not a url' });
    expect(bad).toContain('--timeout-ms (KERNEL_TIMEOUT_MS)');
    expect(bad).toContain('--base-url (KERNEL_BASE_URL)');
    expect(oneLine(['--simulate', '--toolsets', 'computr'])).toContain(
      'unknown toolset computr (did you mean computer?)',
    );
    const tools = oneLine(['--simulate', '--tools', 'browsers_craete']);
    expect(tools).toContain('unknown tool browsers_craete (did you mean browsers_create?)');
    expect(tools).toMatch(/; browsers: [a-z_, ]*browsers_create[,;]/);
  });

  it('a missing key names a command that works from where the user is', () => {
    // From the clone: the path relative to the working directory.
    const fromClone = oneLine([]);
    expect(fromClone).toContain('KERNEL_API_KEY is not set');
    expect(fromClone).toContain('`node dist/src/cli.js --simulate`');
    expect(oneLine(['--no-such-flag'])).toContain('`node dist/src/cli.js --help` lists every option');
    // From elsewhere (a folder that does not contain the checkout, wherever the checkout is): the absolute path.
    const elsewhere = oneLine([], {}, mkdtempSync(join(tmpdir(), 'kernel-mcp-elsewhere-')));
    expect(elsewhere).toContain(`\`node ${CLI} --simulate\``);
    // The command named there exists from anywhere.
    const command = /`(node \S+) --simulate`/.exec(elsewhere)![1]!;
    expect(existsSync(command.slice('node '.length))).toBe(true);
  });
});

describe('selfCommand', () => {
  it('names the command the user ran: npx, an installed bin, or node with the script path', () => {
    const cli = '/home/u/kernel-mcp/dist/src/cli.js';
    const npx = '/home/u/.npm/_npx/3f2a/node_modules/.bin/kernel-mcp';
    expect(selfCommand({ argv1: npx, cwd: '/home/u' })).toBe('npx kernel-mcp');
    expect(selfCommand({ argv1: '/home/u/app/node_modules/.bin/kernel-mcp', cwd: '/home/u/app' })).toBe(
      'npx kernel-mcp',
    );
    expect(selfCommand({ argv1: '/usr/local/bin/kernel-mcp', cwd: '/' })).toBe('kernel-mcp');
    expect(selfCommand({ argv1: cli, cwd: '/home/u/kernel-mcp' })).toBe('node dist/src/cli.js');
    expect(selfCommand({ argv1: cli, cwd: '/tmp' })).toBe(`node ${cli}`);
    expect(selfCommand({ argv1: '/My Apps/cli.js', cwd: '/tmp' })).toBe(`node '/My Apps/cli.js'`);
  });
});
