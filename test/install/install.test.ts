/**
 * Every install path the README gives, on a fresh copy of the project (the tracked and untracked-but-not-ignored
 * files, so no dist/ and no node_modules/), run the way a user runs it:
 *
 * - `npm pack` builds first (prepack) and ships dist/; the tarball installs globally into an empty prefix with its
 *   production dependencies only; its `kernel-mcp` answers --version and --help, serves --simulate to clients of both
 *   eras, and runs the simulator alone;
 * - from the clone: `npm install && npm run build`, then the config `config claude-desktop` prints starts it;
 * - `npm install -g .` puts a working `kernel-mcp` on the PATH;
 * - `npm run bundle` writes a .mcpb within the size budget (its size is the README's), which, unpacked into an empty
 *   folder and started exactly as Claude Desktop starts it (manifest `mcp_config`, `${__dirname}` and the
 *   `${user_config.*}` values substituted, or left literal for unset options), lists its tools and reaches the API.
 *
 * Slow (npm installs, builds, packs): `npm run test:install`, run by CI; not part of `npm test`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, sep } from 'node:path';
import { getMcpConfigForManifest, replaceVariables, unpackExtension } from '@anthropic-ai/mcpb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../simulator/index.js';
import { connectStdio, type Era, ROOT } from '../helpers/mcp.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  devDependencies: Record<string, string>;
};
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const BUNDLE_BUDGET = 5 * 1024 * 1024;

let work: string;
let clone: string;

/** Runs a command to completion (npm quietly, preferring the local cache) and returns its stdout. */
function sh(command: string, args: string[], cwd: string, env: Record<string, string> = {}): string {
  return execFileSync(command, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    shell: process.platform === 'win32',
    env: {
      ...process.env,
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      npm_config_update_notifier: 'false',
      npm_config_prefer_offline: 'true',
      npm_config_loglevel: 'warn',
      ...env,
    },
  });
}

/** The project's files as a fresh clone has them: tracked, plus untracked ones git does not ignore. */
function freshCopy(to: string) {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    const from = join(ROOT, file);
    if (!existsSync(from)) continue; // deleted in the working tree
    mkdirSync(dirname(join(to, file)), { recursive: true });
    cpSync(from, join(to, file));
  }
}

/** Where a global install into `prefix` puts bins and packages. */
function globalLayout(prefix: string) {
  const win = process.platform === 'win32';
  return {
    bin: win ? join(prefix, 'kernel-mcp.cmd') : join(prefix, 'bin', 'kernel-mcp'),
    packageDir: win ? join(prefix, 'node_modules', pkg.name) : join(prefix, 'lib', 'node_modules', pkg.name),
  };
}

async function listToolNames(era: Era, command: string, args: string[], env: Record<string, string> = {}) {
  const s = await connectStdio(era, { command: { command, args }, env, cwd: work });
  try {
    return (await s.listTools()).map((t) => String(t.name));
  } finally {
    await s.close();
  }
}

