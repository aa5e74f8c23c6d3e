/**
 * Secrets the process knows (API keys, HTTP tokens, write-only passwords) are registered here, and every log line,
 * error message and tool result text passes through `redact` before it leaves the process.
 */
/** Credentials of the process itself (API keys, HTTP tokens): kept until removed. */
const pinned = new Set<string>();
/** Secrets seen in tool arguments (write-only passwords, codes): the most recent ones, so memory stays bounded. */
const recent = new Set<string>();
const RECENT_MAX = 2000;

/**
 * Registers a secret; values shorter than 6 characters are not worth a global replace and would mangle text.
 * `pin` keeps it until removeSecret (the process's own keys); others are evicted oldest-first past RECENT_MAX.
 */
export function addSecret(value: string | undefined | null, options: { pin?: boolean } = {}): void {
  if (typeof value !== 'string' || value.length < 6) return;
  if (options.pin) {
    pinned.add(value);
    return;
  }
  if (pinned.has(value)) return;
  recent.delete(value);
  recent.add(value);
  if (recent.size > RECENT_MAX) recent.delete(recent.values().next().value as string);
}

export function removeSecret(value: string): void {
  pinned.delete(value);
  recent.delete(value);
}

export function redact(text: string): string {
  if (!text) return text;
  let out = text;
  for (const set of [pinned, recent]) {
    for (const s of set) {
      if (out.includes(s)) out = out.split(s).join('[redacted]');
    }
  }
  // Bearer tokens in echoed headers, whatever they are.
  return out.replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]{6,}/g, '$1[redacted]');
}

/** Deep-redacts string values of a JSON-like value. */
export function redactValue<T>(value: T): T {
  if (pinned.size === 0 && recent.size === 0) return value;
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactValue(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactValue(v);
    return out as T;
  }
  return value;
}
