/**
 * Code mode end to end: the built CLI over stdio with --code-mode, against a simulator started here (so the test sees
 * every request that reaches the API). The listing is small and reaches every enabled operation; a whole browser job
 * is one kernel_execute call; the browser is deleted even when the code throws midway; operations run from code send
 * exactly the requests the direct tools send; and the sandbox contains hostile code with the server still up.
 */
import { getEncoding } from 'js-tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest, Simulator } from '../simulator/index.js';
import { startSimulator } from '../simulator/index.js';
import { connectStdio, ERAS, type McpSession, type ToolResult, text } from './helpers/mcp.js';
import { waitFor } from './helpers/simulator-client.js';

const KEY = 'sk_code_mode_e2e_key_0123456789';
const tokens = getEncoding('cl100k_base');

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY });
});
afterAll(async () => {
  await sim?.close();
});

const env = () => ({ KERNEL_API_KEY: KEY, KERNEL_BASE_URL: sim.url });

async function exec(mcp: McpSession, code: string, extra: Record<string, unknown> = {}): Promise<ToolResult> {
  return mcp.call('kernel_execute', { code, ...extra }, { timeout: 60_000 });
}
const value = (r: ToolResult) => (r.structuredContent as { result: unknown }).result;

/** The model-visible text of a result (text blocks), in tokens. */
const visibleTokens = (r: ToolResult) =>
  tokens.encode(
    r.content
      .filter((c) => c.type === 'text')
      .map((c) => c.text)
      .join('\n'),
  ).length;

async function liveBrowsers(): Promise<string[]> {
  const res = await fetch(`${sim.url}/browsers`, { headers: { authorization: `Bearer ${KEY}` } });
  return ((await res.json()) as { session_id: string }[]).map((b) => b.session_id);
}