/** `kernel-mcp simulator` from `bin`: prints its URL, answers a Kernel API call, stops on SIGTERM. */
async function simulatorAlone(bin: string) {
  const child: ChildProcess = spawn(bin, ['simulator', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    shell: process.platform === 'win32',
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited ${code}: ${out}`)));
  });
  const res = await fetch(`${url}/browsers`, { headers: { authorization: 'Bearer any-key' } });
  expect(res.status).toBe(200);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  expect(code).toBe(0);
}

/** Every file under `dir`, relative, with `/` separators. */
function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory()
      ? filesUnder(path, base)
      : [
          path
            .slice(base.length + 1)
            .split(sep)
            .join('/'),
        ];
  });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'kernel-mcp-install-'));
  clone = join(work, 'clone');
  freshCopy(clone);
  expect(existsSync(join(clone, 'dist'))).toBe(false);
  sh(npm, ['ci'], clone);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a packed tarball', () => {
  let tarball: string;
  let prefix: string;

  it('npm pack from a fresh copy contains dist/ (prepack builds it)', () => {
    sh(npm, ['pack', '--pack-destination', work], clone);
    tarball = join(work, `${pkg.name}-${pkg.version}.tgz`);
    const listed = sh('tar', ['-tzf', tarball], work).split('\n');
    expect(listed).toContain('package/dist/src/cli.js');
    expect(listed).toContain('package/dist/simulator/index.js');
    expect(listed.filter((f) => f.startsWith('package/test/') || f.endsWith('.ts'))).toEqual([]);
  });

  it('installs into an empty prefix with production dependencies only', () => {
    prefix = join(work, 'tarball-prefix');
    mkdirSync(prefix);
    sh(npm, ['install', '--global', '--prefix', prefix, tarball], work);
    const { packageDir } = globalLayout(prefix);
    expect(existsSync(join(packageDir, 'node_modules', 'undici'))).toBe(true);
    for (const dev of Object.keys(pkg.devDependencies)) {
      expect(existsSync(join(packageDir, 'node_modules', dev)), dev).toBe(false);
    }
  });

  it('kernel-mcp --version and --help', () => {
    const { bin } = globalLayout(prefix);
    expect(sh(bin, ['--version'], work)).toBe(`${pkg.version}\n`);
    expect(sh(bin, ['--help'], work)).toContain('Usage: kernel-mcp');
  });

  it('kernel-mcp --simulate lists tools to clients of both eras', async () => {
    const { bin } = globalLayout(prefix);
    for (const era of ['modern', 'legacy'] as const) {
      expect(await listToolNames(era, bin, ['--simulate'])).toContain('browsers_create');
    }
  });

  it('kernel-mcp simulator runs the simulator alone', async () => {
    await simulatorAlone(globalLayout(prefix).bin);
  });
});

describe('from the clone', () => {
  it('npm run build, then the config `config claude-desktop` prints starts it (2025 client)', async () => {
    sh(npm, ['run', 'build'], clone);
    const cli = join(clone, 'dist', 'src', 'cli.js');
    expect(sh(process.execPath, [cli, '--version'], work)).toBe(`${pkg.version}\n`);
    const printed = JSON.parse(sh(process.execPath, [cli, 'config', 'claude-desktop', '--simulate'], work)) as {
      mcpServers: { kernel: { command: string; args: string[] } };
    };
    const { command, args } = printed.mcpServers.kernel;
    expect(args[0]).toBe(cli);
    expect(await listToolNames('legacy', command, args)).toContain('browsers_create');
  });

  it('npm install -g . puts kernel-mcp on the PATH (2026-07-28 client)', async () => {
    const prefix = join(work, 'global-prefix');
    mkdirSync(prefix);
    sh(npm, ['install', '--global', '--prefix', prefix, '.'], clone);
    const { bin } = globalLayout(prefix);
    const path = `${dirname(bin)}${delimiter}${process.env.PATH ?? ''}`;
    expect(sh('kernel-mcp', ['--version'], work, { PATH: path })).toBe(`${pkg.version}\n`);
    const printed = JSON.parse(sh('kernel-mcp', ['config', 'cursor', '--simulate'], work, { PATH: path })) as {
      mcpServers: { kernel: { command: string; args: string[] } };
    };
    const { command, args } = printed.mcpServers.kernel;
    expect(await listToolNames('modern', command, args)).toContain('browsers_create');
  });
});

describe('the MCP bundle', () => {
  let bundle: string;
  let extension: string;
  let manifest: Parameters<typeof getMcpConfigForManifest>[0]['manifest'];
  let sim: Simulator;
  const key = 'sk_bundle_test_key_123';

  beforeAll(async () => {
    sim = await startSimulator({ apiKey: key });
  });
  afterAll(() => sim?.close());

  it('npm run bundle writes kernel-mcp-<version>.mcpb within the budget, the size the README gives', () => {
    const out = sh(npm, ['run', '--silent', 'bundle', '--', '--out', work], clone);
    bundle = join(work, `${pkg.name}-${pkg.version}.mcpb`);
    const bytes = statSync(bundle).size;
    const mb = bytes / 1024 / 1024;
    expect(out).toContain(`${mb.toFixed(1)} MB`);
    expect(bytes).toBeLessThanOrEqual(BUNDLE_BUDGET);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const documented = Number(/<!-- bundle-size:start -->([\d.]+) MB<!-- bundle-size:end -->/.exec(readme)?.[1]);
    // Within a quarter MB: `npm run bundle -- --readme` writes the current figure.
    expect(Math.abs(documented - mb), `README says ${documented} MB, the bundle is ${mb.toFixed(2)} MB`).toBeLessThan(
      0.25,
    );
  });

  it('unpacks into an empty folder with the built server and production dependencies only', async () => {
    extension = join(work, 'Claude Extensions', 'kernel-mcp');
    mkdirSync(extension, { recursive: true });
    expect(await unpackExtension({ mcpbPath: bundle, outputDir: extension, silent: true })).toBe(true);
    const files = filesUnder(extension);
    expect(files).toContain('manifest.json');
    expect(files).toContain('dist/src/cli.js');
    expect(files).toContain('dist/simulator/index.js');
    // No sources, tests or TypeScript (the dependencies' own sources are left out too).
    expect(files.filter((f) => /^(src|test|bench|scripts)\//.test(f) || /\.[cm]?ts$/.test(f))).toEqual([]);
    for (const dev of Object.keys(pkg.devDependencies)) {
      expect(existsSync(join(extension, 'node_modules', dev)), dev).toBe(false);
    }
    manifest = JSON.parse(readFileSync(join(extension, 'manifest.json'), 'utf8'));
  });

  /** The command Claude Desktop runs for the unpacked bundle: `node` is its own Node.js runtime. */
  function launch(config: { command: string; args?: string[]; env?: Record<string, string> }) {
    return {
      command: config.command === 'node' ? process.execPath : config.command,
      args: config.args ?? [],
      env: config.env ?? {},
    };
  }

  async function desktopConfig(userConfig: Record<string, string | number | boolean>) {
    const config = await getMcpConfigForManifest({
      manifest,
      extensionPath: extension,
      systemDirs: { HOME: work, DESKTOP: work, DOCUMENTS: work, DOWNLOADS: work },
      userConfig,
      pathSeparator: sep,
    });
    if (!config) throw new Error('getMcpConfigForManifest gave no config');
    return launch(config as { command: string; args?: string[]; env?: Record<string, string> });
  }

  it('every optional setting has a default', () => {
    const options = Object.entries(manifest.user_config ?? {});
    expect(options.length).toBeGreaterThan(0);
    for (const [name, option] of options) {
      if (!option.required) expect(option.default, name).toBeDefined();
    }
  });

  it('starts as Claude Desktop starts it, defaults substituted, Simulate on (2025 client)', async () => {
    const { command, args, env } = await desktopConfig({ simulate: true });
    expect(args[0]).toBe(join(extension, 'dist', 'src', 'cli.js'));
    expect(Object.values(env).join(' ')).not.toContain('${');
    expect(await listToolNames('legacy', command, args, env)).toContain('browsers_create');
  });

  it('starts with unset options left as literal user_config placeholders (2026-07-28 client)', async () => {
    const raw = manifest.server.mcp_config as { command: string; args: string[]; env: Record<string, string> };
    const substituted = replaceVariables(raw, { __dirname: extension, 'user_config.simulate': 'true' }) as typeof raw;
    const { command, args, env } = launch(substituted);
    const literal = Object.values(env).filter((v) => v.startsWith('${user_config.'));
    expect(literal.length).toBeGreaterThanOrEqual(Object.keys(raw.env).length - 1);
    expect(await listToolNames('modern', command, args, env)).toContain('browsers_create');
  });

  it('with an API key and base URL set, reaches the API', async () => {
    const { command, args, env } = await desktopConfig({ api_key: key, base_url: sim.url });
    const s = await connectStdio('legacy', { command: { command, args }, env, cwd: work });
    try {
      const res = await s.call('browsers_list', {});
      expect(res.isError).toBeFalsy();
    } finally {
      await s.close();
    }
  });

  it('has no platform-specific image library, and screenshots still work (unscaled, said so)', async () => {
    // sharp's native binaries are for one platform: a bundle built here must run on macOS and Windows too.
    expect(existsSync(join(extension, 'node_modules', 'sharp'))).toBe(false);
    expect(existsSync(join(extension, 'node_modules', '@img'))).toBe(false);
    const { command, args, env } = await desktopConfig({ simulate: true });
    const s = await connectStdio('modern', { command: { command, args }, env, cwd: work });
    try {
      const created = await s.call('browsers_create', { headless: true });
      const id = (created.structuredContent as { session_id: string }).session_id;
      const shot = await s.call('browsers_computer_capture_screenshot', { id });
      expect(shot.isError).toBeFalsy();
      expect(shot.content[0]).toMatchObject({ type: 'image', mimeType: 'image/png' });
      expect(shot.structuredContent).toMatchObject({ scale: 1, width: 1920, height: 1080 });
      expect(String((shot.structuredContent as { note: string }).note)).toMatch(/npm install sharp/);
    } finally {
      await s.close();
    }
  });
});
