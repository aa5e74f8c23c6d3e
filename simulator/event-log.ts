/**
 * Every streamed resource owns an EventLog: events get per-log sequence ids starting at 1, are kept (bounded) so a
 * client can resume with `Last-Event-ID` without gaps or duplicates, and the log can be finished (the resource
 * ended), which closes every open response on it. Data only: streams.ts serves a log as SSE.
 */
import type { ServerResponse } from 'node:http';

export interface LoggedEvent<T = unknown> {
  id: number;
  data: T;
}

interface Subscriber<T> {
  event(e: LoggedEvent<T>): void;
  finish(): void;
}

export class EventLog<T = unknown> {
  private readonly events: LoggedEvent<T>[] = [];
  private nextId = 1;
  private readonly subs = new Set<Subscriber<T>>();
  private done = false;

  /**
   * @param cap maximum number of retained events (older ones are dropped; resuming from before them resumes at
   *   the oldest retained event).
   * @param onActiveChange called when the number of live subscribers goes 0 -> 1 or 1 -> 0, so producers of
   *   synthetic events only run while someone listens.
   */
  constructor(
    private readonly cap = 5000,
    private readonly onActiveChange?: (active: boolean) => void,
  ) {}

  get finished(): boolean {
    return this.done;
  }

  get lastId(): number {
    return this.nextId - 1;
  }

  get subscriberCount(): number {
    return this.subs.size;
  }

  push(data: T): LoggedEvent<T> {
    const e = { id: this.nextId++, data };
    this.events.push(e);
    if (this.events.length > this.cap) this.events.shift();
    for (const s of [...this.subs]) s.event(e);
    return e;
  }

  /** Marks the resource as ended: open subscribers are told to close; later subscribers get a replay and close. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    for (const s of [...this.subs]) s.finish();
  }

  /** Re-opens a finished log (e.g. an auth connection starting a new login flow). */
  reopen(): void {
    this.done = false;
  }

  since(afterId: number): LoggedEvent<T>[] {
    return this.events.filter((e) => e.id > afterId);
  }

  all(): LoggedEvent<T>[] {
    return [...this.events];
  }

  subscribe(sub: Subscriber<T>): () => void {
    this.subs.add(sub);
    if (this.subs.size === 1) this.onActiveChange?.(true);
    return () => {
      if (this.subs.delete(sub) && this.subs.size === 0) this.onActiveChange?.(false);
    };
  }
}

/** An SSE response currently open; tracked for openStreams() and close(). */
export interface OpenStream {
  res: ServerResponse;
  close(): void;
}
