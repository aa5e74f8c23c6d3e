/**
 * multipart/form-data parsing with @fastify/busboy (the maintained busboy fork: no dependencies, its own types), plus
 * the array-of-objects field conventions SDKs use. Every part is read as bytes, in the order sent.
 */
import { Busboy } from '@fastify/busboy';
import { badRequest } from './errors.js';

export interface Part {
  name: string;
  filename?: string;
  data: Buffer;
}

/** Parses a whole multipart/form-data body; a malformed one is a 400. */
export function parseMultipart(contentType: string | undefined, body: Buffer): Promise<Part[]> {
  const type = contentType ?? '';
  if (!/^multipart\/form-data/i.test(type)) throw badRequest('Content-Type must be multipart/form-data');
  return new Promise((resolve, reject) => {
    const fail = (e: unknown) => reject(badRequest(`malformed multipart body: ${(e as Error).message ?? e}`));
    let parser: InstanceType<typeof Busboy>;
    try {
      parser = new Busboy({
        headers: { 'content-type': type },
        preservePath: true,
        isPartAFile: () => true,
        limits: { fieldNameSize: 64 * 1024, fileSize: body.length, fieldSize: body.length },
      });
    } catch (e) {
      fail(e);
      return;
    }
    const parts: Part[] = [];
    parser.on('file', (name, stream, filename) => {
      const part: Part = { name, data: Buffer.alloc(0), ...(filename === undefined ? {} : { filename }) };
      parts.push(part);
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        part.data = Buffer.concat(chunks);
      });
    });
    parser.on('finish', () => resolve(parts));
    parser.on('error', fail);
    parser.end(body);
  });
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
