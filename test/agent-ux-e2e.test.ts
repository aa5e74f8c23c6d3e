/**
 * Results shaped for agents, end to end: the built CLI over stdio with the default toolsets and `--simulate`,
 * driven by a client of each protocol era. Command output comes back as text with the exit status up front, file
 * writes take text, and stream reads wait for the end, linger for bursts, filter by type and say how to fix an
 * empty telemetry stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStdio, ERAS, type McpSession, type ToolResult, text } from './helpers/mcp.js';

type Json = Record<string, unknown>;

function ok(result: ToolResult): Json {
  expect(result.isError, text(result)).toBeFalsy();
  return result.structuredContent as Json;
}

interface Page {
  events: { seq: number; data?: Json; event?: Json }[];
  cursor?: string | null;
  ended: boolean;
  note?: string;
  skipped?: number;
}

describe.each(ERAS)('results shaped for agents (%s client)', (era) => {
  let mcp: McpSession;
  let calls = 0;
  const call = async (name: string, args: Json = {}) => {
    calls++;
    return mcp.call(name, args);
  };
  beforeAll(async () => {
    mcp = await connectStdio(era, { args: ['--simulate'] });
  });
  afterAll(async () => {
    await mcp?.close();
  });

  async function browser(args: Json = {}): Promise<string> {
    return ok(await call('browsers_create', args)).session_id as string;
  }

  it('exec answers decoded text with a failing exit visible first', async () => {
    const id = await browser();
    const good = ok(await call('browsers_process_exec', { id, command: 'sh', args: ['-c', 'echo one; echo two'] }));
    expect(good).toMatchObject({ status: 'ok', exit_code: 0, stdout: 'one\ntwo\n', stderr: '' });
    expect(good.stdout_b64).toBeUndefined();
    const bad = await call('browsers_process_exec', { id, command: 'sh', args: ['-c', 'echo before; cat /nope'] });
    const shaped = ok(bad);
    expect(shaped.exit_code).toBe(1);
    expect(shaped.status).toMatch(/^failed: exit code 1 \(cat: .*nope/);
    expect(shaped.stdout).toBe('before\n');
    // The text an agent reads starts with the status.
    expect(text(bad)).toMatch(/^\{"status":"failed: exit code 1/);
  });

  it('a 3-line script: spawn, then one stream read with until "end" has all output and the exit code', async () => {
    const id = await browser();
    calls = 0;
    const spawned = ok(
      await call('browsers_process_spawn', { id, command: 'sh', args: ['-c', 'echo alpha\necho beta\necho gamma'] }),
    );
    const page = ok(
      await call('browsers_process_stdout_stream', { id, process_id: spawned.process_id, until: 'end' }),
    ) as unknown as Page;
    expect(calls).toBe(2);
    const out = page.events
      .filter((e) => e.data?.stream === 'stdout')
      .map((e) => e.data?.data)
      .join('');
    expect(out).toBe('alpha\nbeta\ngamma\n');
    expect(page.events.at(-1)?.data).toEqual({ event: 'exit', exit_code: 0 });
    expect(page.ended).toBe(true);
    expect(JSON.stringify(page)).not.toContain('data_b64');
  });

  it('process output filters by stream; the exit event always comes', async () => {
    const id = await browser();
    const spawned = ok(
      await call('browsers_process_spawn', { id, command: 'sh', args: ['-c', 'echo visible; cat /missing; exit 4'] }),
    );
    const page = ok(
      await call('browsers_process_stdout_stream', {
        id,
        process_id: spawned.process_id,
        until: 'end',
        stream: 'stderr',
      }),
    ) as unknown as Page;
    const streams = page.events.map((e) => e.data?.stream ?? e.data?.event);
    expect(streams).toEqual([...streams.slice(0, -1).map(() => 'stderr'), 'exit']);
    expect(streams.length).toBeGreaterThan(1);
    expect(page.events.at(-1)?.data).toEqual({ event: 'exit', exit_code: 4 });
    expect(page.skipped).toBe(1);
    expect(JSON.stringify(page)).not.toContain('visible');
  });

  it('file writes take content_text, and exactly one content form', async () => {
    const id = await browser();
    ok(await call('browsers_fs_write_file', { id, path: '/tmp/note.txt', content_text: 'héllo\nworld\n' }));
    const read = await call('browsers_fs_read_file', { id, path: '/tmp/note.txt' });
    expect(read.isError).toBeFalsy();
    expect(JSON.stringify(read.content)).toContain('héllo\\nworld\\n');
    const both = await call('browsers_fs_write_file', {
      id,
      path: '/tmp/x.txt',
      content_text: 'a',
      content: Buffer.from('a').toString('base64'),
    });
    expect(both.isError).toBe(true);
    expect(text(both)).toMatch(/content.*content_text/);
    const none = await call('browsers_fs_write_file', { id, path: '/tmp/x.txt' });
    expect(none.isError).toBe(true);
    expect(text(none)).toContain('content_text');
  });

  it('file answers link to resources that resolve: browser files and API downloads', async () => {
    const id = await browser();
    ok(await call('browsers_fs_write_file', { id, path: '/tmp/a/note.txt', content_text: 'from a\n' }));
    ok(await call('browsers_fs_write_file', { id, path: '/tmp/b c/note.txt', content_text: 'from b\n' }));
    const uris: string[] = [];
    for (const path of ['/tmp/a/note.txt', '/tmp/b c/note.txt']) {
      const read = await call('browsers_fs_read_file', { id, path });
      const resource = read.content.find((c) => c.type === 'resource')?.resource as { uri: string; text: string };
      uris.push(resource.uri);
      const back = await mcp.client.readResource({ uri: resource.uri });
      expect(back.contents[0]).toMatchObject({ uri: resource.uri, text: resource.text });
    }
    expect(uris).toEqual([
      `kernel://browsers/${id}/files/tmp/a/note.txt`,
      `kernel://browsers/${id}/files/tmp/b%20c/note.txt`,
    ]);
    const zip = await call('browsers_fs_download_dir_zip', { id, path: '/tmp/a' });
    const link = zip.content.find((c) => c.type === 'resource')?.resource as { uri: string; blob: string };
    expect(link.uri).toBe(`kernel://api/browsers/${id}/fs/download_dir_zip?path=%2Ftmp%2Fa`);
    const again = (await mcp.client.readResource({ uri: link.uri })).contents[0] as { blob?: string };
    expect(
      Buffer.from(again.blob ?? '', 'base64')
        .subarray(0, 2)
        .toString(),
    ).toBe('PK');
    const templates = (await mcp.client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    expect(templates).toEqual(expect.arrayContaining(['kernel://browsers/{id}/files/{+path}', 'kernel://api/{+path}']));
    await expect(mcp.client.readResource({ uri: `kernel://browsers/${id}/files/tmp/none.txt` })).rejects.toThrow(/404/);
  });

  it('an empty telemetry stream says how to enable telemetry, and never answers a null cursor', async () => {
    const id = await browser();
    const page = ok(await call('browsers_telemetry_stream', { id, max_seconds: 0 })) as unknown as Page;
    expect(page.events).toEqual([]);
    expect(page.cursor).toBeUndefined();
    expect(page.note).toContain('Telemetry is not enabled for this browser');
    expect(page.note).toContain('browsers_update');
    expect(page.note).toContain('without `after`');
  });

  it('telemetry filters by type (or prefix), and skipped events still move the cursor', async () => {
    const id = await browser({
      start_url: 'https://example.com',
      telemetry: { browser: { console: { enabled: false } } },
    });
    const nav = ok(await call('browsers_telemetry_stream', { id, types: ['page_navigation'] })) as unknown as Page;
    expect(nav.events.length).toBeGreaterThan(0);
    for (const e of nav.events) expect(e.event?.type).toBe('page_navigation');
    const net = ok(
      await call('browsers_telemetry_stream', { id, types: ['network'], max_seconds: 1 }),
    ) as unknown as Page;
    expect(net.events.length).toBeGreaterThan(0);
    for (const e of net.events) expect(String(e.event?.type)).toMatch(/^network_/);
    expect(net.skipped).toBeGreaterThan(0);
    const rest = ok(
      await call('browsers_telemetry_stream', { id, after: net.cursor, types: ['network'], max_seconds: 0 }),
    ) as unknown as Page;
    expect(rest.events).toEqual([]);
    expect(rest.note).toContain('No new events of types network');
  });
});
