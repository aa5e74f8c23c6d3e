/**
 * Dynamic mode end to end: the built CLI over stdio against the simulator started here (so the test sees every
 * request that reaches the API), once with --dynamic and once listing the tools directly. Search finds a tool by a
 * word of its summary, describe answers the schema the direct tool publishes, and call validates before sending and
 * answers exactly as the direct tool, with the same request reaching the API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../simulator/index.js';
import { useSimulator } from './helpers/fixtures.js';
import { connectStdio, ERAS, type McpSession, type ToolResult, text } from './helpers/mcp.js';

const KEY = 'sk_dynamic_e2e_key_0123456789';

const sim = useSimulator({ apiKey: KEY });

/** What identifies a request: everything but its timing and per-connection headers. */
function shape(r: RecordedRequest) {
  const h = r.headers;
  return {
    method: r.method,
    path: r.path,
    query: r.query,
    bodyBytes: r.bodyBytes,
    contentType: h['content-type'],
    authorization: h.authorization,
  };
}

/** A result with the simulator's clock readings (a session's uptime) masked: they differ between any two calls. */
function masked(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/"uptime_ms":\d+/g, '"uptime_ms":0');
  if (Array.isArray(value)) return value.map(masked);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'uptime_ms' ? 0 : masked(v)]));
  }
  return value;
}

