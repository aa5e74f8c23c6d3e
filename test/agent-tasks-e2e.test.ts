/**
 * The agent tasks of issue 14, scripted: the built CLI over stdio with the default toolsets against `--simulate`,
 * with a client of each era. Each task counts its calls and checks what the agent would read.
 */
import { getEncoding } from 'js-tiktoken';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStdio, ERAS, type McpSession, type ToolResult, text } from './helpers/mcp.js';

type Json = Record<string, unknown>;
const tokenizer = getEncoding('o200k_base');

/** A session that counts calls and the tokens of the text an agent reads (image bytes aside). */
function counted(mcp: McpSession) {
  const log = { calls: 0, tokens: 0 };
  const call = async (name: string, args: Json = {}): Promise<ToolResult> => {
    log.calls++;
    const r = await mcp.call(name, args);
    for (const c of r.content) {
      if (c.type === 'text' && c.text) log.tokens += tokenizer.encode(c.text).length;
      if (c.type === 'resource') log.tokens += tokenizer.encode(JSON.stringify(c.resource)).length;
    }
    return r;
  };
  return { log, call };
}

function ok(r: ToolResult): Json {
  expect(r.isError, text(r)).toBeFalsy();
  return r.structuredContent as Json;
}

async function imageSize(r: ToolResult): Promise<{ width: number; height: number }> {
  const block = r.content.find((c) => c.type === 'image');
  const meta = await sharp(Buffer.from(block!.data!, 'base64')).metadata();
  return { width: meta.width ?? 0, height: meta.height ?? 0 };
}

describe.each(ERAS)('agent tasks (%s client)', (era) => {
  let mcp: McpSession;
  let dyn: McpSession;
  beforeAll(async () => {
    [mcp, dyn] = await Promise.all([
      connectStdio(era, { args: ['--simulate'] }),
      connectStdio(era, { args: ['--simulate', '--dynamic'] }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([mcp?.close(), dyn?.close()]);
  });

  it('open example.com, read its title and a scaled screenshot, delete the browser: 4 calls, < 1,500 tokens', async () => {
    const { log, call } = counted(mcp);
    const id = ok(await call('browsers_create', { start_url: 'https://example.com' })).session_id as string;
    const page = await call('browsers_page_snapshot', { id });
    expect(ok(page)).toMatchObject({ url: 'https://example.com', title: 'Example Domain' });
    expect(text(page)).toContain('- heading "Example Domain" [level=1]');
    const shot = await call('browsers_computer_capture_screenshot', { id });
    const size = await imageSize(shot);
    expect(Math.max(size.width, size.height)).toBeLessThanOrEqual(1568);
    expect(ok(shot)).toMatchObject({ width: size.width, height: size.height });
    ok(await call('browsers_delete', { id }));
    expect(log.calls).toBeLessThanOrEqual(4);
    expect(log.tokens).toBeLessThan(1500);
  });

  it('run a 3-line shell script and get all of its output and its exit code: 2 calls, all text', async () => {
    const id = ok(await mcp.call('browsers_create', {})).session_id as string;
    const { log, call } = counted(mcp);
    const script = 'echo one\necho two >&2\necho three; exit 3';
    const spawned = ok(await call('browsers_process_spawn', { id, command: 'sh', args: ['-c', script] }));
    const page = ok(
      await call('browsers_process_stdout_stream', { id, process_id: spawned.process_id, until: 'end' }),
    ) as { events: { data: Json }[]; ended: boolean };
    expect(log.calls).toBe(2);
    const out = (s: string) =>
      page.events
        .filter((e) => e.data.stream === s)
        .map((e) => e.data.data)
        .join('');
    expect(out('stdout')).toBe('one\nthree\n');
    expect(out('stderr')).toBe('two\n');
    expect(page.events.at(-1)?.data).toEqual({ event: 'exit', exit_code: 3 });
    expect(page.ended).toBe(true);
    expect(JSON.stringify(page)).not.toContain('_b64');
  });

  it('find the console errors of a page: 1 call after creating the browser, only console errors', async () => {
    const id = ok(
      await mcp.call('browsers_create', { start_url: 'https://forms.example/signup', telemetry: { browser: {} } }),
    ).session_id as string;
    const { log, call } = counted(mcp);
    const page = ok(await call('browsers_telemetry_stream', { id, types: ['console_error'] })) as {
      events: { event: { type: string; data: { text: string } } }[];
    };
    expect(log.calls).toBeLessThanOrEqual(3);
    expect(page.events.length).toBeGreaterThan(0);
    for (const e of page.events) expect(e.event.type).toBe('console_error');
    expect(page.events.map((e) => e.event.data.text)).toContain(
      "Uncaught TypeError: Cannot read properties of undefined (reading 'init')",
    );
  });

  it('the first task in --dynamic mode: 6 calls or fewer', async () => {
    const { log, call } = counted(dyn);
    const found = ok(await call('kernel_search_operations', { query: 'get the page title' })) as {
      results: { name: string }[];
    };
    expect(found.results.slice(0, 3).map((r) => r.name)).toContain('browsers_page_snapshot');
    const run = (name: string, args: Json) => call('kernel_call_operation', { name, arguments: args });
    const id = ok(await run('browsers_create', { start_url: 'https://example.com' })).session_id as string;
    expect(ok(await run('browsers_page_snapshot', { id }))).toMatchObject({ title: 'Example Domain' });
    const shot = await run('browsers_computer_capture_screenshot', { id });
    expect(Math.max(...Object.values(await imageSize(shot)))).toBeLessThanOrEqual(1568);
    ok(await run('browsers_delete', { id }));
    expect(log.calls).toBeLessThanOrEqual(6);
  });
});
