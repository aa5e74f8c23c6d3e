/**
 * Text where text is meant: the Kernel API returns process output and stream chunks as base64 (`stdout_b64`,
 * `stderr_b64`, `data_b64`). An agent wants the text, so answers carry the decoded UTF-8 (`stdout`, `stderr`,
 * `data`) instead, and keep the base64 only where the bytes are not valid UTF-8 (with a note saying so).
 */

const B64_SUFFIX = '_b64';
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The UTF-8 text of base64 bytes, or undefined when they are not text (invalid UTF-8 or NUL bytes). */
export function decodeText(b64: string): string | undefined {
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.includes(0)) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
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
