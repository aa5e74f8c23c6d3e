/**
 * Turns API answers into CallToolResults an agent can use: JSON as structuredContent plus one compact text block,
 * lists as {items, has_more, next_offset}, images as image content, other bytes as embedded resources or files,
 * and every answer cut at the configured cap with a note that says how to get the rest.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { KernelError } from '../kernel/errors.js';
import { utf8Text } from '../kernel/text.js';
import { redact, redactBytes, redactValue } from '../redact.js';

/** About four characters a token: the cap in characters for a token budget. */
export const charsForTokens = (tokens: number) => tokens * 4;

/**
 * JSON answers longer than this (the default result cap, 20,000 tokens) go as text only, without
 * `structuredContent`: sending the same JSON twice doubles what a large answer costs to encode, send and decode
 * (and 5 MiB of JSON twice is over the 10 MiB a 2026-07-28 SDK client takes in one stdio message). Answers under the
 * default cap, i.e. every answer unless --max-result-tokens is raised, carry both.
 */
export const STRUCTURED_MAX_CHARS = charsForTokens(20_000);

/**
 * A text block and, optionally, the structured value it renders. When the text is the value's JSON (every caller
 * here), a text with no secret in it means the value has none either, so the deep walk is skipped.
 */
export function textResult(text: string, structured?: Record<string, unknown>): CallToolResult {
  const safe = redact(text);
  const withStructured = structured && text.length <= STRUCTURED_MAX_CHARS;
  return {
    content: [{ type: 'text', text: safe }],
    ...(withStructured ? { structuredContent: safe === text ? structured : redactValue(structured) } : {}),
  };
}

export function errorResult(err: unknown): CallToolResult {
  const message =
    err instanceof KernelError || err instanceof Error ? err.message : `Unexpected failure: ${String(err)}`;
  return { content: [{ type: 'text', text: redact(message) }], isError: true };
}

/** A JSON object (or any JSON value, wrapped as {result}) as structured content plus compact text. */
export function jsonResult(value: unknown, maxChars: number): CallToolResult {
  const structured =
    value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : { result: value };
  const text = JSON.stringify(structured);
  if (text.length <= maxChars) return textResult(text, structured);
  const note =
    `\n[cut: this answer is ${text.length} characters, over the ${maxChars}-character cap ` +
    '(--max-result-tokens). Narrow the request (filters, a smaller limit, a narrower path) to see the rest.]';
  // Redacted before the cut: a cut through a secret would leave its start, which the redactor no longer finds.
  return textResult(redact(text).slice(0, Math.max(0, maxChars - note.length)) + note);
}

export interface ListPage {
  items: unknown[];
  hasMore: boolean;
  nextOffset: number | null;
  /** The offset this page started at (to compute where a cut page continues). */
  offset: number;
}

/** A page of a list: {items, has_more, next_offset}, cut to the cap by whole items. */
export function listResult(page: ListPage, maxChars: number): CallToolResult {
  const full = { items: page.items, has_more: page.hasMore, next_offset: page.nextOffset };
  const text = JSON.stringify(full);
  if (text.length <= maxChars) return textResult(text, full);
  // Keep as many whole items as fit, and point the next call at the first one left out.
  let size = 60;
  let kept = 0;
  for (const item of page.items) {
    const len = JSON.stringify(item).length + 1;
    if (size + len > maxChars - 300) break;
    size += len;
    kept++;
  }
  if (kept === 0 && page.items.length > 0) {
    // Even one item is over the cap: show it cut, and move past it so paging still makes progress.
    const next = page.offset + 1;
    const note =
      `\n[cut: the item at offset ${page.offset} alone is over the ${maxChars}-character cap (--max-result-tokens). ` +
      `Fetch it with its retrieve tool or narrow the request; the next page starts at offset=${next}.]`;
    const item = redact(JSON.stringify(page.items[0]));
    return textResult(item.slice(0, Math.max(0, maxChars - note.length)) + note);
  }
  const items = page.items.slice(0, kept);
  const next = page.offset + kept;
  const cut = {
    items,
    has_more: true,
    next_offset: next,
    note: `Showing ${kept} of ${page.items.length} items on this page: the answer was cut at the result cap. Call again with offset=${next} (and a smaller limit) for the rest.`,
  };
  return textResult(JSON.stringify(cut), cut);
}

const joinNotes = (a: unknown, b: string) => (typeof a === 'string' && a ? `${a} ${b}` : b);

const ENDED_NOTE = 'The stream has ended: no more events will come.';

export interface EventsPage {
  /** Events in order; each carries its sequence id (and its content: `data`, or an envelope such as `event`). */
  events: { seq: number; [key: string]: unknown }[];
  /** The cursor after the last event returned (what the next read passes as `after`); absent before any event. */
  cursor?: string | null;
  /** The stream ended and every event up to its end is in `events`. */
  ended: boolean;
  /** Anything else the answer carries (dropped, note). */
  [key: string]: unknown;
}

/**
 * A batch of stream events: {events, cursor, ended}, cut to the cap by whole events. A cut batch's cursor is the last
 * event it kept, so the next read continues with the first event left out; it has not reached the end of the stream.
 */
