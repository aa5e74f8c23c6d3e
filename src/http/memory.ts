/**
 * Gives memory back after a burst of requests. Under load V8 grows its heap (objects of requests in flight survive
 * young collections and fill the old generation) and keeps those pages afterwards; its own memory reducer gives them
 * back only after a while and not every time (measured after the benchmark's HTTP loads: RSS 2-3x what it was before
 * them, unchanged 30 s later in some runs, while the live heap was back to ~30 MB). So once no request has been in
 * flight for `--idle-release-ms` (30 s) and the heap is still half (and 32 MB) larger than after the last release (or
 * start-up), two full collections compact it while nothing is being answered (~100 ms) and the freed pages go back to
 * the system. The price is paid by the next burst, which grows the heap again: bursts of 2,000 calls that each started
 * right after a release served 20-30% fewer calls a second, so the idle period is long; bursts closer together than
 * that never pay it.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from '../log.js';

/** The heap must have grown by this factor, and by MIN_GROWTH_BYTES, since the last release (or start-up). */
const GROWTH = 1.5;
const MIN_GROWTH_BYTES = 32 * 1024 * 1024;
const MB = 1024 * 1024;

let exposed: (() => void) | null | undefined;

/**
 * One compacting full collection: V8 moves the live objects of every page it can, not only of the sparsest ones as a
 * regular full collection does. After a burst the survivors are spread thinly over many pages, which a regular one
 * keeps: measured on a heap of 22 MB live spread over 250 MB, two regular collections left 162 MB committed, two
 * compacting ones 55 MB. The flag is on for this collection only.
 */
function compacting(gc: () => void): () => void {
  return () => {
    setFlagsFromString('--compact-on-every-full-gc');
    try {
      gc();
    } finally {
      setFlagsFromString('--no-compact-on-every-full-gc');
    }
  };
}

/**
 * V8's full collection, compacting. `gc` is exposed to a new context only (the flag is switched back off at once), so
 * nothing else in the process sees it; null where the flag cannot be set.
 */
export function fullCollection(): (() => void) | null {
  if (exposed !== undefined) return exposed;
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') {
    exposed = compacting(() => own());
    return exposed;
  }
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    exposed = typeof gc === 'function' ? compacting(() => gc()) : null;
  } catch {
    exposed = null;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return exposed;
}

export interface IdleReleaseOptions {
  logger: Logger;
  /** No request in flight for this long: the burst is over. */
  idleMs: number;
  /** The committed heap in bytes (V8's total heap size). */
  heapBytes?: () => number;
  /** One full collection. */
  collect?: () => void;
}

/** Told when requests start and when none is left in flight; releases memory once the idle period passes. */
export class IdleRelease {
  readonly #logger: Logger;
  readonly #idleMs: number;
  readonly #heapBytes: () => number;
  readonly #collect: (() => void) | undefined;
  #baseline: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(o: IdleReleaseOptions) {
    this.#logger = o.logger;
    this.#idleMs = o.idleMs;
    this.#heapBytes = o.heapBytes ?? (() => getHeapStatistics().total_heap_size);
    this.#collect = o.collect;
    this.#baseline = this.#heapBytes();
  }

  /** A request started: not idle. */
  busy(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** No request is in flight any more. */
  idle(): void {
    if (this.#timer || this.#idleMs <= 0) return;
    this.#timer = setTimeout(() => this.#release(), this.#idleMs);
    this.#timer.unref();
  }

  close(): void {
    this.busy();
  }

  #release(): void {
    this.#timer = undefined;
    const before = this.#heapBytes();
    if (before < this.#baseline * GROWTH || before - this.#baseline < MIN_GROWTH_BYTES) return;
    const collect = this.#collect ?? fullCollection();
    if (!collect) {
      this.#baseline = Number.POSITIVE_INFINITY;
      this.#logger.debug('memory is not given back after load: V8 does not expose its collector here');
      return;
    }
    const started = performance.now();
    // The first collection finds what is live; the second moves it out of the sparse pages, which are then freed.
    collect();
    collect();
    this.#baseline = this.#heapBytes();
    this.#logger.debug('gave memory back after load', {
      heapMbBefore: Math.round(before / MB),
      heapMbAfter: Math.round(this.#baseline / MB),
      ms: Math.round(performance.now() - started),
    });
  }
}