describe.each(ERAS)('--code-mode over stdio (%s client)', (era) => {
  let mcp: McpSession;
  beforeAll(async () => {
    mcp = await connectStdio(era, { args: ['--code-mode'], env: env() });
  });
  afterAll(async () => {
    await mcp?.close();
  });

  it('lists three tools in under 2.5 KB, annotated as strongly as the operations they reach', async () => {
    const tools = await mcp.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'kernel_describe_operation',
      'kernel_execute',
      'kernel_search_operations',
    ]);
    expect(Buffer.byteLength(JSON.stringify(tools))).toBeLessThanOrEqual(2500);
    const execute = tools.find((t) => t.name === 'kernel_execute') as { annotations?: Record<string, unknown> };
    expect(execute.annotations?.destructiveHint).toBe(true);
    expect(execute.annotations?.readOnlyHint).toBeFalsy();
  });

  it('reaches every enabled operation from the sandbox, each with a signature', async () => {
    const walked = await exec(
      mcp,
      `const out = [];
       const walk = (o, p) => { for (const [k, v] of Object.entries(o)) {
         if (typeof v === 'function') out.push(p + k); else walk(v, p + k + '.'); } };
       walk(kernel, '');
       return out;`,
    );
    expect(walked.isError, text(walked)).toBeFalsy();
    const paths = (value(walked) as string[]).filter((p) => !['show', 'text', 'sleep'].includes(p));
    const direct = await connectStdio(era, { args: ['--toolsets', 'all'], env: env() });
    const listed = (await direct.listTools()).map((t) => t.name as string);
    await direct.close();
    expect(paths.length).toBe(listed.length);
    expect(paths.length).toBeGreaterThanOrEqual(118);
    expect(new Set(paths).size).toBe(paths.length);
    const described = await mcp.call('kernel_describe_operation', { name: 'browsers_computer_click_mouse' });
    const signature = (described.structuredContent as { signature: string }).signature;
    expect(signature).toContain('kernel.browsers.computer.clickMouse(args: {');
    expect(signature).toMatch(/x: number;/);
    expect(paths).toContain('browsers.computer.clickMouse');
    const found = await mcp.call('kernel_search_operations', { query: 'screenshot' });
    expect(text(found)).toContain('kernel.browsers.computer.captureScreenshot({ id');
  });

  it('opens a page, reads it, takes a screenshot and deletes the browser in one call', async () => {
    const before = sim.requests.length;
    const r = await exec(
      mcp,
      `const b = await kernel.browsers.create({ headless: true, start_url: 'https://example.com' });
       try {
         const page = await kernel.browsers.playwright.execute({ id: b.session_id,
           code: "await page.goto('https://example.com'); return await page.title();" });
         const shot = kernel.show(await kernel.browsers.computer.captureScreenshot({ id: b.session_id }));
         return { id: b.session_id, title: page.result, png: shot.mediaType, bytes: shot.length };
       } finally {
         await kernel.browsers.delete({ id: b.session_id });
       }`,
    );
    expect(r.isError, text(r)).toBeFalsy();
    const out = value(r) as { id: string; title: string; png: string; bytes: number };
    // Screenshots are JPEG by default (scaled to the max edge).
    expect(out).toMatchObject({ title: 'Example Domain', png: 'image/jpeg' });
    expect(out.bytes).toBeGreaterThan(100);
    expect(r.content.some((c) => c.type === 'image' && c.mimeType === 'image/jpeg')).toBe(true);
    const paths = sim.requests.slice(before).map((q) => `${q.method} ${q.path.replace(out.id, ':id')}`);
    expect(paths).toEqual([
      'POST /browsers',
      'POST /browsers/:id/playwright/execute',
      'POST /browsers/:id/computer/screenshot',
      'DELETE /browsers/:id',
    ]);
    expect(await liveBrowsers()).not.toContain(out.id);
  });

  it('deletes the browser in finally when the code throws midway, and says which line threw', async () => {
    const r = await exec(
      mcp,
      `const b = await kernel.browsers.create({ headless: true });
       globalThis.made = b.session_id;
       try {
         await kernel.browsers.fs.readFile({ id: b.session_id, path: '/no/such/file' });
         return 'unreachable';
       } finally {
         console.log('cleaning up ' + b.session_id);
         await kernel.browsers.delete({ id: b.session_id });
       }`,
    );
    expect(r.isError).toBe(true);
    const message = text(r);
    expect(message).toMatch(/Code failed \(line 4 of your code\): .*Kernel API 404/);
    expect(message).toMatch(
      /Operations run \(3\): browsers\.create, browsers\.fs\.readFile \(failed\), browsers\.delete/,
    );
    const id = /cleaning up (\S+)/.exec(message)?.[1] as string;
    expect(id).toBeTruthy();
    expect(await liveBrowsers()).not.toContain(id);
  });

  it('runs a three-page job in one call with little model-visible text', async () => {
    const r = await exec(
      mcp,
      `const b = await kernel.browsers.create({ headless: true });
       const titles = [];
       try {
         for (const url of ['https://example.com', 'https://example.org', 'https://example.net']) {
           const res = await kernel.browsers.playwright.execute({ id: b.session_id,
             code: "await page.goto('" + url + "'); return await page.title();" });
           titles.push({ url, title: res.result });
         }
       } finally { await kernel.browsers.delete({ id: b.session_id }); }
       return titles;`,
    );
    expect(r.isError, text(r)).toBeFalsy();
    expect(value(r)).toEqual([
      { url: 'https://example.com', title: 'Example Domain' },
      { url: 'https://example.org', title: 'Example Domain' },
      { url: 'https://example.net', title: 'Example Domain' },
    ]);
    expect(visibleTokens(r)).toBeLessThan(1000);
  });

  it('rejects bad arguments inside the sandbox before any request, naming the field', async () => {
    const before = sim.requests.length;
    const r = await exec(mcp, `return await kernel.browsers.computer.clickMouse({ id: 'x', x: 'left' });`);
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/invalid arguments for kernel\.browsers\.computer\.clickMouse.*x/);
    expect(text(r)).toMatch(/Nothing was sent/);
    expect(sim.requests.length).toBe(before);
  });
});

