/**
 * Secrets the process knows (API keys, HTTP tokens, write-only passwords) are registered here, and every log line,
 * error message and tool result text passes through `redact` before it leaves the process.
 */
const secrets = new Set<string>();

/** Registers a secret; values shorter than 6 characters are not worth a global replace and would mangle text. */
export function addSecret(value: string | undefined | null): void {
  if (typeof value === 'string' && value.length >= 6) secrets.add(value);
}

export function removeSecret(value: string): void {
  secrets.delete(value);
}

export function redact(text: string): string {
  if (secrets.size === 0 || !text) return text;
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('[redacted]');
  }
  // Bearer tokens in echoed headers, whatever they are.
  return out.replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]{6,}/g, '$1[redacted]');
}

/** Deep-redacts string values of a JSON-like value. */
export function redactValue<T>(value: T): T {
  if (secrets.size === 0) return value;
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactValue(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactValue(v);
    return out as T;
  }
  return value;
}
