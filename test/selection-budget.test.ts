/**
 * The answer budget: every result is cut at the cap (--max-result-tokens) with a note that says how to get the
 * rest. JSON text, list pages (by whole items, with the offset to continue from) and stream reads (by whole events,
 * with the cursor to continue from), including a single item or event larger than the cap.
 */
import { describe, expect, it } from 'vitest';
import { makeConfig } from '../src/config.js';
import type { StreamEvent } from '../src/resources/hub.js';
import type { ToolContext } from '../src/tools/define.js';
import { callOperation, operationsByName } from '../src/tools/operations.js';
import { charsForTokens, eventsResult, jsonResult, listResult } from '../src/tools/results.js';

const textOf = (r: { content: unknown[] }) => (r.content[0] as { text: string }).text;

describe('jsonResult', () => {
  it('answers a small value whole, as structured content and compact text', () => {
    const r = jsonResult({ a: 1 }, 1000);
    expect(r.structuredContent).toEqual({ a: 1 });
    expect(textOf(r)).toBe('{"a":1}');
  });

  it('cuts a large value at the cap with a note on how to narrow', () => {
    const r = jsonResult({ blob: 'x'.repeat(10_000) }, 4000);
    expect(textOf(r).length).toBeLessThanOrEqual(4000);
    expect(textOf(r)).toContain('[cut: this answer is');
    expect(textOf(r)).toContain('--max-result-tokens');
    expect(r.structuredContent).toBeUndefined();
  });
});

describe('listResult', () => {
  const items = Array.from({ length: 50 }, (_, i) => ({ id: `item-${i}`, pad: 'p'.repeat(200) }));

  it('keeps whole items under the cap and points at the first one left out', () => {
    const r = listResult({ items, hasMore: false, nextOffset: null, offset: 20 }, 3000);
    const body = r.structuredContent as {
      items: { id: string }[];
      has_more: boolean;
      next_offset: number;
      note: string;
    };
    expect(textOf(r).length).toBeLessThanOrEqual(3000);
    expect(body.items.length).toBeGreaterThan(0);
    expect(body.items.length).toBeLessThan(50);
    expect(body.items.map((i) => i.id)).toEqual(items.slice(0, body.items.length).map((i) => i.id));
    expect(body.has_more).toBe(true);
    expect(body.next_offset).toBe(20 + body.items.length);
    expect(body.note).toContain(`offset=${body.next_offset}`);
  });

  it('moves past an item larger than the cap instead of answering an empty page', () => {
    const r = listResult(
      { items: [{ big: 'b'.repeat(10_000) }, { id: 2 }], hasMore: false, nextOffset: null, offset: 7 },
      2000,
    );
    expect(textOf(r).length).toBeLessThanOrEqual(2000);
    expect(textOf(r)).toContain('offset=8');
  });
});

describe('eventsResult', () => {
  const events = Array.from({ length: 40 }, (_, i) => ({ seq: 100 + i, data: { line: `l${i} ${'e'.repeat(300)}` } }));

  it('answers a small batch whole', () => {
    const page = { events: events.slice(0, 2), cursor: '101', ended: false };
    const r = eventsResult(page, 10_000);
    expect(r.structuredContent).toEqual(page);
  });

  it('cuts by whole events; the cursor is the last event kept', () => {
    const r = eventsResult({ events, cursor: '139', ended: true }, 4000);
    const body = r.structuredContent as { events: { seq: number }[]; cursor: string; ended: boolean; note: string };
    expect(textOf(r).length).toBeLessThanOrEqual(4000);
    const kept = body.events.length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(40);
    expect(body.events.map((e) => e.seq)).toEqual(events.slice(0, kept).map((e) => e.seq));
    expect(body.cursor).toBe(String(100 + kept - 1));
    expect(body.ended).toBe(false);
    expect(body.note).toContain(`after=${body.cursor}`);
    expect(body.note).toContain(`${kept} of 40`);
  });

  it('keeps an earlier note and flags', () => {
    const r = eventsResult({ events, cursor: '139', ended: false, dropped: true, note: 'Some events had left.' }, 4000);
    const body = r.structuredContent as { dropped: boolean; note: string };
    expect(body.dropped).toBe(true);
    expect(body.note).toMatch(/^Some events had left\. Showing/);
  });

  it('cuts one event larger than the cap, whatever its shape, and moves the cursor past it', () => {
    const shapes = [
      [
        { seq: 5, data: 'x'.repeat(20_000) },
        { seq: 6, data: 'y' },
      ],
      [
        { seq: 5, event: { type: 'console', text: 'x'.repeat(20_000) } },
        { seq: 6, event: { type: 'page' } },
      ],
    ];
    for (const big of shapes) {
      const r = eventsResult({ events: big, cursor: '6', ended: true }, 4000);
      const body = r.structuredContent as {
        events: { seq: number; truncated: boolean; data: string }[];
        cursor: string;
        ended: boolean;
        note: string;
      };
      expect(textOf(r).length).toBeLessThanOrEqual(4000);
      expect(body.events).toHaveLength(1);
      expect(body.events[0]).toMatchObject({ seq: 5, truncated: true });
      expect(body.events[0]!.data.startsWith('{"')).toBe(true);
      expect(body.cursor).toBe('5');
      expect(body.ended).toBe(false);
      expect(body.note).toContain('after=5');
    }
  });

  it('says the stream ended only when the batch reaches the end', () => {
    const whole = eventsResult({ events: events.slice(0, 2), cursor: '101', ended: true }, 10_000);
    expect(whole.structuredContent).toMatchObject({
      ended: true,
      note: 'The stream has ended: no more events will come.',
    });
    const cut = eventsResult({ events, cursor: '139', ended: true }, 4000);
    expect(cut.structuredContent).toMatchObject({ ended: false });
    expect((cut.structuredContent as { note: string }).note).not.toContain('has ended');
  });
});

describe('stream tools', () => {
  it('cut a large read at the cap by whole events, with the cursor to continue from', async () => {
    const row = operationsByName.get('browsers_logs_stream')!;
    const events: StreamEvent[] = Array.from({ length: 300 }, (_, i) => ({
      seq: i + 1,
      data: { message: `line ${i} ${'m'.repeat(200)}` },
      type: 'log',
    }));
    const reads: unknown[] = [];
    const ctx = {
      config: makeConfig({ maxResultTokens: 1000 }),
      hub: {
        read: async (req: unknown, opts: unknown) => {
          reads.push({ req, opts });
          return { events, cursor: 300, ended: false, dropped: false };
        },
      },
      signal: new AbortController().signal,
      progress: async () => {},
      localFiles: false,
    } as unknown as ToolContext;
    const r = await callOperation(row, { id: 'b1', source: 'path', path: '/var/log/x.log', max_events: 300 }, ctx);
    const body = r.structuredContent as { events: StreamEvent[]; cursor: string; ended: boolean; note: string };
    expect(textOf(r).length).toBeLessThanOrEqual(charsForTokens(1000));
    expect(body.events.length).toBeGreaterThan(0);
    expect(body.events.length).toBeLessThan(300);
    expect(body.cursor).toBe(String(body.events.at(-1)!.seq));
    expect(body.ended).toBe(false);
    expect(body.note).toContain(`after=${body.cursor}`);
    expect(reads).toHaveLength(1);
  });
});