describe.each(ERAS)('--dynamic over stdio (%s client)', (era) => {
  let dynamic: McpSession;
  let direct: McpSession;
  let browser: string;

  beforeAll(async () => {
    const spawnEnv = { KERNEL_API_KEY: KEY, KERNEL_BASE_URL: sim.url };
    dynamic = await connectStdio(era, { args: ['--dynamic'], env: spawnEnv });
    direct = await connectStdio(era, { args: ['--toolsets', 'all'], env: spawnEnv });
    const created = await direct.call('browsers_create', { headless: true, viewport: { width: 640, height: 480 } });
    expect(created.isError, text(created)).toBeFalsy();
    browser = (created.structuredContent as { session_id: string }).session_id;
  });
  afterAll(async () => {
    await dynamic?.close();
    await direct?.close();
  });

  /** Calls the direct tool and the same operation through kernel_call_operation; returns both results and requests. */
  async function both(name: string, args: Record<string, unknown>) {
    sim.resetRequests();
    const a = await direct.call(name, args);
    const reqA = sim.requests.map(shape);
    sim.resetRequests();
    const b = await dynamic.call('kernel_call_operation', { name, arguments: args });
    const reqB = sim.requests.map(shape);
    return { a, b, reqA, reqB };
  }

  it('search finds a tool by a word from its summary, with its arguments', async () => {
    const res = await dynamic.call('kernel_search_operations', { query: 'clipboard' });
    expect(res.isError, text(res)).toBeFalsy();
    const body = res.structuredContent as { results: { name: string; args: string; description: string }[] };
    const names = body.results.map((r) => r.name);
    expect(names.slice(0, 2).sort()).toEqual(['browsers_computer_read_clipboard', 'browsers_computer_write_clipboard']);
    const write = body.results.find((r) => r.name === 'browsers_computer_write_clipboard')!;
    expect(write.args).toContain('id*');
    expect(write.args).toContain('text*');

    const shot = await dynamic.call('kernel_search_operations', { query: 'screenshot' });
    const first = (shot.structuredContent as { results: { name: string }[] }).results[0];
    expect(first?.name).toBe('browsers_computer_capture_screenshot');
  });

  it('reaches every operation the direct listing has, by name', async () => {
    const res = await dynamic.call('kernel_search_operations', {});
    const overview = res.structuredContent as { toolsets: { toolset: string; operations: number }[] };
    const listed = await direct.listTools();
    // Each toolset's name lists exactly its operations; together they are the direct listing, name for name.
    const reached: string[] = [];
    for (const { toolset, operations } of overview.toolsets) {
      const found = await dynamic.call('kernel_search_operations', { query: toolset, limit: 200 });
      expect(found.isError, text(found)).toBeFalsy();
      const body = found.structuredContent as { results: { name: string; toolset: string }[] };
      const names = body.results.filter((r) => r.toolset === toolset).map((r) => r.name);
      expect(names, toolset).toHaveLength(operations);
      reached.push(...names);
    }
    expect(reached.sort()).toEqual(listed.map((t) => t.name as string).sort());
    // And each one is callable by that name: describe answers the very schema its direct tool publishes.
    for (const tool of listed) {
      const described = await dynamic.call('kernel_describe_operation', { name: tool.name as string });
      expect(described.isError, `${tool.name}: ${text(described)}`).toBeFalsy();
      expect((described.structuredContent as { input_schema: unknown }).input_schema).toEqual(tool.inputSchema);
    }
  });

  it('describe returns the input schema the direct tool publishes', async () => {
    const listed = await direct.listTools();
    for (const name of ['browsers_computer_click_mouse', 'browsers_create', 'browsers_fs_write_file']) {
      const res = await dynamic.call('kernel_describe_operation', { name });
      expect(res.isError, text(res)).toBeFalsy();
      const body = res.structuredContent as { input_schema: unknown; annotations: unknown };
      const tool = listed.find((t) => t.name === name)!;
      expect(body.input_schema).toEqual(tool.inputSchema);
      expect(body.annotations).toEqual(tool.annotations);
    }
  });

  it('call rejects bad arguments naming the field, and sends nothing', async () => {
    sim.resetRequests();
    const cases: [string, Record<string, unknown>, string][] = [
      ['browsers_computer_click_mouse', { id: browser, x: 'ten', y: 1 }, 'x:'],
      ['browsers_computer_click_mouse', { id: browser, x: 1 }, 'y:'],
      ['browsers_list', { limit: 1000 }, 'limit:'],
      ['browsers_retrieve', { id: browser, bogus: true }, 'bogus'],
    ];
    for (const [name, args, field] of cases) {
      const res = await dynamic.call('kernel_call_operation', { name, arguments: args });
      expect(res.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      expect(text(res)).toContain(`Invalid arguments for ${name}`);
      expect(text(res)).toContain(field);
    }
    expect(sim.requests).toHaveLength(0);
  });

  it('call answers exactly as the direct tool, with the same request reaching the API', async () => {
    const checks: [string, Record<string, unknown>][] = [
      ['browsers_retrieve', { id: browser }],
      ['browsers_list', { limit: 1 }],
      ['browsers_computer_click_mouse', { id: browser, x: 10, y: 20, button: 'left' }],
      ['browsers_computer_capture_screenshot', { id: browser }],
      ['browsers_fs_write_file', { id: browser, path: '/tmp/dyn.txt', content: Buffer.from('hi').toString('base64') }],
      ['browsers_retrieve', { id: 'no-such-browser' }],
    ];
    for (const [name, args] of checks) {
      const { a, b, reqA, reqB } = await both(name, args);
      expect(reqA.length, name).toBeGreaterThan(0);
      expect(reqB, name).toEqual(reqA);
      expect(masked(b), name).toEqual(masked(a));
    }
  });

  it('a file written through call reads back through the direct tool', async () => {
    const content = `written by ${era} through kernel_call_operation`;
    const w = await dynamic.call('kernel_call_operation', {
      name: 'browsers_fs_write_file',
      arguments: { id: browser, path: `/tmp/${era}-dyn.txt`, content: Buffer.from(content).toString('base64') },
    });
    expect(w.isError, text(w)).toBeFalsy();
    const r: ToolResult = await direct.call('browsers_fs_read_file', { id: browser, path: `/tmp/${era}-dyn.txt` });
    const resource = r.content.find((c) => c.type === 'resource')?.resource as { text?: string } | undefined;
    expect(resource?.text ?? text(r)).toBe(content);
  });
});
