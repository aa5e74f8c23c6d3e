/**
 * Stream tools: events after a cursor, from the hub's buffer (one upstream connection per stream, shared with the
 * stream resources). A read waits up to `max_seconds` for a first event, then lingers `linger_ms` so a burst comes in
 * one answer; `until: "end"` keeps collecting until the stream ends (or `max_seconds` pass). Telemetry filters by
 * event type (`types`), process output by stream (`stream`); filtered-out events still move the cursor. Events look
 * like the stream resources' JSON lines: telemetry keeps its `{seq, event}` envelope, other streams are
 * `{seq, data}` with base64 output decoded to text.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { OperationRow } from '../kernel/operation.js';
import type { StreamEvent } from '../resources/hub.js';
import { eventViewFor } from '../resources/streams.js';
import type { ToolContext } from './define.js';
import { charsForTokens, type EventsPage, eventsResult } from './results.js';

/** Stream reads: defaults and ceilings. Never past 60 s, so clients do not move the call to the background. */
export const STREAM_LIMITS = {
  defaultEvents: 100,
  maxEvents: 1000,
  defaultSeconds: 10,
  maxSeconds: 60,
  defaultLingerMs: 300,
  maxLingerMs: 10_000,
};

export const streamArgs = {
  after: z
    .string()
    .regex(/^\d+$/, 'a cursor is the number a previous call returned')
    .describe('Cursor a previous call returned.')
    .optional(),
  until: z.enum(['event', 'end']).describe('end: until the stream ends (or max_seconds).').optional(),
  max_events: z
    .int()
    .min(1)
    .max(STREAM_LIMITS.maxEvents)
    .describe(`Most events (default ${STREAM_LIMITS.defaultEvents}).`)
    .optional(),
  max_seconds: z
    .number()
    .min(0)
    .max(STREAM_LIMITS.maxSeconds)
    .describe(`Most seconds to wait (default ${STREAM_LIMITS.defaultSeconds}).`)
    .optional(),
  linger_ms: z
    .int()
    .min(0)
    .max(STREAM_LIMITS.maxLingerMs)
    .describe(`Collect this long after the first event (default ${STREAM_LIMITS.defaultLingerMs}).`)
    .optional(),
};

/** Filters only some streams have. */
export function filterArgsFor(row: OperationRow): Record<string, z.ZodType> {
  if (row.stream?.filter === 'types') {
    return {
      types: z
        .array(z.string().min(1))
        .min(1)
        .describe('Only these event types (e.g. "console_error") or categories ("network").')
        .optional(),
    };
  }
  if (row.stream?.filter === 'output') {
    return {
      stream: z.enum(['stdout', 'stderr']).describe('Only this output (the exit event always comes).').optional(),
    };
  }
  return {};
}

type Filter = (ev: StreamEvent) => boolean;

function filterFor(row: OperationRow, args: Record<string, unknown>): { match: Filter; what?: string } {
  if (row.stream?.filter === 'types' && Array.isArray(args.types) && args.types.length) {
    const types = args.types as string[];
    return {
      match: (ev) => {
        const data = ev.data as { event?: { type?: unknown } } | undefined;
        const type = typeof data?.event?.type === 'string' ? data.event.type : '';
        // A whole type matches exactly; a category (no underscore: console, network, page, ...) matches its types.
        return types.some((t) => type === t || (!t.includes('_') && type.startsWith(`${t}_`)));
      },
      what: `of types ${types.join(', ')}`,
    };
  }
  if (row.stream?.filter === 'output' && typeof args.stream === 'string') {
    const stream = args.stream;
    return {
      match: (ev) => {
        const data = ev.data as { stream?: unknown; event?: unknown } | undefined;
        return data?.stream === stream || data?.event !== undefined;
      },
      what: `on ${stream}`,
    };
  }
  return { match: () => true };
}

/** Why a browser's telemetry read comes back empty, when the browser has no telemetry capture (one GET). */
async function telemetryOffNote(id: unknown, ctx: ToolContext): Promise<string | undefined> {
  if (typeof id !== 'string') return undefined;
  try {
    const { data } = await ctx.client.json<{ telemetry?: unknown }>({
      method: 'GET',
      path: `/browsers/${encodeURIComponent(id)}`,
      signal: ctx.signal,
    });
    if (data && typeof data === 'object' && !data.telemetry) {
      return 'Telemetry is not enabled for this browser: create it with `telemetry: {"browser": {}}` (browsers_create), or call browsers_update with that `telemetry` to start capture now.';
    }
  } catch {
    // The note is a courtesy: the read's own answer stands.
  }
  return undefined;
}

const joinNote = (a: unknown, b: string): string => (typeof a === 'string' && a ? `${a} ${b}` : b);

