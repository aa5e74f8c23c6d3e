/** ZIP archives read and written with fflate (stored and deflate entries; no zip64, no encryption). */
import { unzipSync, type Zippable, zipSync } from 'fflate';

export interface ZipEntry {
  /** Path inside the archive, `/`-separated; directories end with `/`. */
  name: string;
  data: Buffer;
  isDir: boolean;
  mtime?: Date;
}

export class ZipError extends Error {}

/** Builds a ZIP archive with Unix modes (0644 files, 0755 directories); files are deflated. */
export function writeZip(entries: readonly ZipEntry[]): Buffer {
  const files: Zippable = {};
  for (const entry of entries) {
    const name = entry.isDir && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
    const mode = entry.isDir ? 0o40755 : 0o100644;
    files[name] = [
      entry.isDir ? new Uint8Array(0) : entry.data,
      { mtime: entry.mtime ?? new Date(), os: 3, attrs: mode * 0x10000, level: entry.isDir ? 0 : 6 },
    ];
  }
  return Buffer.from(zipSync(files));
}

/** Reads a ZIP archive, entries in archive order. Throws ZipError on anything malformed. */
export function readZip(buf: Buffer): ZipEntry[] {
  const order: string[] = [];
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(buf, {
      filter: (f) => {
        order.push(f.name);
        return true;
      },
    });
  } catch (e) {
    throw new ZipError(`not a valid zip archive (${(e as Error).message})`);
  }
  return order.map((name) => {
    const data = files[name] ?? new Uint8Array(0);
    return { name, data: Buffer.from(data.buffer, data.byteOffset, data.length), isDir: name.endsWith('/') };
  });
}
