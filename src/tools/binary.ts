/**
 * Binary and multipart request bodies: each binary field `x` arrives as base64 in `x`, as UTF-8 text in `x_text`
 * (where the schema offers it: file writes) or, where local files are allowed (stdio), as a path in `x_path`. Multipart bodies use bracket notation for nested values
 * (`files[0][dest_path]`), the convention of the Kernel SDKs' form encoding.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { FormData } from 'undici';
import { loadUndici } from '../kernel/client.js';
import { ArgumentError } from '../kernel/paths.js';

export { ArgumentError };

const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;
const MAX_LOCAL_FILE = 512 * 1024 * 1024;
/** Files of the process file systems, whatever link led there (`/proc/self/environ`, `/dev/fd/3` -> `/proc/...`). */
const PROCESS_FILES = /^\/(proc|sys)(\/|$)/;

export function decodeBase64(field: string, value: string): Buffer {
  const data = value.replace(/^data:[^,]*;base64,/, '').replace(/\s+/g, '');
  if (data.length % 4 === 1 || !BASE64.test(data)) {
    throw new ArgumentError(
      field,
      `not valid base64. Give the bytes base64-encoded, or ${field}_path with a local file.`,
    );
  }
  return Buffer.from(data, data.includes('-') || data.includes('_') ? 'base64url' : 'base64');
}

export interface BinaryValue {
  bytes: Buffer;
  filename: string;
}

/** Reads one binary slot of `holder` (an argument object or a nested item); `where` names it in errors. */
export async function readBinary(
  holder: Record<string, unknown>,
  field: string,
  where: string,
  localFiles: boolean,
): Promise<BinaryValue | undefined> {
  const b64 = holder[field];
  const path = holder[`${field}_path`];
  const text = holder[`${field}_text`];
  if (typeof b64 === 'string') return { bytes: decodeBase64(where, b64), filename: field };
  if (typeof text === 'string') return { bytes: Buffer.from(text, 'utf8'), filename: field };
  if (typeof path !== 'string') return undefined;
  if (!localFiles) {
    throw new ArgumentError(
      `${where}_path`,
      'local file paths are not read over HTTP. Send the content base64-encoded in ' + `${where} instead.`,
    );
  }
  let info: Awaited<ReturnType<typeof stat>>;
  let real: string;
  try {
    real = await realpath(path);
    info = await stat(real);
  } catch {
    throw new ArgumentError(`${where}_path`, `cannot read ${path}: no such file.`);
  }
  // /proc holds this process's environment (its API key) and command line: never sent anywhere.
  if (PROCESS_FILES.test(real)) {
    throw new ArgumentError(`${where}_path`, `${path} is a process file (/proc); kernel-mcp does not send those.`);
  }
  if (!info.isFile()) throw new ArgumentError(`${where}_path`, `${path} is not a file.`);
  if (info.size > MAX_LOCAL_FILE) throw new ArgumentError(`${where}_path`, `${path} is larger than 512 MiB.`);
  return { bytes: await readFile(real), filename: basename(path) };
}

function mediaTypeFor(field: string, filename: string): string {
  if (/zip/i.test(field) || filename.endsWith('.zip')) return 'application/zip';
  return 'application/octet-stream';
}

/**
 * Builds multipart form data from the body fields of the arguments. `binary` names the binary fields: top-level
 * (`file`) or nested in array items (`files.file`, `extensions.zip_file`).
 */
export async function buildForm(
  args: Record<string, unknown>,
  fields: string[],
  binary: string[],
  localFiles: boolean,
): Promise<FormData> {
  const { FormData } = await loadUndici();
  const form = new FormData();
  const add = async (key: string, value: unknown, top: string, where: string): Promise<void> => {
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) await add(`${key}[${i}]`, value[i], top, `${where}[${i}]`);
      return;
    }
    if (typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      const nested = new Set(binary.filter((b) => b.startsWith(`${top}.`)).map((b) => b.slice(top.length + 1)));
      for (const [k, v] of Object.entries(obj)) {
        if (nested.has(k) || (k.endsWith('_path') && nested.has(k.slice(0, -5)))) continue;
        await add(`${key}[${k}]`, v, top, `${where}.${k}`);
      }
      for (const k of nested) {
        const bin = await readBinary(obj, k, `${where}.${k}`, localFiles);
        if (bin)
          form.append(`${key}[${k}]`, new Blob([bin.bytes], { type: mediaTypeFor(k, bin.filename) }), bin.filename);
      }
      return;
    }
    form.append(key, String(value));
  };
  for (const field of fields) {
    if (binary.includes(field)) {
      const bin = await readBinary(args, field, field, localFiles);
      if (bin) form.append(field, new Blob([bin.bytes], { type: mediaTypeFor(field, bin.filename) }), bin.filename);
      continue;
    }
    await add(field, args[field], field, field);
  }
  return form;
}
