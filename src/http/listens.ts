/**
 * The 2026-07-28 listen streams of one HTTP client (tenant), as the resource layer's `ListenSource`: which resource
 * URIs its open `subscriptions/listen` streams asked for, and a callback when the first stream for a URI opens or
 * the last one closes. The HTTP entry feeds it from request bodies (`listenRequestUris`) and from the end of each
 * listen response; the resource layer keeps those URIs' upstream streams open and publishes their updates through
 * the tenant handler's `notify` (see `deps.listens` / `deps.notify` in src/server.ts).
 */
import type { ListenSource } from '../resources/index.js';

export type ListenListener = (uri: string, listening: boolean) => void;

export class ListenTracker implements ListenSource {
  readonly #counts = new Map<string, number>();
  readonly #listeners = new Set<ListenListener>();

  uris(): string[] {
    return [...this.#counts.keys()];
  }

  has(uri: string): boolean {
    return this.#counts.has(uri);
  }

  subscribe(fn: ListenListener): () => void {
    this.#listeners.add(fn);
    return () => {
      this.#listeners.delete(fn);
    };
  }

  /** Records an open listen stream for these URIs; the returned release (idempotent) records its close. */
  open(uris: readonly string[]): () => void {
    const unique = [...new Set(uris)];
    for (const uri of unique) {
      const n = (this.#counts.get(uri) ?? 0) + 1;
      this.#counts.set(uri, n);
      if (n === 1) this.#emit(uri, true);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const uri of unique) {
        const n = (this.#counts.get(uri) ?? 1) - 1;
        if (n <= 0) {
          this.#counts.delete(uri);
          this.#emit(uri, false);
        } else {
          this.#counts.set(uri, n);
        }
      }
    };
  }

  /** Forgets every stream (the tenant is dropped or the server stops); listeners hear `(uri, false)` for each. */
  clear() {
    for (const uri of [...this.#counts.keys()]) {
      this.#counts.delete(uri);
      this.#emit(uri, false);
    }
  }

  #emit(uri: string, listening: boolean) {
    for (const fn of [...this.#listeners]) {
      try {
        fn(uri, listening);
      } catch {}
    }
  }
}
