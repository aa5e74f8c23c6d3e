/**
 * Independent checkers for the binary formats the simulator answers with (written separately from the
 * simulator's encoders, with a bit-by-bit CRC-32, so they do not share its bugs).
 */
import { inflateRawSync, inflateSync } from 'node:zlib';

export function crc32Bitwise(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

export interface PngInfo {
  width: number;
  height: number;
  chunks: string[];
  pixel(x: number, y: number): [number, number, number];
}

/** Validates a PNG (signature, chunk CRCs, IHDR, zlib IDAT of the right size, IEND last); throws if invalid. */
export function inspectPng(buf: Buffer): PngInfo {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!buf.subarray(0, 8).equals(signature)) throw new Error('bad PNG signature');
  let pos = 8;
  const chunks: string[] = [];
  const idat: Buffer[] = [];
  let ihdr: Buffer | undefined;
  while (pos < buf.length) {
    const length = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + length);
    const crc = buf.readUInt32BE(pos + 8 + length);
    if (crc32Bitwise(buf.subarray(pos + 4, pos + 8 + length)) !== crc) throw new Error(`bad CRC in ${type}`);
    chunks.push(type);
    if (type === 'IHDR') ihdr = Buffer.from(data);
    if (type === 'IDAT') idat.push(Buffer.from(data));
    pos += 12 + length;
  }
  if (chunks[0] !== 'IHDR' || chunks[chunks.length - 1] !== 'IEND' || !ihdr) throw new Error('bad chunk order');
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const [bitDepth, colourType] = [ihdr[8], ihdr[9]];
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colourType as 0 | 2 | 4 | 6];
  if (bitDepth !== 8 || !channels) throw new Error(`unsupported PNG format depth=${bitDepth} colour=${colourType}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels + 1;
  if (raw.length !== stride * height) throw new Error(`IDAT holds ${raw.length} bytes, expected ${stride * height}`);
  for (let y = 0; y < height; y++) if ((raw[y * stride] ?? 255) > 4) throw new Error(`bad filter byte on row ${y}`);
  return {
    width,
    height,
    chunks,
    pixel(x, y) {
      if (raw[y * stride] !== 0) throw new Error('pixel() only decodes unfiltered rows');
      const i = y * stride + 1 + x * channels;
      return [raw[i] ?? 0, raw[i + 1] ?? 0, raw[i + 2] ?? 0];
    },
  };
}

/** Reads a ZIP through its central directory, checking sizes and CRCs; returns name -> contents. */
export function unzip(buf: Buffer): Map<string, Buffer> {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('no end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central directory entry');
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const csize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const skip = nameLen + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + skip;
    if (buf.readUInt32LE(local) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const payload = buf.subarray(start, start + csize);
    const data = method === 8 ? inflateRawSync(payload) : Buffer.from(payload);
    if (data.length !== size || crc32Bitwise(data) !== crc) throw new Error(`bad size/CRC for ${name}`);
    files.set(name, data);
  }
  return files;
}

/** Walks ISO BMFF boxes; checks the sizes tile the buffer exactly and returns the top-level box types. */
export function mp4Boxes(buf: Buffer): string[] {
  const types: string[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const size = buf.readUInt32BE(pos);
    if (size < 8 || pos + size > buf.length) throw new Error(`bad box size ${size} at ${pos}`);
    types.push(buf.toString('latin1', pos + 4, pos + 8));
    pos += size;
  }
  return types;
}
