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
  if (!isUtf8(bytes) || bytes.includes(0)) return undefined;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isAscii(buf)) return buf.toString('latin1');
  const bom = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  return buf.toString('utf8', bom);
}

/** The UTF-8 text of base64 bytes, or undefined when they are not text (invalid UTF-8 or NUL bytes). */
export function decodeText(b64: string): string | undefined {
  return utf8Text(Buffer.from(b64, 'base64'));
}

/**
 * Replaces every `x_b64` string field of a JSON value (recursively) with `x`, the decoded text; a field whose bytes
 * are not UTF-8 stays base64 and gets an `x_note`. Returns the value unchanged when it has no such field.
 */
export function decodeB64Fields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeB64Fields);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.endsWith(B64_SUFFIX) && k.length > B64_SUFFIX.length && typeof v === 'string') {
      const name = k.slice(0, -B64_SUFFIX.length);
      const text = decodeText(v);
      if (text !== undefined) out[name] = text;
      else {
        out[k] = v;
        out[`${name}_note`] = 'not valid UTF-8 text: kept as base64';
      }
      continue;
    }
    out[k] = decodeB64Fields(v);
  }
  return out;
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