describe('code mode sends what the direct tools send', () => {
  const shape = (r: RecordedRequest) => ({ method: r.method, path: r.path, query: r.query, bodyBytes: r.bodyBytes });

  it('the same operations as direct calls and as code reach the API as the same requests', async () => {
    const code = await connectStdio('modern', { args: ['--code-mode'], env: env() });
    const direct = await connectStdio('modern', { args: ['--toolsets', 'all'], env: env() });
    try {
      const created = await direct.call('browsers_create', { headless: true });
      const id = (created.structuredContent as { session_id: string }).session_id;
      const steps: [string, string, Record<string, unknown>][] = [
        ['browsers_retrieve', 'browsers.retrieve', { id }],
        ['browsers_computer_click_mouse', 'browsers.computer.clickMouse', { id, x: 10, y: 20 }],
        ['browsers_fs_write_file', 'browsers.fs.writeFile', { id, path: '/tmp/a b.txt', content: 'aGk=' }],
        ['browsers_fs_list_files', 'browsers.fs.listFiles', { id, path: '/tmp' }],
        ['browsers_process_exec', 'browsers.process.exec', { id, command: 'echo', args: ['hi'] }],
        ['profiles_list', 'profiles.list', { limit: 5 }],
      ];
      let mark = sim.requests.length;
      for (const [tool, , args] of steps) {
        const res = await direct.call(tool, args);
        expect(res.isError, `${tool}: ${text(res)}`).toBeFalsy();
      }
      const viaTools = sim.requests.slice(mark).map(shape);
      mark = sim.requests.length;
      const program = steps.map(([, path, args]) => `await kernel.${path}(${JSON.stringify(args)});`).join('\n');
      const res = await exec(code, `${program}\nreturn 'ok';`);
      expect(res.isError, text(res)).toBeFalsy();
      const viaCode = sim.requests.slice(mark).map(shape);
      expect(viaCode).toEqual(viaTools);
      await direct.call('browsers_delete', { id });
    } finally {
      await code.close();
      await direct.close();
    }
  });

  it('under --read-only the sandbox has only read operations and the tool is read-only', async () => {
    const ro = await connectStdio('modern', { args: ['--code-mode', '--read-only'], env: env() });
    try {
      const tool = (await ro.listTools()).find((t) => t.name === 'kernel_execute') as {
        annotations?: Record<string, unknown>;
      };
      expect(tool.annotations?.readOnlyHint).toBe(true);
      const r = await exec(ro, 'return [typeof kernel.browsers.create, typeof kernel.browsers.list];');
      expect(value(r)).toEqual(['undefined', 'function']);
    } finally {
      await ro.close();
    }
  });
});

describe('hostile code is contained and the server stays up', () => {
  let mcp: McpSession;
  beforeAll(async () => {
    mcp = await connectStdio('modern', { args: ['--code-mode'], env: env() });
  });
  afterAll(async () => {
    await mcp?.close();
  });

  const cases: [string, string, RegExp, Record<string, unknown>?][] = [
    ['process', 'return process.env;', /'process' is not defined/],
    ['require', "return require('fs');", /'require' is not defined/],
    ['import()', "return await import('node:child_process');", /Code failed/],
    ['host globals', 'return [typeof globalThis.process, typeof globalThis.Buffer, typeof fetch];', /^$/],
    ['Function constructor', "return Function('return this')().process;", /^$/],
    ['infinite loop', 'for (;;) {}', /time limit.*\[limit: timeout\]/s, { timeout_seconds: 1 }],
    ['memory bomb', 'const a = []; for (;;) a.push(new Array(1e5).fill(1.5));', /out of memory.*\[limit: memory\]/s],
    ['deep recursion', 'const f = (n) => f(n + 1) + 1; return f(0);', /stack overflow/],
    ['never-resolving promise', 'await new Promise(() => {});', /\[limit: timeout\]/, { timeout_seconds: 1 }],
    ['operation flood', 'for (;;) await kernel.profiles.list({});', /more than 200 operations.*\[limit: operations\]/s],
    ['huge return value', "return 'x'.repeat(5e6);", /cut: this answer is/],
  ];
  it.each(cases)('%s', async (_, code, pattern, extra) => {
    const r = await exec(mcp, code, extra);
    const message = text(r);
    if (pattern.source === '^$') {
      expect(r.isError, message).toBeFalsy();
      expect(JSON.stringify(value(r))).not.toMatch(/function|object Object/);
    } else expect(message).toMatch(pattern);
    const alive = await exec(mcp, 'return 40 + 2;');
    expect(value(alive)).toBe(42);
  });

  it('prototype pollution through a returned value does not reach the host', async () => {
    const r = await exec(mcp, `return JSON.parse('{"__proto__": {"isAdmin": true}, "ok": 1}');`);
    expect(r.isError, text(r)).toBeFalsy();
    const followUp = await mcp.call('kernel_search_operations', { query: 'browser' });
    expect(followUp.isError).toBeFalsy();
  });

  it('is cancelled mid-run', async () => {
    const ac = new AbortController();
    const lists = () => sim.requests.filter((r) => r.method === 'GET' && r.path === '/browsers').length;
    const before = lists();
    const pending = mcp.call(
      'kernel_execute',
      { code: 'await kernel.browsers.list({}); await kernel.sleep(20000); return 1;' },
      { signal: ac.signal },
    );
    // Cancelled once the code is running (its first call reached the API).
    await waitFor(() => lists() > before);
    ac.abort();
    await expect(pending).rejects.toThrow();
    const alive = await exec(mcp, 'return 1;');
    expect(value(alive)).toBe(1);
  });
});
