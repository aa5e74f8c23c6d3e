/**
 * Text where text is meant: the Kernel API returns process output and stream chunks as base64 (`stdout_b64`,
 * `stderr_b64`, `data_b64`). An agent wants the text, so answers carry the decoded UTF-8 (`stdout`, `stderr`,
 * `data`) instead, and keep the base64 only where the bytes are not valid UTF-8 (with a note saying so).
 */

import { isAscii, isUtf8 } from 'node:buffer';

const B64_SUFFIX = '_b64';

/**
 * The UTF-8 text of bytes (a leading byte-order mark dropped), or undefined when they are not text (invalid UTF-8 or
 * NUL bytes). Checked and decoded by Node's native validators rather than a fatal TextDecoder: an answer of 1 MiB
 * costs about half (ASCII, the usual case, becomes a one-byte string by a plain copy).
 */
export function utf8Text(bytes: Uint8Array): string | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // ASCII is valid UTF-8: one check instead of two.
  const ascii = isAscii(buf);
  if ((!ascii && !isUtf8(buf)) || buf.includes(0)) return undefined;
  if (ascii) return buf.toString('latin1');
  const bom = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  return buf.toString('utf8', bom);
}

/** The UTF-8 text of base64 bytes, or undefined when they are not text (invalid UTF-8 or NUL bytes). */
export function decodeText(b64: string): string | undefined {
  return utf8Text(Buffer.from(b64, 'base64'));
}

/**
 * Replaces every `x_b64` string field of a JSON value (recursively) with `x`, the decoded text, in the field's place;
 * a field whose bytes are not UTF-8 stays base64 and gets an `x_note`. Copy on write: what holds no such field is
 * returned as it is (most answers have none, and copying a large one cost more than parsing it).
 */
export function decodeB64Fields(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      const d = decodeB64Fields(v);
      if (d === v) continue;
      out ??= value.slice();
      out[i] = d;
    }
    return out ?? value;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  let out: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = obj[k];
    if (k.endsWith(B64_SUFFIX) && k.length > B64_SUFFIX.length && typeof v === 'string') {
      out ??= copyKeys(obj, keys, i);
      const name = k.slice(0, -B64_SUFFIX.length);
      const text = decodeText(v);
      if (text !== undefined) setOwn(out, name, text);
      else {
        setOwn(out, k, v);
        setOwn(out, `${name}_note`, 'not valid UTF-8 text: kept as base64');
      }
      continue;
    }
    const d = decodeB64Fields(v);
    if (out) setOwn(out, k, d);
    else if (d !== v) {
      out = copyKeys(obj, keys, i);
      setOwn(out, k, d);
    }
  }
  return out ?? obj;
}

/** A new object with the first `count` of `keys` copied from `from`, in order. */
function copyKeys(from: Record<string, unknown>, keys: string[], count: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) setOwn(out, keys[i]!, from[keys[i]!]);
  return out;
}

/** Sets an own data property, `__proto__` included (JSON.parse makes it an own key; assigning it would not). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * Whether a JSON answer's text can hold an `x_b64` field: most hold none, and a text search costs far less than
 * walking the parsed value. (A key is only missed if its producer escaped `_b64` as `\u005fb64` and the like, which
 * no JSON encoder does.)
 */
export function mayHoldB64Fields(jsonText: string): boolean {
  return jsonText.includes(B64_SUFFIX);
}

/**
 * A process exec answer an agent reads at a glance: `status` first (`ok`, or `failed: exit code N` with the first
 * line of stderr), then the decoded output.
 */
export function execView(data: Record<string, unknown>): Record<string, unknown> {
  const decoded = decodeB64Fields(data) as Record<string, unknown>;
  const code = decoded.exit_code;
  if (typeof code !== 'number') return decoded;
  const firstErr = typeof decoded.stderr === 'string' ? decoded.stderr.trim().split('\n')[0] : undefined;
  const status = code === 0 ? 'ok' : `failed: exit code ${code}${firstErr ? ` (${firstErr})` : ''}`;
  return { status, ...decoded };
}
