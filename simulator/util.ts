/** Deterministic ids, tracked timers and small time helpers. */

const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Seeded xorshift32: the simulator's ids are reproducible for a given seed and call order. */
export class Ids {
  private s: number;
  constructor(seed = 0x5eed_1234) {
    this.s = seed >>> 0 || 1;
  }

  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }

  token(length: number, alphabet = LOWER_ALNUM): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[this.next() % alphabet.length];
    return out;
  }

  /** cuid2-looking id (24 lowercase alphanumerics, starting with a letter), optionally prefixed. */
  id(prefix = ''): string {
    return prefix + this.token(1, 'abcdefghijklmnopqrstuvwxyz') + this.token(23);
  }

  uuid(): string {
    const h = this.token(32, '0123456789abcdef').split('');
    h[12] = '4';
    h[16] = '89ab'[this.next() % 4] ?? '8';
    const s = h.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }

  int(min: number, max: number): number {
    return min + (this.next() % (max - min + 1));
  }
}

/** Every timer the simulator starts goes through here so close() can cancel them all. */
export class Timers {
  private readonly handles = new Set<NodeJS.Timeout>();
  closed = false;

  after(ms: number, fn: () => void): () => void {
    if (this.closed) return () => {};
    const handle = setTimeout(() => {
      this.handles.delete(handle);
      fn();
    }, ms);
    handle.unref();
    this.handles.add(handle);
    return () => {
      clearTimeout(handle);
      this.handles.delete(handle);
    };
  }

  every(ms: number, fn: () => void): () => void {
    if (this.closed) return () => {};
    const handle = setInterval(fn, ms);
    handle.unref();
    this.handles.add(handle);
    return () => {
      clearInterval(handle);
      this.handles.delete(handle);
    };
  }

  /** Resolves after `ms`; never resolves once the simulator is closed (its callers are abandoned with it). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.after(ms, resolve);
    });
  }

  clearAll(): void {
    this.closed = true;
    for (const h of this.handles) clearTimeout(h);
    this.handles.clear();
  }
}

export const nowIso = (): string => new Date().toISOString();

/** Parses an RFC 3339 timestamp or a duration such as `5m`, `90s`, `2h`, `1h30m` (meaning "that long ago"). */
export function parseSince(value: string): number | undefined {
  const duration = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value.trim());
  if (duration && value.trim() !== '') {
    const [, h, m, s] = duration;
    const ms = (Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0)) * 1000;
    return Date.now() - ms;
  }
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value)) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

export function stableHash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Copies only the defined entries (the simulator omits absent optional fields instead of sending null). */
export function compact<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
