/**
 * Result shaping at its edges (src/tools/results.ts): caps exactly at and one past their bounds, the notes an agent
 * acts on, secrets redacted in text, structured content and bytes, and how bytes are routed (image, embedded text or
 * blob, file, refusal). From the surviving mutants of results.ts.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { addSecret, removeSecret } from '../src/redact.js';
import {
  binaryResult,
  charsForTokens,
  emptyResult,
  errorResult,
  eventsResult,
  fileResult,
  HARD_INLINE_MAX,
  IMAGE_INLINE_MAX,
  jsonResult,
  listResult,
  outputFile,
  STRUCTURED_MAX_CHARS,
  textResult,
} from '../src/tools/results.js';

const textOf = (r: { content: unknown[] }) =>
  ((r.content as { type: string; text?: string }[]).find((c) => c.type === 'text')?.text ?? '') as string;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir() {
  const d = mkdtempSync(join(tmpdir(), 'results-edges-'));
  dirs.push(d);
  return d;
}
/** A JSON object whose text is exactly `n` characters. */
const sized = (n: number) => ({ v: 'x'.repeat(n - '{"v":""}'.length) });

describe('caps', () => {
  it('a token is four characters; the structured-content bound is the default cap', () => {
    expect(charsForTokens(1000)).toBe(4000);
    expect(STRUCTURED_MAX_CHARS).toBe(80_000);
  });

  it('JSON exactly at the cap is whole; one character over is cut to the cap with a note naming both sizes', () => {
    const at = jsonResult(sized(1000), 1000);
    expect(textOf(at)).toBe(JSON.stringify(sized(1000)));
    expect(at.structuredContent).toEqual(sized(1000));
    const over = jsonResult(sized(1001), 1000);
    const text = textOf(over);
    expect(text.length).toBe(1000);
    expect(
      text.endsWith(
        '\n[cut: this answer is 1001 characters, over the 1000-character cap (--max-result-tokens). Narrow the request (filters, a smaller limit, a narrower path) to see the rest.]',
      ),
    ).toBe(true);
    expect(text.startsWith('{"v":"xxx')).toBe(true);
    expect(over.structuredContent).toBeUndefined();
  });

  it('a cap smaller than the note still answers the note', () => {
    const r = jsonResult(sized(500), 10);
    expect(textOf(r).startsWith('\n[cut: this answer is 500 characters, over the 10-character cap')).toBe(true);
  });

  it('values that are not objects are wrapped as {result}', () => {
    expect(jsonResult([1, 2], 1000).structuredContent).toEqual({ result: [1, 2] });
    expect(jsonResult('text', 1000).structuredContent).toEqual({ result: 'text' });
    expect(jsonResult(null, 1000).structuredContent).toEqual({ result: null });
    expect(textOf(jsonResult(7, 1000))).toBe('{"result":7}');
  });
});

describe('lists', () => {
  const item = (i: number) => ({ id: `i${i}`, pad: 'p'.repeat(88) });

  it('a page exactly at the cap is whole, with its own has_more and next_offset', () => {
    const page = { items: [item(0)], hasMore: true, nextOffset: 9, offset: 8 };
    const text = JSON.stringify({ items: page.items, has_more: true, next_offset: 9 });
    const r = listResult(page, text.length);
    expect(r.structuredContent).toEqual({ items: [item(0)], has_more: true, next_offset: 9 });
    expect(textOf(r)).toBe(text);
  });

  it('a cut page keeps the items that fit in the cap less 300 characters, and says how to continue', () => {
    const items = Array.from({ length: 30 }, (_, i) => item(i));
    // 60 characters of frame, then each item with its comma, within the cap less 300.
    const each = JSON.stringify(item(0)).length + 1;
    for (const [cap, kept] of [
      [360 + 9 * each, 9],
      [360 + 9 * each - 1, 8],
    ] as const) {
      const r = listResult({ items, hasMore: false, nextOffset: null, offset: 5 }, cap);
      const body = r.structuredContent as { items: unknown[]; has_more: boolean; next_offset: number; note: string };
      expect(body.items).toEqual(items.slice(0, kept));
      expect(body.has_more).toBe(true);
      expect(body.next_offset).toBe(5 + kept);
      expect(body.note).toBe(
        `Showing ${kept} of 30 items on this page: the answer was cut at the result cap. Call again with offset=${5 + kept} (and a smaller limit) for the rest.`,
      );
      expect(JSON.parse(textOf(r))).toEqual(body);
    }
  });

  it('one item over the cap is shown cut, and the next page starts after it', () => {
    const big = { id: 'big', pad: 'b'.repeat(5000) };
    const r = listResult({ items: [big, item(1)], hasMore: true, nextOffset: 2, offset: 12 }, 1000);
    const text = textOf(r);
    expect(text.length).toBe(1000);
    expect(text.startsWith('{"id":"big","pad":"bbb')).toBe(true);
    expect(
      text.endsWith(
        '\n[cut: the item at offset 12 alone is over the 1000-character cap (--max-result-tokens). Fetch it with its retrieve tool or narrow the request; the next page starts at offset=13.]',
      ),
    ).toBe(true);
    expect(r.structuredContent).toBeUndefined();
  });

  it('an empty page over a tiny cap is still a page', () => {
    const r = listResult({ items: [], hasMore: true, nextOffset: 40, offset: 40 }, 10);
    expect(r.structuredContent).toMatchObject({ items: [], has_more: true, next_offset: 40 });
  });
});

