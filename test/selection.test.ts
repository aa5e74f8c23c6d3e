/**
 * Tool selection, as logic: toolsets and the default set, --tools / --exclude-tools, --read-only,
 * --include-deprecated, dynamic mode, and the errors for unknown names.
 */
import { describe, expect, it } from 'vitest';
import { type Config, makeConfig } from '../src/config.js';
import { operations } from '../src/generated/kernel-operations.gen.js';
import { allTools } from '../src/registry.js';
import { closest, DEFAULT_EXCLUDED_TOOLS, DEFAULT_TOOLSETS, SelectionError, selectTools } from '../src/selection.js';
import { operationTools } from '../src/tools/operations.js';

/** A Config with overrides already in their parsed form (lists as arrays). */
const cfg = (c: Partial<Config> = {}): Config => ({ ...makeConfig(), ...c });
const names = (c: Partial<Config>) => selectTools(cfg(c)).tools.map((t) => t.name);
const errorOf = (c: Partial<Config>): string => {
  try {
    selectTools(cfg(c));
  } catch (err) {
    expect(err).toBeInstanceOf(SelectionError);
    return (err as Error).message;
  }
  throw new Error('expected a SelectionError');
};

const SPEC_TOOLSETS = [...new Set(operations.map((o) => o.toolset))];
/** Every Kernel tool: the operations' and the page snapshot (built on Playwright execution). */
const kernelTools = allTools(makeConfig());
const nonDeprecated = kernelTools.filter((t) => !t.deprecated);

describe('the default set', () => {
  const tools = selectTools(cfg()).tools;

  it('is the browser-automation toolsets without the documented exclusions, and no deprecated tool', () => {
    const expected = nonDeprecated
      .filter((t) => DEFAULT_TOOLSETS.includes(t.toolset) && !DEFAULT_EXCLUDED_TOOLS.includes(t.name))
      .map((t) => t.name);
    expect(tools.map((t) => t.name)).toEqual(expected);
    expect(new Set(tools.map((t) => t.toolset))).toEqual(new Set(DEFAULT_TOOLSETS));
    expect(tools.some((t) => t.deprecated)).toBe(false);
  });

  it('has what browser automation needs', () => {
    const set = new Set(tools.map((t) => t.name));
    for (const n of [
      'browsers_create',
      'browsers_list',
      'browsers_delete',
      'browsers_computer_capture_screenshot',
      'browsers_computer_click_mouse',
      'browsers_computer_type_text',
      'browsers_playwright_execute',
      'browsers_fs_read_file',
      'browsers_fs_write_file',
      'browsers_process_exec',
      'browsers_replays_start',
      'profiles_create',
    ]) {
      expect(set.has(n), n).toBe(true);
    }
  });

  it('names only existing tools of default toolsets as exclusions', () => {
    for (const n of DEFAULT_EXCLUDED_TOOLS) {
      const t = operationTools.find((x) => x.name === n);
      expect(t, n).toBeDefined();
      expect(DEFAULT_TOOLSETS).toContain(t!.toolset);
    }
    expect(DEFAULT_TOOLSETS.every((s) => SPEC_TOOLSETS.includes(s))).toBe(true);
  });

  it('is what --toolsets default lists, and default,<toolset> lists that toolset whole', () => {
    expect(names({ toolsets: ['default'] })).toEqual(tools.map((t) => t.name));
    const withBrowsers = names({ toolsets: ['default', 'browsers'] });
    expect(withBrowsers).toContain('browsers_computer_batch');
    expect(withBrowsers).toContain('browsers_update');
    // Exclusions of toolsets not named whole still apply.
    expect(withBrowsers).not.toContain('browsers_fs_watch_start');
  });
});

describe('--toolsets', () => {
  it('lists exactly the named toolsets, whole', () => {
    const got = selectTools(cfg({ toolsets: ['computer', 'replays'] })).tools;
    expect(new Set(got.map((t) => t.toolset))).toEqual(new Set(['computer', 'replays']));
    expect(got.map((t) => t.name)).toEqual(
      nonDeprecated.filter((t) => ['computer', 'replays'].includes(t.toolset)).map((t) => t.name),
    );
  });

  it('all lists every non-deprecated tool; with --include-deprecated every operation', () => {
    expect(names({ toolsets: ['all'] })).toEqual(nonDeprecated.map((t) => t.name));
    expect(names({ toolsets: ['all'], includeDeprecated: true })).toEqual(kernelTools.map((t) => t.name));
    expect(operationTools).toHaveLength(133);
    expect(kernelTools.map((t) => t.name)).toContain('browsers_page_snapshot');
  });

  it('every spec toolset is a valid name', () => {
    for (const s of SPEC_TOOLSETS) {
      expect(names({ toolsets: [s], includeDeprecated: true }).length, s).toBeGreaterThan(0);
    }
  });

  it('an unknown toolset is an error that lists the valid names and suggests the closest', () => {
    const msg = errorOf({ toolsets: ['browsers', 'computr'] });
    expect(msg).toContain('--toolsets (KERNEL_MCP_TOOLSETS): unknown toolset computr (did you mean computer?).');
    for (const s of [...SPEC_TOOLSETS, 'all', 'default']) expect(msg).toContain(s);
    // One line, and only the unknown name is reported as unknown.
    expect(msg).not.toContain('\n');
    expect(msg.split('. Valid toolsets:')[0]).not.toContain('browsers');
  });

  it('several unknown toolsets each carry their own suggestion', () => {
    const msg = errorOf({ toolsets: ['computr', 'zzzzzzzz', 'brwsers'] });
    expect(msg).toMatch(
      /^--toolsets \(KERNEL_MCP_TOOLSETS\): unknown toolsets computr \(did you mean computer\?\), zzzzzzzz, brwsers \(did you mean browsers\?\)\. Valid toolsets: all, default, /,
    );
  });

  it('proxy_pool_sessions without its service URL says what to set', () => {
    const msg = errorOf({ toolsets: ['proxy_pool_sessions'] });
    expect(msg).toMatch(/KERNEL_PROXY_POOL_URL|--proxy-pool-url/);
  });

  it('proxy_pool_sessions is a toolset when the service URL is set', () => {
    const config = cfg({ toolsets: ['proxy_pool_sessions'], proxyPoolUrl: 'http://127.0.0.1:9' });
    const got = selectTools(config, allTools(config)).tools;
    expect(got.length).toBeGreaterThan(0);
    expect(got.every((t) => t.toolset === 'proxy_pool_sessions')).toBe(true);
  });
});