export function eventsResult(page: EventsPage, maxChars: number): CallToolResult {
  const whole = page.ended ? { ...page, note: joinNotes(page.note, ENDED_NOTE) } : page;
  const text = JSON.stringify(whole);
  if (text.length <= maxChars) return textResult(text, whole);
  const { events, ...rest } = page;
  const budget = maxChars - 400 - JSON.stringify({ ...rest, events: [] }).length;
  let size = 0;
  let kept = 0;
  for (const event of events) {
    const len = JSON.stringify(event).length + 1;
    if (size + len > budget) break;
    size += len;
    kept++;
  }
  if (kept === 0 && events.length > 0) {
    // Even one event is over the cap: show its content cut, and move the cursor past it so reading makes progress.
    const { seq, ...content } = events[0]!;
    const cursor = String(seq);
    const cut = {
      ...rest,
      events: [{ seq, truncated: true, data: redact(JSON.stringify(content)).slice(0, Math.max(0, budget - 200)) }],
      cursor,
      ended: false,
      note: joinNotes(
        rest.note,
        `Event ${seq} alone is over the result cap (--max-result-tokens); its content is cut JSON text. Call again with after=${cursor} for the next events.`,
      ),
    };
    return textResult(JSON.stringify(cut), cut);
  }
  const cursor = String(events[kept - 1]!.seq);
  const cut = {
    ...rest,
    events: events.slice(0, kept),
    cursor,
    ended: false,
    note: joinNotes(
      rest.note,
      `Showing ${kept} of ${events.length} events: the answer was cut at the result cap (--max-result-tokens). Call again with after=${cursor} (and a smaller max_events) for the rest.`,
    ),
  };
  return textResult(JSON.stringify(cut), cut);
}

export function emptyResult(status: number, method: string, path: string): CallToolResult {
  const structured = { ok: true, status };
  const what = status === 202 ? 'Accepted' : 'Done';
  return textResult(`${what} (HTTP ${status}, ${method} ${path}).`, structured);
}

function pngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 24 || bytes[0] !== 0x89 || bytes[1] !== 0x50) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

export interface BinaryOptions {
  /** The resource URI the answer's bytes can be read back at (resources/read). */
  uri?: string;
  mediaType: string;
  /** Names the resource and the file: e.g. `screenshot`, `report.pdf`. */
  name: string;
  inlineBytes: number;
  maxChars: number;
  /** Where to write answers too large to inline; undefined when local files are off (HTTP). */
  outputDir: string | undefined;
}

export const IMAGE_INLINE_MAX = 8 * 1024 * 1024;
/** The largest bytes answer returned inline where there is no output folder (HTTP). */
export const HARD_INLINE_MAX = 32 * 1024 * 1024;

/** A new file in the output folder for an answer named `name`. */
export function outputFile(outputDir: string, name: string): { file: string; safe: string } {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'output';
  return { file: join(outputDir, `${Date.now()}-${crypto.randomUUID().slice(0, 8)}-${safe}`), safe };
}

/** An answer already saved to a file in the output folder: a link to it. */
export function fileResult(file: string, size: number, mediaType: string, name: string): CallToolResult {
  const mime = mediaType.split(';')[0]!.trim();
  return {
    content: [
      { type: 'resource_link', uri: pathToFileURL(file).href, name, mimeType: mime, size },
      { type: 'text', text: `Saved ${size} bytes of ${mime} to ${file} (too large to inline).` },
    ],
    structuredContent: { media_type: mime, bytes: size, file },
  };
}

/** Bytes from the API: image content, an embedded resource, or a file in the output folder with a link. */
export async function binaryResult(raw: Uint8Array, opts: BinaryOptions): Promise<CallToolResult> {
  const mime = opts.mediaType.split(';')[0]!.trim();
  const image = mime.startsWith('image/');
  // A URI resources/read resolves (a browser file, or the API path of a download); a name alone otherwise.
  const uri = opts.uri ?? `kernel://output/${encodeURIComponent(opts.name)}`;
  /** Text that fits goes back as text, redacted as text; `bytes` counts what is returned. */
  const asText = (text: string | undefined, size: number): CallToolResult | undefined => {
    if (text === undefined || text.length > opts.maxChars) return undefined;
    const safe = redact(text);
    const textMime = mime === 'application/octet-stream' ? 'text/plain' : mime;
    return {
      content: [{ type: 'resource', resource: { uri, mimeType: textMime, text: safe } }],
      structuredContent: { media_type: textMime, bytes: safe === text ? size : Buffer.byteLength(safe) },
    };
  };
  // Text is redacted as text, which covers the process's own keys too: the bytes are not scanned for them first
  // (that was a second pass over the whole answer).
  const text = image ? undefined : asText(utf8Text(raw), raw.byteLength);
  if (text) return text;
  // The process's own keys never leave as bytes either (base64 in a blob, or a file).
  const bytes = redactBytes(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
  const size = bytes.byteLength;
  if (image && size <= Math.max(IMAGE_INLINE_MAX, opts.inlineBytes)) {
    const dims = mime === 'image/png' ? pngSize(bytes) : undefined;
    const summary = { media_type: mime, bytes: size, ...(dims ?? {}) };
    return {
      content: [
        { type: 'image', data: bytes.toString('base64'), mimeType: mime },
        { type: 'text', text: JSON.stringify(summary) },
      ],
      structuredContent: summary,
    };
  }
  // An image too large to show whole may still be text (SVG).
  const imageText = image ? asText(utf8Text(bytes), size) : undefined;
  if (imageText) return imageText;
  if (size <= opts.inlineBytes || (!opts.outputDir && size <= HARD_INLINE_MAX)) {
    return {
      content: [{ type: 'resource', resource: { uri, mimeType: mime, blob: bytes.toString('base64') } }],
      structuredContent: { media_type: mime, bytes: size },
    };
  }
  if (!opts.outputDir) {
    return errorResult(
      new Error(`The answer is ${size} bytes of ${mime}, too large to return over this transport; narrow the request.`),
    );
  }
  await mkdir(opts.outputDir, { recursive: true });
  const { file, safe } = outputFile(opts.outputDir, opts.name);
  await writeFile(file, bytes);
  return fileResult(file, size, mime, safe);
}
