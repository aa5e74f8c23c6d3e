import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useSimulator } from './helpers/fixtures.js';
import { connectStdio, ERAS, type McpSession, runCli, text } from './helpers/mcp.js';

const KEY = 'sk_e2e_stdio_key_0123456789';

const sim = useSimulator({ apiKey: KEY });

/** Decodes a PNG enough to prove it is one: signature, IHDR size, and IDAT that inflates to the right length. */
function decodePng(buf: Buffer): { width: number; height: number } {
  expect(buf.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let pos = 8;
  let width = 0;
  let height = 0;
  let bpp = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.subarray(pos + 4, pos + 8).toString('ascii');
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const colorType = data[9];
      bpp = colorType === 6 ? 4 : colorType === 2 ? 3 : colorType === 0 ? 1 : 4;
    }
    if (type === 'IDAT') idat.push(data);
    if (type === 'IEND') break;
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  expect(raw.length).toBe(height * (width * bpp + 1));
  return { width, height };
}

describe('stdio without a key', () => {
  it('exits non-zero and says how to set KERNEL_API_KEY', () => {
    const res = runCli([]);
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain('KERNEL_API_KEY is not set');
    expect(res.stderr).toContain('--simulate');
    expect(res.stdout).toBe('');
  });
});

describe.each(ERAS)('stdio end to end (%s client)', (era) => {
  let mcp: McpSession;
  beforeAll(async () => {
    mcp = await connectStdio(era, {
      env: { KERNEL_API_KEY: KEY, KERNEL_BASE_URL: sim.url, KERNEL_MCP_TOOLSETS: 'all' },
    });
  });
  afterAll(async () => {
    await mcp?.close();
  });

  it('lists every non-deprecated operation with annotations and schemas', async () => {
    const tools = await mcp.listTools();
    const names = tools.map((t) => t.name as string);
    expect(names.length).toBeGreaterThanOrEqual(118);
    expect(names).toContain('browsers_create');
    expect(names).toContain('browsers_computer_click_mouse');
    expect(names).not.toContain('legacy_projects_list');
    const shot = tools.find((t) => t.name === 'browsers_computer_capture_screenshot')!;
    expect(shot.annotations).toMatchObject({ readOnlyHint: true });
    const del = tools.find((t) => t.name === 'browsers_delete')!;
    expect(del.annotations).toMatchObject({ destructiveHint: true, idempotentHint: true });
    expect((shot.inputSchema as { properties: object }).properties).toHaveProperty('region');
  });

  it('calls a JSON tool, pages a list, screenshots a PNG and uploads a file', async () => {
    const created = await mcp.call('browsers_create', { headless: true, viewport: { width: 800, height: 600 } });
    expect(created.isError).toBeFalsy();
    const browser = created.structuredContent as { session_id: string };
    expect(browser.session_id).toBeTruthy();
    expect(JSON.parse(text(created))).toMatchObject({ session_id: browser.session_id });

    await mcp.call('browsers_create', { headless: true });
    await mcp.call('browsers_create', { headless: true });
    const page1 = await mcp.call('browsers_list', { limit: 2 });
    const p1 = page1.structuredContent as { items: { session_id: string }[]; has_more: boolean; next_offset: number };
    expect(p1.items).toHaveLength(2);
    expect(p1.has_more).toBe(true);
    expect(p1.next_offset).toBe(2);
    const page2 = await mcp.call('browsers_list', { limit: 2, offset: p1.next_offset });
    const p2 = page2.structuredContent as { items: { session_id: string }[] };
    expect(p2.items.length).toBeGreaterThanOrEqual(1);
    expect(p2.items.map((b) => b.session_id)).not.toContain(p1.items[0]!.session_id);

    // PNG on request (JPEG is the default); 800x600 is within the max edge, so not scaled.
    const shot = await mcp.call('browsers_computer_capture_screenshot', { id: browser.session_id, format: 'png' });
    expect(shot.isError).toBeFalsy();
    const image = shot.content.find((c) => c.type === 'image')!;
    expect(image.mimeType).toBe('image/png');
    expect(decodePng(Buffer.from(image.data!, 'base64'))).toEqual({ width: 800, height: 600 });

    const content = Buffer.from(`hello from ${era}\n`).toString('base64');
    const upload = await mcp.call('browsers_fs_upload', {
      id: browser.session_id,
      files: [{ file: content, dest_path: `/tmp/${era}.txt` }],
    });
    expect(upload.isError, text(upload)).toBeFalsy();
    const read = await mcp.call('browsers_fs_read_file', { id: browser.session_id, path: `/tmp/${era}.txt` });
    expect(read.isError, text(read)).toBeFalsy();
    const resource = read.content.find((c) => c.type === 'resource')!.resource as { text: string };
    expect(resource.text).toBe(`hello from ${era}\n`);

    const written = await mcp.call('browsers_fs_write_file', {
      id: browser.session_id,
      path: '/tmp/bin.dat',
      content: Buffer.from([0, 1, 2, 255]).toString('base64'),
    });
    expect(written.isError, text(written)).toBeFalsy();
    const bin = await mcp.call('browsers_fs_read_file', { id: browser.session_id, path: '/tmp/bin.dat' });
    const blob = bin.content.find((c) => c.type === 'resource')!.resource as { blob: string };
    expect(Buffer.from(blob.blob, 'base64')).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it('turns an API error into an isError result naming status, code and request', async () => {
    const res = await mcp.call('browsers_retrieve', { id: 'no-such-browser' });
    expect(res.isError).toBe(true);
    expect(text(res)).toMatch(/^Kernel API 404 \w+: .+\(GET \/browsers\/no-such-browser\)/);
  });

  it('rejects invalid arguments with the field and sends no request', async () => {
    sim.resetRequests();
    const cases: [string, Record<string, unknown>, RegExp][] = [
      // The field as a word of its own (a bare /x/ would match "expected" in any message), then why it failed.
      ['browsers_computer_click_mouse', { id: 'b', x: 'left', y: 1 }, /\bx\b.*\bnumber\b/],
      ['browsers_computer_click_mouse', { id: 'b', y: 1 }, /\bx\b/],
      ['browsers_list', { limit: 1000 }, /\blimit\b.*\b100\b/],
      ['browsers_list', { status: 'sleeping' }, /\bstatus\b.*\bactive\b/],
      ['browsers_retrieve', { id: 'b', unknown_field: 1 }, /\bunknown_field\b/],
      ['browsers_fs_write_file', { id: 'b', path: '/x', content: '%%%not base64%%%' }, /\bcontent\b.*base64/],
      ['browsers_fs_write_file', { id: 'b', path: 'relative/path', content: 'aGk=' }, /\bpath\b/],
    ];
    for (const [tool, args, field] of cases) {
      const res = await mcp.call(tool, args);
      expect(res.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(text(res)).toMatch(field);
      // Only the named field is blamed: a valid neighbour is not.
      if (tool === 'browsers_computer_click_mouse') expect(text(res)).not.toMatch(/\by\b/);
    }
    expect(sim.requests).toHaveLength(0);
  });

  it('answers an unknown tool with a protocol error and stays up', async () => {
    await expect(mcp.call('no_such_tool', {})).rejects.toThrow();
    const res = await mcp.call('browsers_list', { limit: 1 });
    expect(res.isError).toBeFalsy();
  });

  it('keeps the API key out of stderr', () => {
    expect(mcp.stderr()).not.toContain(KEY);
    expect(mcp.stderr()).toContain('serving');
  });
});