describe('--tools and --exclude-tools', () => {
  it('--tools adds single tools to the toolsets, deprecated ones too', () => {
    const got = names({ toolsets: ['replays'], tools: ['browsers_create', 'legacy_projects_list'] });
    expect(got).toContain('browsers_create');
    expect(got).toContain('legacy_projects_list');
    expect(got).toContain('browsers_replays_start');
    expect(got).toHaveLength(nonDeprecated.filter((t) => t.toolset === 'replays').length + 2);
  });

  it('--tools brings back a tool the default set leaves out', () => {
    expect(names({})).not.toContain('browsers_computer_batch');
    expect(names({ tools: ['browsers_computer_batch'] })).toContain('browsers_computer_batch');
  });

  it('--exclude-tools drops tools, even ones named in --tools', () => {
    const got = names({ tools: ['browsers_curl'], excludeTools: ['browsers_delete', 'browsers_curl'] });
    expect(got).not.toContain('browsers_delete');
    expect(got).not.toContain('browsers_curl');
    expect(got).toContain('browsers_create');
  });

  it('an unknown tool name is an error that lists the valid names, by toolset', () => {
    const msg = errorOf({ tools: ['browsers_craete'] });
    expect(msg).toContain('--tools (KERNEL_MCP_TOOLS): unknown tool browsers_craete (did you mean browsers_create?).');
    for (const t of operationTools) expect(msg).toContain(t.name);
    expect(errorOf({ excludeTools: ['nope_tool'] })).toContain(
      '--exclude-tools (KERNEL_MCP_EXCLUDE_TOOLS): unknown tool nope_tool',
    );
  });
});

describe('--read-only', () => {
  it('lists only tools whose readOnlyHint is true, from the enabled toolsets', () => {
    const got = selectTools(cfg({ readOnly: true })).tools;
    expect(got.length).toBeGreaterThan(0);
    expect(got.every((t) => t.annotations.readOnlyHint)).toBe(true);
    expect(got.every((t) => DEFAULT_TOOLSETS.includes(t.toolset))).toBe(true);
    // The reviewed read-only POSTs are read-only tools too.
    expect(got.map((t) => t.name)).toContain('browsers_computer_capture_screenshot');
  });

  it('wins over --tools', () => {
    const got = names({ readOnly: true, tools: ['browsers_create', 'proxies_list'] });
    expect(got).not.toContain('browsers_create');
    expect(got).toContain('proxies_list');
  });

  it('over all toolsets lists every read-only operation', () => {
    const got = names({ readOnly: true, toolsets: ['all'] });
    expect(got).toEqual(nonDeprecated.filter((t) => t.annotations.readOnlyHint).map((t) => t.name));
  });
});

describe('--dynamic', () => {
  it('lists three meta-tools that reach every toolset by default', () => {
    const sel = selectTools(cfg({ dynamic: true }));
    expect(sel.dynamic).toBe(true);
    expect(sel.tools.map((t) => t.name)).toEqual([
      'kernel_search_operations',
      'kernel_describe_operation',
      'kernel_call_operation',
    ]);
    expect(sel.enabled.map((t) => t.name)).toEqual(nonDeprecated.map((t) => t.name));
  });

  it('reaches the same operations the flags would list directly', () => {
    const flags: Partial<Config> = {
      toolsets: ['computer'],
      readOnly: true,
      excludeTools: ['browsers_computer_read_clipboard'],
    };
    const direct = names(flags);
    expect(selectTools(cfg({ ...flags, dynamic: true })).enabled.map((t) => t.name)).toEqual(direct);
  });

  it('reaches all 133 operations (and the page snapshot) with --include-deprecated', () => {
    const enabled = selectTools(cfg({ dynamic: true, includeDeprecated: true })).enabled.map((t) => t.name);
    expect(enabled).toHaveLength(134);
    for (const t of operationTools) expect(enabled).toContain(t.name);
    expect(enabled).toContain('browsers_page_snapshot');
  });
});

describe('selectTools', () => {
  it('computes a selection once per configuration', () => {
    const a = selectTools(cfg({ toolsets: ['logs'] }));
    const b = selectTools(cfg({ toolsets: ['logs'] }));
    expect(b).toBe(a);
    expect(selectTools(cfg({ toolsets: ['logs'], readOnly: true }))).not.toBe(a);
  });

  it('keeps the generated table order (a deterministic tools/list)', () => {
    const order = new Map(operationTools.map((t, i) => [t.name, i]));
    const idx = names({ toolsets: ['all'] }).map((n) => order.get(n)!);
    expect(idx).toEqual([...idx].sort((x, y) => x - y));
  });

  it('suggests names only when they are close', () => {
    expect(closest('computr', ['computer', 'browsers'])).toBe('computer');
    expect(closest('zzzzzz', ['computer', 'browsers'])).toBeUndefined();
  });
});
