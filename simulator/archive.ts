/** Binary formats the simulator answers with: ustar, zstd (raw blocks) and a minimal MP4 (ISO BMFF). */

export interface TarEntry {
  name: string;
  data: Buffer;
  mode?: number;
  mtime?: Date;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** A POSIX ustar archive (regular files only; parent directories are implied). */
export function tar(entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const header = Buffer.alloc(512);
    const name = Buffer.from(e.name, 'utf8');
    if (name.length > 100) throw new Error(`tar entry name too long: ${e.name}`);
    name.copy(header, 0);
    header.write(octal(e.mode ?? 0o644, 8), 100, 'latin1');
    header.write(octal(1000, 8), 108, 'latin1');
    header.write(octal(1000, 8), 116, 'latin1');
    header.write(octal(e.data.length, 12), 124, 'latin1');
    header.write(octal(Math.floor((e.mtime ?? new Date()).getTime() / 1000), 12), 136, 'latin1');
    header.write('        ', 148, 'latin1');
    header.write('0', 156, 'latin1');
    header.write('ustar\0', 257, 'latin1');
    header.write('00', 263, 'latin1');
    header.write('kernel', 265, 'latin1');
    header.write('kernel', 297, 'latin1');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    blocks.push(header, e.data, Buffer.alloc((512 - (e.data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

const ZSTD_MAX_BLOCK = 128 * 1024;

/** A valid single-segment zstd frame made of raw (stored) blocks: any zstd decoder restores `data`. */
export function zstdStored(data: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32LE(0xfd2fb528, 0);
  header[4] = 0xe0; // 8-byte Frame_Content_Size, Single_Segment, no checksum, no dictionary
  header.writeBigUInt64LE(BigInt(data.length), 5);
  const parts: Buffer[] = [header];
  let offset = 0;
  do {
    const size = Math.min(ZSTD_MAX_BLOCK, data.length - offset);
    const last = offset + size >= data.length ? 1 : 0;
    const blockHeader = Buffer.alloc(3);
    blockHeader.writeUIntLE((size << 3) | (0 << 1) | last, 0, 3);
    parts.push(blockHeader, data.subarray(offset, offset + size));
    offset += size;
  } while (offset < data.length);
  return Buffer.concat(parts);
}

function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length + 8, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

/**
 * A structurally valid MP4 container: `ftyp`, `moov` with an `mvhd` carrying the duration, and an `mdat`
 * payload. It carries no decodable video track (the simulator renders no video).
 */
export function mp4(durationMs: number, seed: number): Buffer {
  const ftyp = box('ftyp', Buffer.from('isom'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2mp41'));
  const mvhd = Buffer.alloc(100);
  mvhd.writeUInt32BE(0, 0); // version 0, flags 0
  const t = Math.floor(Date.now() / 1000) + 2082844800; // seconds since 1904
  mvhd.writeUInt32BE(t >>> 0, 4);
  mvhd.writeUInt32BE(t >>> 0, 8);
  mvhd.writeUInt32BE(1000, 12); // timescale: ms
  mvhd.writeUInt32BE(Math.max(0, Math.round(durationMs)) >>> 0, 16);
  mvhd.writeUInt32BE(0x00010000, 20); // rate 1.0
  mvhd.writeUInt16BE(0x0100, 24); // volume 1.0
  const matrix = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];
  matrix.forEach((v, i) => {
    mvhd.writeUInt32BE(v >>> 0, 36 + i * 4);
  });
  mvhd.writeUInt32BE(1, 96); // next track id
  const payload = Buffer.alloc(1024);
  for (let i = 0; i < payload.length; i++) payload[i] = (seed + i * 31) & 0xff;
  return Buffer.concat([ftyp, box('moov', box('mvhd', mvhd)), box('mdat', payload)]);
}
