/** Result shaping: lists, caps with notes, binary routing (image, embedded text/blob, file + link). */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { binaryResult, jsonResult, listResult, STRUCTURED_MAX_CHARS } from '../src/tools/results.js';

const textOf = (r: { content: { type: string; text?: string }[] }) =>
  r.content.find((c) => c.type === 'text')?.text ?? '';

describe('results', () => {
  it('wraps a list page', () => {
    const r = listResult({ items: [{ a: 1 }], hasMore: true, nextOffset: 1, offset: 0 }, 10_000);
    expect(r.structuredContent).toEqual({ items: [{ a: 1 }], has_more: true, next_offset: 1 });
    expect(JSON.parse(textOf(r))).toEqual(r.structuredContent);
  });

  it('cuts a long list by whole items and points at the next offset', () => {
    const items = Array.from({ length: 100 }, (_, i) => ({ id: i, pad: 'x'.repeat(100) }));
    const r = listResult({ items, hasMore: false, nextOffset: null, offset: 40 }, 3000);
    const s = r.structuredContent as { items: { id: number }[]; has_more: boolean; next_offset: number; note: string };
    expect(s.items.length).toBeGreaterThan(5);
    expect(s.items.length).toBeLessThan(100);
    expect(s.has_more).toBe(true);
    expect(s.next_offset).toBe(40 + s.items.length);
    expect(s.note).toContain(`offset=${s.next_offset}`);
    expect(textOf(r).length).toBeLessThanOrEqual(3000);
  });

  it('cuts a long JSON answer with a note', () => {
    const r = jsonResult({ big: 'y'.repeat(10_000) }, 2000);
    expect(textOf(r).length).toBeLessThanOrEqual(2000);
    expect(textOf(r)).toContain('[cut:');
    expect(r.structuredContent).toBeUndefined();
  });

  it('sends structuredContent up to STRUCTURED_MAX_CHARS of JSON, and the whole JSON as text alone past it', () => {
    const pad = (n: number) => ({ big: 'y'.repeat(n - '{"big":""}'.length) });
    const at = jsonResult(pad(STRUCTURED_MAX_CHARS), 10 * STRUCTURED_MAX_CHARS);
    expect(textOf(at).length).toBe(STRUCTURED_MAX_CHARS);
    expect(at.structuredContent).toEqual(pad(STRUCTURED_MAX_CHARS));
    const over = jsonResult(pad(STRUCTURED_MAX_CHARS + 1), 10 * STRUCTURED_MAX_CHARS);
    expect(over.structuredContent).toBeUndefined();
    expect(JSON.parse(textOf(over))).toEqual(pad(STRUCTURED_MAX_CHARS + 1));
    const page = listResult(
      { items: [pad(STRUCTURED_MAX_CHARS)], hasMore: false, nextOffset: null, offset: 0 },
      10 * STRUCTURED_MAX_CHARS,
    );
    expect(page.structuredContent).toBeUndefined();
    expect(JSON.parse(textOf(page)).items).toHaveLength(1);
  });

  it('returns images as image content', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000002000000030806000000', 'hex');
    const r = await binaryResult(png, {
      mediaType: 'image/png',
      name: 's',
      inlineBytes: 100,
      maxChars: 1000,
      outputDir: undefined,
    });
    expect(r.content[0]).toMatchObject({ type: 'image', mimeType: 'image/png' });
    expect(r.structuredContent).toMatchObject({ width: 2, height: 3 });
  });

  it('embeds small text and small binary, and writes large binary to the output folder', async () => {
    const base = { name: 'f.bin', inlineBytes: 16, maxChars: 1000 };
    const t = await binaryResult(Buffer.from('hello'), {
      ...base,
      mediaType: 'application/octet-stream',
      outputDir: undefined,
    });
    expect(t.content[0]).toMatchObject({ type: 'resource', resource: { text: 'hello', mimeType: 'text/plain' } });
    const b = await binaryResult(Buffer.from([0, 1, 2]), {
      ...base,
      mediaType: 'application/zip',
      outputDir: undefined,
    });
    expect(b.content[0]).toMatchObject({ type: 'resource', resource: { blob: 'AAEC', mimeType: 'application/zip' } });
    const dir = join(tmpdir(), `kernel-mcp-results-${process.pid}`);
    const big = Buffer.alloc(64, 0);
    const f = await binaryResult(big, { ...base, mediaType: 'video/mp4', outputDir: dir });
    const link = f.content[0] as { type: string; uri: string };
    expect(link.type).toBe('resource_link');
    const file = fileURLToPath(link.uri);
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file)).toEqual(big);
    rmSync(dir, { recursive: true, force: true });
  });
});
