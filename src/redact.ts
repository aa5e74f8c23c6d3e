/**
 * Secrets the process knows (API keys, HTTP tokens, write-only passwords) are registered here, and every log line,
 * error message and tool result text passes through `redact` before it leaves the process. A secret with a quote,
 * backslash or control character is also found JSON-escaped (once and twice). The process's own keys are also found
 * base64-encoded in text (at any byte alignment, standard and URL alphabets) and as raw bytes in binary answers
 * (`redactBytes`, `redactBytesStream`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Transform } from 'node:stream';

/** Credentials of the process itself (API keys, HTTP tokens): kept until removed. */
const pinned = new Set<string>();
/** The base64 forms of the pinned secrets, by secret. */
const encodedForms = new Map<string, string[]>();
/**
 * Secrets of whoever is being served right now (an HTTP passthrough client's own key): redacted in what is produced
 * while serving that client, and nowhere else, so one client's bearer never blanks out another client's results.
 */
const scoped = new AsyncLocalStorage<readonly string[]>();

/** Runs `fn` (and everything it starts) with `secrets` redacted on top of the process's own. */
export function withSecrets<T>(secrets: readonly string[], fn: () => T): T {
  const own = secrets.filter((s) => s.length >= 6);
  // Nothing to add and no scope to leave: run as is. On Node 20 the first AsyncLocalStorage.run installs promise
  // hooks for the rest of the process (a cost on every promise), so a server whose clients all use the server's key
  // (token or no auth: no scoped secrets) never enters one.
  if (own.length === 0 && scoped.getStore() === undefined) return fn();
  return scoped.run(own, fn);
}

/** Secrets seen in tool arguments (write-only passwords, codes): the most recent ones, so memory stays bounded. */
const recent = new Set<string>();
const RECENT_MAX = 2000;
/** The JSON-escaped forms of the secrets (pinned or recent) that hold a character JSON escapes, by secret. */
const escapedForms = new Map<string, string[]>();

/**
 * How a secret with a quote, backslash or control character shows in JSON text: escaped twice (a JSON text of a
 * string that quotes it with JSON, as an API's message can), then once. Empty for the usual secret, which shows as
 * is.
 */
function jsonEscapedForms(secret: string): string[] {
  const once = JSON.stringify(secret).slice(1, -1);
  if (once === secret) return [];
  return [JSON.stringify(once).slice(1, -1), once];
}

function track(value: string): void {
  const forms = jsonEscapedForms(value);
  if (forms.length) escapedForms.set(value, forms);
}

/**
 * The base64 text a secret shows as inside any longer base64 text: for each of the three byte alignments, the
 * characters that depend on the secret's bytes only (both alphabets). Forms shorter than 12 characters are left out.
 */
export function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = new Set<string>();
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
    const encoded = padded.toString('base64');
    // Characters before `skip` mix in the unknown leading bytes; after the last whole group, the unknown trailing ones.
    const skip = shift === 0 ? 0 : shift + 1;
    const end = Math.floor(padded.length / 3) * 4;
    const core = encoded.slice(skip, end);
    if (core.length >= 12) {
      forms.add(core);
      forms.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return [...forms];
}

/**
 * Registers a secret; values shorter than 6 characters are not worth a global replace and would mangle text.
 * `pin` keeps it until removeSecret (the process's own keys); others are evicted oldest-first past RECENT_MAX.
 */
export function addSecret(value: string | undefined | null, options: { pin?: boolean } = {}): void {
  if (typeof value !== 'string' || value.length < 6) return;
  if (options.pin) {
    pinned.add(value);
    encodedForms.set(value, base64Forms(value));
    track(value);
    return;
  }
  if (pinned.has(value)) return;
  recent.delete(value);
  recent.add(value);
  track(value);
  if (recent.size > RECENT_MAX) {
    const oldest = recent.values().next().value as string;
    recent.delete(oldest);
    escapedForms.delete(oldest);
  }
}

export function removeSecret(value: string): void {
  pinned.delete(value);
  encodedForms.delete(value);
  recent.delete(value);
  escapedForms.delete(value);
}

export function redact(text: string): string {
  if (!text) return text;
  let out = text;
  for (const set of [pinned, recent]) {
    for (const s of set) {
      if (out.includes(s)) out = out.split(s).join('[redacted]');
    }
  }
  for (const s of scoped.getStore() ?? []) {
    if (out.includes(s)) out = out.split(s).join('[redacted]');
  }
  for (const forms of escapedForms.values()) {
    for (const f of forms) if (out.includes(f)) out = out.split(f).join('[redacted]');
  }
  for (const forms of encodedForms.values()) {
    for (const f of forms) if (out.includes(f)) out = out.split(f).join('[redacted]');
  }
  // Bearer tokens in echoed headers, whatever they are (the regular expression only where the word occurs: on a
  // large answer it costs as much as decoding it).
  return out.includes('Bearer') ? out.replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]{6,}/g, '$1[redacted]') : out;
}

/** Deep-redacts string values of a JSON-like value. */
export function redactValue<T>(value: T): T {
  if (pinned.size === 0 && recent.size === 0 && !scoped.getStore()?.length) return value;
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactValue(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactValue(v);
    return out as T;
  }
  return value;
}

const REDACTED = Buffer.from('[redacted]');

/** The secrets replaced in bytes: the process's own keys, and the key of whoever is being served (passthrough). */
function bytesSecrets(): readonly string[] {
  const own = scoped.getStore();
  return own?.length ? [...pinned, ...own] : [...pinned];
}

/**
 * The process's own keys (and the served client's, in passthrough) replaced in raw bytes (a binary answer); the same
 * buffer when none occurs.
 */
export function redactBytes(bytes: Buffer, secrets: readonly string[] = bytesSecrets()): Buffer {
  let out = bytes;
  for (const s of secrets) {
    const needle = Buffer.from(s, 'utf8');
    let at = out.indexOf(needle);
    if (at < 0) continue;
    const parts: Buffer[] = [];
    let from = 0;
    while (at >= 0) {
      parts.push(out.subarray(from, at), REDACTED);
      from = at + needle.length;
      at = out.indexOf(needle, from);
    }
    parts.push(out.subarray(from));
    out = Buffer.concat(parts);
  }
  return out;
}

/**
 * `redactBytes` over a byte stream: holds back the last (longest key - 1) bytes of each chunk, so a key split
 * between two chunks is still found.
 */
export function redactBytesStream(): Transform {
  // Taken now, in the request's context: a stream's callbacks may run outside it.
  const secrets = bytesSecrets();
  let keep = 0;
  for (const s of secrets) keep = Math.max(keep, Buffer.byteLength(s) - 1);
  let tail: Buffer = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const all = redactBytes(tail.length ? Buffer.concat([tail, chunk]) : chunk, secrets);
      const cut = Math.max(0, all.length - keep);
      tail = all.subarray(cut);
      done(null, cut > 0 ? all.subarray(0, cut) : undefined);
    },
    flush(done) {
      done(null, tail.length ? tail : undefined);
    },
  });
}
