/**
 * A bounded in-memory event store for one legacy (2025-era) session: every SSE message the session's transport
 * sends is kept here with an id, so a client that lost its GET stream (or a POST's response stream) reconnects with
 * `Last-Event-ID` and gets what it missed. Bounded by count and bytes; the oldest events leave first.
 *
 * Event ids are `<seq>.<streamId>`: the stream is known from the id alone, even after the event itself was evicted,
 * so a resume that comes too late replays what is still kept on that stream instead of failing.
 */
import type { EventId, EventStore, JSONRPCMessage, StreamId } from '@modelcontextprotocol/server';

interface Stored {
  seq: number;
  streamId: StreamId;
  /**
   * The message as JSON, not the object: a result is a tree of objects several times its text's size, and it is
   * encoded here anyway to be counted. A replay (rare) decodes it again.
   */
  text: string;
  bytes: number;
}

export interface BoundedEventStoreOptions {
  maxEvents: number;
  maxBytes: number;
  /** The byte budget this store shares with every other session's store in the process. */
  budget?: ReplayBudget;
}

/**
 * One byte budget the sessions' stores share: each store is bounded on its own, but a thousand sessions at their
 * bound would hold gigabytes. Past the budget the oldest event of any session leaves first (it is also the oldest of
 * its own store, since both orders are the order of arrival). Entries of events a store already dropped are skipped,
 * and the queue is compacted once they outnumber the live ones, so it stays proportional to what is kept.
 */
export class ReplayBudget {
  readonly #queue: { store: BoundedEventStore; seq: number }[] = [];
  #head = 0;
  #bytes = 0;
  #live = 0;

  constructor(readonly maxBytes: number) {}

  /** Bytes kept by every store together. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Events kept by every store together. */
  get events(): number {
    return this.#live;
  }

  /** The queue's length, stale entries included (proportional to `events`). */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  added(store: BoundedEventStore, seq: number, bytes: number) {
    this.#bytes += bytes;
    this.#live++;
    this.#queue.push({ store, seq });
    // The event just added stays, whatever its size (as in a store of its own).
    while (this.#bytes > this.maxBytes && this.#head < this.#queue.length - 1) {
      const { store: owner, seq: oldest } = this.#queue[this.#head++]!;
      owner.evict(oldest);
    }
    const queued = this.#queue.length - this.#head;
    if (queued > 2 * this.#live + 1024 || (this.#head > 1024 && this.#head * 2 > this.#queue.length)) this.#compact();
  }

  removed(bytes: number, events: number) {
    this.#bytes -= bytes;
    this.#live -= events;
  }

  #compact() {
    const kept = this.#queue.slice(this.#head).filter((e) => e.store.holds(e.seq));
    this.#queue.length = 0;
    this.#queue.push(...kept);
    this.#head = 0;
  }
}

export class BoundedEventStore implements EventStore {
  readonly #events: Stored[] = [];
  #bytes = 0;
  #seq = 0;
  #disposed = false;

  constructor(readonly options: BoundedEventStoreOptions) {}