describe('event batches', () => {
  const ev = (seq: number) => ({ seq, data: 'd'.repeat(90) });

  it('a batch exactly at the cap is whole; an ended one carries the end note after its own', () => {
    const page = { events: [ev(1)], cursor: '1', ended: false };
    const r = eventsResult(page, JSON.stringify(page).length);
    expect(r.structuredContent).toEqual(page);
    const ended = eventsResult(
      { events: [ev(1)], cursor: '1', ended: true, note: 'Earlier events were dropped.' },
      10_000,
    );
    expect((ended.structuredContent as { note: string }).note).toBe(
      'Earlier events were dropped. The stream has ended: no more events will come.',
    );
    const empty = eventsResult({ events: [], cursor: null, ended: true, note: '' }, 10_000);
    expect((empty.structuredContent as { note: string }).note).toBe('The stream has ended: no more events will come.');
  });

  it('a cut batch keeps the events that fit the cap less 400 and the frame', () => {
    const events = Array.from({ length: 30 }, (_, i) => ev(i + 1));
    const frame = JSON.stringify({ cursor: '30', ended: false, events: [] }).length;
    const each = JSON.stringify(ev(1)).length + 1;
    for (const kept of [5, 6]) {
      const cap = 400 + frame + kept * each;
      const r = eventsResult({ events, cursor: '30', ended: false }, cap);
      const body = r.structuredContent as { events: { seq: number }[]; cursor: string; ended: boolean; note: string };
      expect(body.events.map((e) => e.seq)).toEqual(events.slice(0, kept).map((e) => e.seq));
      expect(body.cursor).toBe(String(kept));
      expect(body.note).toBe(
        `Showing ${kept} of 30 events: the answer was cut at the result cap (--max-result-tokens). Call again with after=${kept} (and a smaller max_events) for the rest.`,
      );
      const less = eventsResult({ events, cursor: '30', ended: false }, cap - 1);
      expect((less.structuredContent as { events: unknown[] }).events.length).toBe(kept - 1);
    }
  });

  it('one event over the cap: its content as cut JSON text within the budget, the cursor past it', () => {
    const huge = { seq: 9, data: { text: 'h'.repeat(20_000) } };
    const r = eventsResult({ events: [huge, ev(10)], cursor: '10', ended: true, dropped: 3 }, 2000);
    const body = r.structuredContent as {
      events: { seq: number; truncated: boolean; data: string }[];
      cursor: string;
      ended: boolean;
      dropped: number;
      note: string;
    };
    const budget = 2000 - 400 - JSON.stringify({ cursor: '10', ended: true, dropped: 3, events: [] }).length;
    expect(body.events).toEqual([
      { seq: 9, truncated: true, data: JSON.stringify({ data: huge.data }).slice(0, budget - 200) },
    ]);
    expect(body).toMatchObject({ cursor: '9', ended: false, dropped: 3 });
    expect(body.note).toBe(
      'Event 9 alone is over the result cap (--max-result-tokens); its content is cut JSON text. Call again with after=9 for the next events.',
    );
    expect(textOf(r).length).toBeLessThanOrEqual(2000);
  });
});

