/** multipart/form-data parsing, including the array-of-objects field conventions SDKs use. */
import { badRequest } from './errors.js';

export interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

function boundaryOf(contentType: string | undefined): string {
  const ct = contentType ?? '';
  if (!/^multipart\/form-data/i.test(ct)) throw badRequest('Content-Type must be multipart/form-data');
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(ct);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw badRequest('multipart Content-Type has no boundary');
  return boundary;
}

function dispositionParam(header: string, key: string): string | undefined {
  const re = new RegExp(`(?:^|;)\\s*${key}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, 'i');
  const m = re.exec(header);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]?.trim();
}

export function parseMultipart(contentType: string | undefined, body: Buffer): Part[] {
  const boundary = boundaryOf(contentType);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw badRequest('malformed multipart body: boundary not found');
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString() === '--') break;
    // Skip the line break after the delimiter.
    if (body[pos] === 0x0d) pos++;
    if (body[pos] === 0x0a) pos++;
    let headerEnd = body.indexOf('\r\n\r\n', pos);
    let sepLen = 4;
    if (headerEnd < 0) {
      headerEnd = body.indexOf('\n\n', pos);
      sepLen = 2;
    }
    if (headerEnd < 0) throw badRequest('malformed multipart body: part headers not terminated');
    const headers = body.subarray(pos, headerEnd).toString('utf8').split(/\r?\n/);
    const dataStart = headerEnd + sepLen;
    const next = body.indexOf(delimiter, dataStart);
    if (next < 0) throw badRequest('malformed multipart body: missing closing boundary');
    let dataEnd = next;
    if (body[dataEnd - 1] === 0x0a) dataEnd--;
    if (body[dataEnd - 1] === 0x0d) dataEnd--;
    let name: string | undefined;
    let filename: string | undefined;
    let partType: string | undefined;
    for (const line of headers) {
      const idx = line.indexOf(':');
      if (idx < 0) continue;
      const key = line.slice(0, idx).trim().toLowerCase();
      const value = line.slice(idx + 1).trim();
      if (key === 'content-disposition') {
        name = dispositionParam(value, 'name');
        filename = dispositionParam(value, 'filename');
      } else if (key === 'content-type') partType = value;
    }
    if (name === undefined) throw badRequest('malformed multipart body: part without a name');
    parts.push({ name, filename, contentType: partType, data: body.subarray(dataStart, dataEnd) });
    pos = next;
  }
  return parts;
}

export const partText = (parts: readonly Part[], name: string): string | undefined =>
  parts.find((p) => p.name === name)?.data.toString('utf8');

export const partFile = (parts: readonly Part[], name: string): Part | undefined => parts.find((p) => p.name === name);

/**
 * Groups fields of an array of objects. Accepts `files[0][dest_path]`, `files[0].dest_path`, `files.0.dest_path`
 * and the index-less `files[][dest_path]` the Stainless SDKs send: there the n-th occurrence of a field belongs
 * to the n-th entry (robust to the SDK appending an entry's fields in any order).
 */
export function indexedParts(parts: readonly Part[], array: string): Array<Record<string, Part>> {
  const esc = array.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${esc}(?:\\[(\\d*)\\]|\\.(\\d+))(?:\\[([^\\]]+)\\]|\\.(.+))$`);
  const indexed = new Map<number, Record<string, Part>>();
  const sequential: Array<Record<string, Part>> = [];
  const seen = new Map<string, number>();
  for (const part of parts) {
    const m = re.exec(part.name);
    if (!m) continue;
    const key = m[3] ?? m[4] ?? '';
    const index = m[1] ?? m[2];
    if (index === undefined || index === '') {
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      sequential[n] ??= {};
      (sequential[n] as Record<string, Part>)[key] = part;
    } else {
      const i = Number(index);
      const entry = indexed.get(i) ?? {};
      entry[key] = part;
      indexed.set(i, entry);
    }
  }
  const ordered = [...indexed.entries()].sort(([a], [b]) => a - b).map(([, v]) => v);
  return [...ordered, ...sequential];
}

/** Reads a string map sent either as one JSON field (`env_vars={"A":"b"}`) or as `env_vars[A]=b` fields. */
export function mapField(parts: readonly Part[], name: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  let found = false;
  const whole = partText(parts, name);
  if (whole !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(whole);
    } catch {
      throw badRequest(`invalid multipart field: ${name} must be a JSON object of strings`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw badRequest(`invalid multipart field: ${name} must be a JSON object of strings`);
    }
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v !== 'string') throw badRequest(`invalid multipart field: ${name}.${k} must be a string`);
      out[k] = v;
    }
    found = true;
  }
  const prefix = `${name}[`;
  for (const part of parts) {
    if (part.name.startsWith(prefix) && part.name.endsWith(']')) {
      out[part.name.slice(prefix.length, -1)] = part.data.toString('utf8');
      found = true;
    }
  }
  return found ? out : undefined;
}