  get size(): number {
    return this.#events.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const seq = ++this.#seq;
    if (this.#disposed) return `${seq}.${streamId}`;
    const text = JSON.stringify(message);
    const bytes = text.length + streamId.length + 16;
    this.#events.push({ seq, streamId, text, bytes });
    this.#bytes += bytes;
    while (
      this.#events.length > this.options.maxEvents ||
      (this.#bytes > this.options.maxBytes && this.#events.length > 1)
    ) {
      this.#dropOldest();
    }
    this.options.budget?.added(this, seq, bytes);
    return `${seq}.${streamId}`;
  }

  /** Whether the event numbered `seq` is still kept. */
  holds(seq: number): boolean {
    return !this.#disposed && this.#events.length > 0 && seq >= this.#events[0]!.seq && seq <= this.#seq;
  }

  /** Drops the event numbered `seq` if it is the oldest kept (the shared budget's call). */
  evict(seq: number) {
    if (this.#events[0]?.seq === seq) this.#dropOldest();
  }

  /** The session ended: everything kept is let go, and its bytes return to the shared budget. */
  dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    this.options.budget?.removed(this.#bytes, this.#events.length);
    this.#events.length = 0;
    this.#bytes = 0;
  }

  #dropOldest() {
    const old = this.#events.shift()!;
    this.#bytes -= old.bytes;
    this.options.budget?.removed(old.bytes, 1);
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    return parseEventId(eventId)?.streamId;
  }

  async replayEventsAfter(
    lastEventId: EventId,
    { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> },
  ): Promise<StreamId> {
    const parsed = parseEventId(lastEventId);
    if (!parsed) return '';
    // A copy: sending may store new events.
    for (const e of [...this.#events]) {
      if (e.streamId !== parsed.streamId || e.seq <= parsed.seq) continue;
      // Priming events carry an empty message; they mark a position, not something to deliver.
      if (e.text === '{}') continue;
      await send(`${e.seq}.${e.streamId}`, JSON.parse(e.text) as JSONRPCMessage);
    }
    return parsed.streamId;
  }
}

function parseEventId(eventId: string): { seq: number; streamId: string } | undefined {
  const dot = eventId.indexOf('.');
  if (dot <= 0) return undefined;
  const seq = Number(eventId.slice(0, dot));
  const streamId = eventId.slice(dot + 1);
  if (!Number.isSafeInteger(seq) || seq < 0 || !streamId) return undefined;
  return { seq, streamId };
}

/** The SDK transport's stream id for a session's GET stream. */
export const GET_STREAM = '_GET_stream';

/** Where a session's GET-stream events live when instances share them (see shared.ts). */
export interface SessionEventLog {
  storeSessionEvent(
    id: string,
    message: string,
    bounds: { maxEvents: number; windowMs: number; ttlMs: number },
    force?: boolean,
  ): Promise<number>;
  sessionEventsAfter(id: string, seq: number): Promise<{ seq: number; message: string }[]>;
}

/**
 * With --redis-url: a session's GET-stream events in Redis, numbered by one sequence per session, so the client
 * resumes with `Last-Event-ID` on whichever instance it reaches, after the one holding its stream died. Events of
 * POST response streams stay in this instance (their requests run here; the SDK resumes them only where they run).
 */
export class SharedEventStore implements EventStore {
  /** Sequence numbers this instance was given lately: given again, its message is a new event, not another's copy. */
  readonly #given: number[] = [];

  constructor(
    readonly local: BoundedEventStore,
    readonly log: SessionEventLog,
    readonly sessionId: () => string,
    readonly bounds: { maxEvents: number; windowMs: number; ttlMs: number },
  ) {}

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const id = this.sessionId();
    if (streamId !== GET_STREAM || !id) return this.local.storeEvent(streamId, message);
    const text = JSON.stringify(message);
    let seq = await this.log.storeSessionEvent(id, text, this.bounds);
    if (this.#given.includes(seq)) seq = await this.log.storeSessionEvent(id, text, this.bounds, true);
    this.#given.push(seq);
    if (this.#given.length > 64) this.#given.shift();
    return `${seq}.${streamId}`;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    return parseEventId(eventId)?.streamId;
  }

  async replayEventsAfter(
    lastEventId: EventId,
    { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> },
  ): Promise<StreamId> {
    const parsed = parseEventId(lastEventId);
    const id = this.sessionId();
    if (!parsed || parsed.streamId !== GET_STREAM || !id) return this.local.replayEventsAfter(lastEventId, { send });
    for (const e of await this.log.sessionEventsAfter(id, parsed.seq)) {
      const message = JSON.parse(e.message) as JSONRPCMessage;
      if (Object.keys(message).length === 0) continue;
      await send(`${e.seq}.${GET_STREAM}`, message);
    }
    return GET_STREAM;
  }
}