describe('text, errors and empty answers', () => {
  it('redacts secrets in the text and in the structured value (deep), and leaves clean values as they are', () => {
    const secret = 'results-edge-secret-0a1b2c';
    addSecret(secret, { pin: true });
    try {
      const value = { a: { b: [`x ${secret}`] }, n: 1 };
      const r = textResult(JSON.stringify(value), value);
      expect(textOf(r)).toBe('{"a":{"b":["x [redacted]"]},"n":1}');
      expect(r.structuredContent).toEqual({ a: { b: ['x [redacted]'] }, n: 1 });
      const clean = { ok: true };
      expect(textResult('{"ok":true}', clean).structuredContent).toBe(clean);
      const err = errorResult(new Error(`failed with ${secret}`));
      expect(err).toEqual({ content: [{ type: 'text', text: 'failed with [redacted]' }], isError: true });
      expect(textOf(errorResult(`odd ${secret}`))).toBe('Unexpected failure: odd [redacted]');
    } finally {
      removeSecret(secret);
    }
  });

  it('a text past the structured bound goes alone', () => {
    const big = 'y'.repeat(STRUCTURED_MAX_CHARS + 1);
    expect(textResult(big, { big }).structuredContent).toBeUndefined();
    expect(textResult('small', { small: true }).structuredContent).toEqual({ small: true });
  });

  it('an empty answer says Done, or Accepted for 202, with the request', () => {
    expect(emptyResult(204, 'DELETE', '/browsers/b')).toEqual({
      content: [{ type: 'text', text: 'Done (HTTP 204, DELETE /browsers/b).' }],
      structuredContent: { ok: true, status: 204 },
    });
    expect(textOf(emptyResult(202, 'POST', '/x'))).toBe('Accepted (HTTP 202, POST /x).');
    expect(textOf(emptyResult(200, 'PUT', '/y'))).toBe('Done (HTTP 200, PUT /y).');
  });
});

