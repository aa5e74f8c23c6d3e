/**
 * Request bodies, read once: bounded by size while they arrive, scanned for nesting depth before anything is parsed
 * into objects (a cheap byte scan: a few million nested arrays would otherwise hold the event loop for seconds),
 * then parsed once. The parsed value goes on to the SDK (`parsedBody`), which then reads nothing again.
 */
import type { IncomingMessage } from 'node:http';

/** Deeper JSON than this is refused before parsing: MCP messages and tool arguments are far shallower. */
export const MAX_JSON_DEPTH = 64;

/** True when the JSON text nests arrays/objects deeper than `max` (strings and escapes skipped). */
export function nestedDeeperThan(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (b === 0x22) inString = false;
      continue;
    }
    if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > max) return true;
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return false;
}

export type BodyResult = { ok: true; value: unknown } | { ok: false; status: number; code: number; message: string };

/** Reads a JSON request body up to `maxBytes`, refuses deep nesting, and parses it once. */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      return {
        ok: false,
        status: 413,
        code: -32000,
        message: `Payload Too Large: request body must not exceed ${maxBytes} bytes`,
      };
    }
    chunks.push(chunk);
  }
  const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  if (nestedDeeperThan(bytes, MAX_JSON_DEPTH)) {
    return {
      ok: false,
      status: 400,
      code: -32600,
      message: `Invalid Request: the body is nested deeper than ${MAX_JSON_DEPTH} levels`,
    };
  }
  try {
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) };
  } catch {
    return { ok: false, status: 400, code: -32700, message: 'Parse error: the body is not valid JSON' };
  }
}