export async function readStream(
  row: OperationRow,
  request: { path: string; query?: Record<string, unknown> },
  args: Record<string, unknown>,
  ctx: ToolContext,
): Promise<CallToolResult> {
  const maxEvents = Math.min(
    STREAM_LIMITS.maxEvents,
    (args.max_events as number | undefined) ?? STREAM_LIMITS.defaultEvents,
  );
  const maxSeconds = Math.min(
    STREAM_LIMITS.maxSeconds,
    (args.max_seconds as number | undefined) ?? STREAM_LIMITS.defaultSeconds,
  );
  const lingerMs = (args.linger_ms as number | undefined) ?? STREAM_LIMITS.defaultLingerMs;
  const toEnd = args.until === 'end';
  const { match, what } = filterFor(row, args);
  const view = eventViewFor(row.operationId);
  const started = Date.now();
  const deadline = started + maxSeconds * 1000;
  const streamReq = {
    path: request.path,
    ...(request.query ? { query: request.query as Record<string, string> } : {}),
    // A client of its own (another API key) never shares the hub's streams.
    ...(ctx.client !== ctx.hub.client ? { client: ctx.client } : {}),
  };

  let cursor: number | undefined = typeof args.after === 'string' ? Number(args.after) : undefined;
  const events: EventsPage['events'] = [];
  let skipped = 0;
  let ended = false;
  let dropped = false;
  let failure: string | undefined;
  let resuming: string | undefined;
  let lingerUntil: number | undefined;
  for (;;) {
    const stopAt = toEnd ? deadline : Math.min(deadline, lingerUntil ?? deadline);
    let result: Awaited<ReturnType<typeof ctx.hub.read>>;
    try {
      result = await ctx.hub.read(streamReq, {
        ...(cursor !== undefined ? { after: cursor } : {}),
        maxEvents: STREAM_LIMITS.maxEvents,
        maxWaitMs: Math.max(0, stopAt - Date.now()),
        signal: ctx.signal,
        onWait: () => {
          const waited = Math.min(maxSeconds, Math.floor((Date.now() - started) / 1000));
          void ctx.progress(waited, maxSeconds, 'waiting for events');
        },
      });
    } catch (err) {
      // What was collected before the stream failed is still worth returning.
      if (events.length === 0 && skipped === 0) throw err;
      failure = (err as Error).message;
      break;
    }
    dropped ||= result.dropped;
    resuming = result.resuming;
    let full = false;
    for (const ev of result.events) {
      cursor = ev.seq;
      if (!match(ev)) {
        skipped++;
        continue;
      }
      events.push(view(ev) as EventsPage['events'][number]);
      if (events.length >= maxEvents) {
        full = ev !== result.events.at(-1);
        break;
      }
    }
    if (!full && result.ended) {
      ended = true;
      break;
    }
    if (events.length >= maxEvents || ctx.signal.aborted) break;
    // Nothing came: the hub waited as long as asked, or stopped early (the upstream broke and is resuming). Reading
    // again at once would only reopen the upstream; the answer says what happened.
    if (result.events.length === 0) break;
    const now = Date.now();
    if (now >= deadline) break;
    if (!toEnd && events.length > 0) {
      lingerUntil ??= Math.min(deadline, now + lingerMs);
      if (now >= lingerUntil) break;
    }
  }

  const page: EventsPage = { events, cursor: cursor === undefined ? null : String(cursor), ended };
  if (page.cursor === null) {
    // Nothing has come yet: there is no cursor to pass back, and the next read starts from the oldest event again.
    delete (page as { cursor?: unknown }).cursor;
  }
  if (dropped) {
    page.dropped = true;
    page.note =
      'Events after the cursor had already left the buffer (--stream-buffer-events/--stream-buffer-bytes): these are the oldest kept.';
  }
  if (resuming) page.note = joinNote(page.note, `The upstream stream broke and is being resumed: ${resuming}`);
  if (skipped > 0) page.skipped = skipped;
  if (failure) page.note = joinNote(page.note, `The stream failed after these events: ${failure}`);
  if (!ended && events.length === 0 && !ctx.signal.aborted && !failure) {
    const again = page.cursor ? `with after=${page.cursor}` : 'without `after`';
    let note = `No new events${what ? ` ${what}` : ''} within ${maxSeconds}s${skipped ? ` (${skipped} others skipped)` : ''}; call again ${again} to keep waiting.`;
    if (row.stream?.filter === 'types' && skipped === 0) {
      const off = await telemetryOffNote(args.id, ctx);
      if (off) note = `${off} ${note}`;
    }
    page.note = joinNote(page.note, note);
  }
  if (toEnd && !ended && events.length < maxEvents && !ctx.signal.aborted && !failure && events.length > 0) {
    page.note = joinNote(
      page.note,
      `The stream had not ended after ${maxSeconds}s; call again with after=${page.cursor} for the rest.`,
    );
  }
  // Cut by whole events at the cap, with the cursor after the last one kept.
  return eventsResult(page, charsForTokens(ctx.config.maxResultTokens));
}