describe('bytes', () => {
  const png = (w: number, h: number) => {
    const b = Buffer.alloc(33);
    Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').copy(b, 0);
    b.writeUInt32BE(w, 16);
    b.writeUInt32BE(h, 20);
    return b;
  };
  const opts = { name: 'out', inlineBytes: 64, maxChars: 1000, outputDir: undefined };

  it('an image is image content with its size; PNG dimensions only for a real PNG header', async () => {
    const r = await binaryResult(png(640, 480), { ...opts, mediaType: 'image/png; charset=binary' });
    expect(r.content[0]).toEqual({ type: 'image', data: png(640, 480).toString('base64'), mimeType: 'image/png' });
    expect(r.structuredContent).toEqual({ media_type: 'image/png', bytes: 33, width: 640, height: 480 });
    expect(JSON.parse(textOf(r))).toEqual(r.structuredContent);
    const headerOnly = await binaryResult(png(5, 6).subarray(0, 24), { ...opts, mediaType: 'image/png' });
    expect(headerOnly.structuredContent).toEqual({ media_type: 'image/png', bytes: 24, width: 5, height: 6 });
    const short = await binaryResult(png(1, 1).subarray(0, 23), { ...opts, mediaType: 'image/png' });
    expect(short.structuredContent).toEqual({ media_type: 'image/png', bytes: 23 });
    const notPng = Buffer.from(png(2, 2));
    notPng[1] = 0x51;
    expect((await binaryResult(notPng, { ...opts, mediaType: 'image/png' })).structuredContent).toEqual({
      media_type: 'image/png',
      bytes: 33,
    });
    const wrongFirst = Buffer.from(png(2, 2));
    wrongFirst[0] = 0x88;
    expect((await binaryResult(wrongFirst, { ...opts, mediaType: 'image/png' })).structuredContent).not.toHaveProperty(
      'width',
    );
    const jpeg = await binaryResult(png(3, 3), { ...opts, mediaType: 'image/jpeg' });
    expect(jpeg.structuredContent).toEqual({ media_type: 'image/jpeg', bytes: 33 });
  });

  it('an image is inline up to 8 MiB or the inline size, whichever is larger', async () => {
    const dir = tempDir();
    const at = Buffer.alloc(IMAGE_INLINE_MAX, 1);
    const inline = await binaryResult(at, { ...opts, mediaType: 'image/webp', outputDir: dir });
    expect(inline.content[0]).toMatchObject({ type: 'image' });
    const over = Buffer.alloc(IMAGE_INLINE_MAX + 1, 1);
    const saved = await binaryResult(over, { ...opts, mediaType: 'image/webp', outputDir: dir });
    expect(saved.content[0]).toMatchObject({ type: 'resource_link' });
    const raised = await binaryResult(over, {
      ...opts,
      inlineBytes: IMAGE_INLINE_MAX + 1,
      mediaType: 'image/webp',
      outputDir: dir,
    });
    expect(raised.content[0]).toMatchObject({ type: 'image' });
  });

  it('an image too large to inline that is text (SVG) comes back as text under the cap, redacted', async () => {
    const key = 'sk_results_edges_svg_7788';
    addSecret(key, { pin: true });
    try {
      const svg = `<svg><!-- ${key} -->${' '.repeat(IMAGE_INLINE_MAX)}</svg>`;
      const r = await binaryResult(Buffer.from(svg), { ...opts, maxChars: svg.length, mediaType: 'image/svg+xml' });
      const shown = svg.replace(key, '[redacted]');
      expect(r.content[0]).toEqual({
        type: 'resource',
        resource: { uri: 'kernel://output/out', mimeType: 'image/svg+xml', text: shown },
      });
      expect(r.structuredContent).toEqual({ media_type: 'image/svg+xml', bytes: shown.length });
    } finally {
      removeSecret(key);
    }
  });

  it('text is embedded as text (octet-stream named text/plain) up to the cap; NUL bytes or bad UTF-8 are a blob', async () => {
    const uri = 'kernel://api/x';
    const t = await binaryResult(Buffer.from('héllo'), { ...opts, uri, mediaType: 'text/csv; charset=utf-8' });
    expect(t.content[0]).toEqual({ type: 'resource', resource: { uri, mimeType: 'text/csv', text: 'héllo' } });
    expect(t.structuredContent).toEqual({ media_type: 'text/csv', bytes: 6 });
    const plain = await binaryResult(Buffer.from('abc'), { ...opts, uri, mediaType: 'application/octet-stream' });
    expect((plain.content[0] as { resource: { mimeType: string } }).resource.mimeType).toBe('text/plain');
    const atCap = await binaryResult(Buffer.from('a'.repeat(1000)), { ...opts, uri, mediaType: 'text/plain' });
    expect((atCap.content[0] as { resource: { text?: string } }).resource.text).toBe('a'.repeat(1000));
    const overCap = await binaryResult(Buffer.from('a'.repeat(1001)), {
      ...opts,
      uri,
      inlineBytes: 2000,
      mediaType: 'text/plain',
    });
    expect((overCap.content[0] as { resource: { blob?: string } }).resource.blob).toBe(
      Buffer.from('a'.repeat(1001)).toString('base64'),
    );
    const nul = await binaryResult(Buffer.from('a\0b'), { ...opts, uri, mediaType: 'application/octet-stream ; x=y' });
    expect(nul.content[0]).toEqual({
      type: 'resource',
      resource: { uri, mimeType: 'application/octet-stream', blob: Buffer.from('a\0b').toString('base64') },
    });
    const bad = await binaryResult(Buffer.from([0xc3, 0x28]), { ...opts, uri, mediaType: 'application/x-y' });
    expect((bad.content[0] as { resource: { blob?: string } }).resource.blob).toBe('wyg=');
    expect(bad.structuredContent).toEqual({ media_type: 'application/x-y', bytes: 2 });
  });

  it('without a URI the resource is named after the answer', async () => {
    const r = await binaryResult(Buffer.from([0, 1]), { ...opts, name: 'a b/c.bin', mediaType: 'application/x-y' });
    expect((r.content[0] as { resource: { uri: string } }).resource.uri).toBe('kernel://output/a%20b%2Fc.bin');
  });

  it('bytes: inline up to the inline size; past it a file (stdio), inline up to 32 MiB (HTTP), refused past that', async () => {
    const dir = tempDir();
    const blob = (n: number) => Buffer.alloc(n, 0);
    const at = await binaryResult(blob(64), { ...opts, mediaType: 'application/zip', outputDir: dir });
    expect(at.content[0]).toMatchObject({ type: 'resource' });
    const file = await binaryResult(blob(65), {
      ...opts,
      name: 'report?.zip',
      mediaType: 'application/zip',
      outputDir: dir,
    });
    const link = file.content[0] as { type: string; uri: string; name: string; mimeType: string; size: number };
    expect(link).toMatchObject({ type: 'resource_link', name: 'report_.zip', mimeType: 'application/zip', size: 65 });
    const path = fileURLToPath(link.uri);
    expect(path.startsWith(dir)).toBe(true);
    expect(readFileSync(path).length).toBe(65);
    expect(file.structuredContent).toEqual({ media_type: 'application/zip', bytes: 65, file: path });
    expect(textOf(file)).toBe(`Saved 65 bytes of application/zip to ${path} (too large to inline).`);
    const http = await binaryResult(blob(HARD_INLINE_MAX), { ...opts, mediaType: 'application/zip' });
    expect(http.content[0]).toMatchObject({ type: 'resource' });
    const refused = await binaryResult(blob(HARD_INLINE_MAX + 1), { ...opts, mediaType: 'application/zip; x=1' });
    expect(refused).toEqual({
      content: [
        {
          type: 'text',
          text: `The answer is ${HARD_INLINE_MAX + 1} bytes of application/zip, too large to return over this transport; narrow the request.`,
        },
      ],
      isError: true,
    });
  });

  it("the process's own key never leaves in bytes: image data, blobs, text and files", async () => {
    const key = 'sk_results_edges_pinned_4455';
    addSecret(key, { pin: true });
    try {
      const withKey = Buffer.concat([Buffer.from([0]), Buffer.from(key), Buffer.from([0])]);
      const img = await binaryResult(withKey, { ...opts, mediaType: 'image/gif' });
      expect(Buffer.from((img.content[0] as { data: string }).data, 'base64').toString()).toBe('\0[redacted]\0');
      expect(img.structuredContent).toMatchObject({ bytes: 12 });
      const text = await binaryResult(Buffer.from(`key=${key}`), { ...opts, mediaType: 'text/plain' });
      expect((text.content[0] as { resource: { text: string } }).resource.text).toBe('key=[redacted]');
      expect(text.structuredContent).toEqual({ media_type: 'text/plain', bytes: 'key=[redacted]'.length });
      const dir = tempDir();
      const file = await binaryResult(Buffer.concat([withKey, Buffer.alloc(100)]), {
        ...opts,
        mediaType: 'application/zip',
        outputDir: dir,
      });
      const path = (file.structuredContent as { file: string }).file;
      expect(readFileSync(path).toString()).not.toContain(key);
    } finally {
      removeSecret(key);
    }
  });
});

