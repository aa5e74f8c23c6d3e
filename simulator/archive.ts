/**
 * Binary formats the simulator answers with: tar (nanotar), zstd and a minimal MP4 (ISO BMFF), both by hand: Node 20's
 * zlib has no zstd (22.15 has), npm's zstd compressors are native addons or a large wasm build, and a frame of raw
 * blocks is a few lines; MP4 libraries (mp4box) are parsers hundreds of KB large for a three-box container.
 */
import { createTar } from 'nanotar';

export interface TarEntry {
  name: string;
  data: Buffer;
  mode?: number;
  mtime?: Date;
}

/** A POSIX ustar archive (regular files only; parent directories are implied). */
export function tar(entries: readonly TarEntry[]): Buffer {
  const archive = createTar(
    entries.map((e) => ({
      name: e.name,
      data: e.data,
      attrs: {
        mode: (e.mode ?? 0o644).toString(8),
        mtime: (e.mtime ?? new Date()).getTime(),
        user: 'kernel',
        group: 'kernel',
      },
    })),
  );
  return Buffer.from(archive.buffer, archive.byteOffset, archive.length);
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
