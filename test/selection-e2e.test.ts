import { afterEach, describe, expect, it } from 'vitest';
import { type Config, makeConfig } from '../src/config.js';
import { operations } from '../src/generated/kernel-operations.gen.js';
import { allTools } from '../src/registry.js';
import { selectTools } from '../src/selection.js';
import { compile, publishedAnnotations } from '../src/tools/define.js';
import { connectStdio, ERAS, type McpSession, runCli } from './helpers/mcp.js';

/** What the CLI computes with --simulate (which also points the proxy-pool service at the simulator). */
function expected(c: Partial<Config>) {
  const config: Config = { ...makeConfig(), proxyPoolUrl: 'http://127.0.0.1:1', ...c };
  return selectTools(config, allTools(config)).tools;
}

const rowByName = new Map(operations.map((r) => [r.name, r]));

let session: McpSession | undefined;
afterEach(async () => {
  await session?.close();
  session = undefined;
});

async function list(era: (typeof ERAS)[number], args: string[], env: Record<string, string> = {}) {
  session = await connectStdio(era, { args: ['--simulate', ...args], env });
  return session.listTools();
}

describe.each(ERAS)('tools/list per mode (%s client)', (era) => {
  it('default: the documented default set', async () => {
    const tools = await list(era, []);
    expect(tools.map((t) => t.name)).toEqual(expected({}).map((t) => t.name));
    expect(tools.map((t) => t.name)).toContain('browsers_playwright_execute');
    expect(tools.map((t) => t.name)).not.toContain('browsers_computer_batch');
  });

  it('--toolsets all: every non-deprecated operation, schemas as compiled', async () => {
    const tools = await list(era, ['--toolsets', 'all']);
    const want = expected({ toolsets: ['all'] });
    expect(tools.map((t) => t.name)).toEqual(want.map((t) => t.name));
    expect(tools.length).toBeGreaterThanOrEqual(118);
    for (const def of want) {
      const listed = tools.find((t) => t.name === def.name)!;
      expect(listed.inputSchema, def.name).toEqual(compile(def).json);
      expect(listed.annotations, def.name).toEqual(publishedAnnotations(def.annotations));
    }
  });

  it('--read-only: no tool that writes', async () => {
    const tools = await list(era, ['--toolsets', 'all', '--read-only']);
    expect(tools.map((t) => t.name)).toEqual(expected({ toolsets: ['all'], readOnly: true }).map((t) => t.name));
    expect(tools.length).toBeGreaterThan(20);
    for (const t of tools) {
      expect((t.annotations as { readOnlyHint?: boolean }).readOnlyHint, String(t.name)).toBe(true);
      const row = rowByName.get(String(t.name));
      // Every Kernel operation listed is a GET or one of the reviewed read-only POSTs.
      if (row) expect(row.method === 'GET' || row.annotations.readOnlyHint, row.name).toBe(true);
      expect(String(t.name)).not.toMatch(/_(create|delete|update|kill|upload|write|stop|start)\b/);
    }
  });

  it('--dynamic: the three meta-tools', async () => {
    const tools = await list(era, ['--dynamic']);
    expect(tools.map((t) => t.name)).toEqual([
      'kernel_search_operations',
      'kernel_describe_operation',
      'kernel_call_operation',
    ]);
  });
});

describe('selection flags and environment (modern client)', () => {
  it('KERNEL_MCP_TOOLSETS, KERNEL_MCP_TOOLS and KERNEL_MCP_EXCLUDE_TOOLS select like the flags', async () => {
    const tools = await list('modern', [], {
      KERNEL_MCP_TOOLSETS: 'replays,playwright',
      KERNEL_MCP_TOOLS: 'browsers_create',
      KERNEL_MCP_EXCLUDE_TOOLS: 'browsers_replays_download',
    });
    const want = expected({
      toolsets: ['replays', 'playwright'],
      tools: ['browsers_create'],
      excludeTools: ['browsers_replays_download'],
    });
    expect(tools.map((t) => t.name)).toEqual(want.map((t) => t.name));
    expect(tools.map((t) => t.name).sort()).toEqual(
      [
        'browsers_create',
        'browsers_page_snapshot',
        'browsers_playwright_execute',
        'browsers_replays_list',
        'browsers_replays_start',
        'browsers_replays_stop',
      ].sort(),
    );
  });

  it('--include-deprecated lists the deprecated operations too', async () => {
    const tools = await list('modern', ['--toolsets', 'projects', '--include-deprecated']);
    expect(tools.map((t) => t.name)).toContain('legacy_projects_list');
    expect(tools.map((t) => t.name)).toContain('projects_list');
  });
});

describe('startup errors', () => {
  const start = (args: string[]) => runCli(['--simulate', ...args]);

  it('an unknown toolset exits non-zero and lists the valid toolsets', () => {
    const res = start(['--toolsets', 'browsers,brwosers']);
    expect(res.status).not.toBe(0);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain(
      '--toolsets (KERNEL_MCP_TOOLSETS): unknown toolset brwosers (did you mean browsers?).',
    );
    for (const s of ['all', 'default', 'browsers', 'computer', 'playwright', 'browser_filesystem', 'api_keys']) {
      expect(res.stderr).toContain(s);
    }
  });

  it('an unknown tool exits non-zero and lists the valid tools', () => {
    const res = start(['--tools', 'browsers_screenshot']);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain('--tools (KERNEL_MCP_TOOLS): unknown tool browsers_screenshot');
    expect(res.stderr).toContain('browsers_computer_capture_screenshot');
    expect(res.stderr).toContain('profiles_list');
  });

  it('an unknown toolset in the environment fails the same way', () => {
    const res = runCli(['--simulate'], { KERNEL_MCP_TOOLSETS: 'nope' });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain('unknown toolset');
    expect(res.stderr).toContain('Valid toolsets: all, default,');
  });
});