describe('output files', () => {
  it('named time-id-name, with unsafe characters replaced, at most 80 of them, "output" when nothing is left', () => {
    const dir = tempDir();
    const a = outputFile(dir, 'my report (1).pdf');
    expect(a.safe).toBe('my_report_1_.pdf');
    expect(a.file).toMatch(new RegExp(`^${dir}/\\d+-[0-9a-f]{8}-my_report_1_\\.pdf$`));
    expect(outputFile(dir, 'x'.repeat(100)).safe).toBe('x'.repeat(80));
    expect(outputFile(dir, '').safe).toBe('output');
    expect(outputFile(dir, 'a').file).not.toBe(outputFile(dir, 'a').file);
  });

  it('a saved answer links to its file with the media type without parameters', () => {
    const r = fileResult('/tmp/out/x.mp4', 123, 'video/mp4 ; codecs=avc1', 'x.mp4');
    expect(r).toEqual({
      content: [
        { type: 'resource_link', uri: 'file:///tmp/out/x.mp4', name: 'x.mp4', mimeType: 'video/mp4', size: 123 },
        { type: 'text', text: 'Saved 123 bytes of video/mp4 to /tmp/out/x.mp4 (too large to inline).' },
      ],
      structuredContent: { media_type: 'video/mp4', bytes: 123, file: '/tmp/out/x.mp4' },
    });
  });

  it('writes files its folder did not have yet', async () => {
    const dir = join(tempDir(), 'new', 'deeper');
    const r = await binaryResult(Buffer.alloc(10), {
      name: 'f',
      inlineBytes: 1,
      maxChars: 0,
      mediaType: 'application/zip',
      outputDir: dir,
    });
    expect(statSync((r.structuredContent as { file: string }).file).size).toBe(10);
  });
});
