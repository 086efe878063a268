import { SpeakersError } from "@speakers/events";

/**
 * How far a FLAC stream really goes, in samples: the end of the last frame in the bytes. The worker's decoder
 * reports a stream cut short (AUDIO_TRUNCATED); this finds the same at the edge without decoding, by walking
 * the metadata blocks and reading the header of the last frame (sync code, fields, CRC-8). A cut inside the
 * very last frame is not seen here; the worker still catches it.
 * Returns Infinity when it cannot tell (no frame header in the searched tail), so only a clear cut is refused.
 */
export function flacStreamEnd(buf: Buffer, firstBlock: number, maxBlockSize: number): number {
  let pos = firstBlock;
  for (;;) {
    if (pos + 4 > buf.length) throw truncated();
    const last = ((buf[pos] ?? 0) & 0x80) !== 0;
    pos += 4 + buf.readUIntBE(pos + 1, 3);
    if (pos > buf.length) throw truncated();
    if (last) break;
  }
  const framesStart = pos;
  if (framesStart >= buf.length) return 0;
  const floor = Math.max(framesStart, buf.length - SEARCH_BYTES);
  for (let at = buf.length - MIN_HEADER; at >= floor; at--) {
    if (buf[at] !== 0xff || ((buf[at + 1] ?? 0) & 0xfe) !== 0xf8) continue;
    const frame = frameHeader(buf, at, maxBlockSize);
    if (frame !== undefined) return frame.firstSample + frame.blockSize;
  }
  return Number.POSITIVE_INFINITY;
}

/** The largest possible frame (65535 samples x 8 channels x 32 bits) is under 2.1 MB. */
const SEARCH_BYTES = 4 * 1024 * 1024;
const MIN_HEADER = 6;

function truncated(): SpeakersError {
  return new SpeakersError("AUDIO_TRUNCATED", "The FLAC metadata ends before its header says it should.");
}

interface FrameHeader {
  firstSample: number;
  blockSize: number;
}

/** A frame header at `at`, if every field is legal and its CRC-8 matches; otherwise undefined. */
function frameHeader(buf: Buffer, at: number, maxBlockSize: number): FrameHeader | undefined {
  const variable = ((buf[at + 1] ?? 0) & 0x01) === 1;
  const b2 = buf[at + 2] ?? 0;
  const b3 = buf[at + 3] ?? 0;
  const blockCode = b2 >> 4;
  const rateCode = b2 & 0x0f;
  if (blockCode === 0 || rateCode === 15 || b3 >> 4 > 10 || ((b3 >> 1) & 0x07) === 3 || (b3 & 1) !== 0) {
    return undefined;
  }
  let p = at + 4;
  const lead = buf[p] ?? 0xff;
  const extra =
    lead < 0x80
      ? 0
      : lead < 0xc0
        ? -1
        : lead < 0xe0
          ? 1
          : lead < 0xf0
            ? 2
            : lead < 0xf8
              ? 3
              : lead < 0xfc
                ? 4
                : lead < 0xfe
                  ? 5
                  : lead === 0xfe
                    ? 6
                    : -1;
  if (extra < 0) return undefined;
  let number = extra === 0 ? lead : lead & (0x3f >> extra);
  for (let i = 1; i <= extra; i++) {
    const byte = buf[p + i];
    if (byte === undefined || (byte & 0xc0) !== 0x80) return undefined;
    number = number * 64 + (byte & 0x3f);
  }
  p += 1 + extra;
  let blockSize: number;
  if (blockCode === 1) blockSize = 192;
  else if (blockCode <= 5) blockSize = 576 << (blockCode - 2);
  else if (blockCode === 6) blockSize = (buf[p++] ?? 0) + 1;
  else if (blockCode === 7) {
    blockSize = ((buf[p] ?? 0) << 8) + (buf[p + 1] ?? 0) + 1;
    p += 2;
  } else blockSize = 256 << (blockCode - 8);
  if (rateCode === 12) p += 1;
  else if (rateCode === 13 || rateCode === 14) p += 2;
  if (p >= buf.length || crc8(buf, at, p) !== buf[p]) return undefined;
  if (maxBlockSize > 0 && blockSize > maxBlockSize) return undefined;
  return { firstSample: variable ? number : number * maxBlockSize, blockSize };
}

/** CRC-8, polynomial x^8 + x^2 + x + 1, as the FLAC frame header uses. */
function crc8(buf: Buffer, from: number, to: number): number {
  let crc = 0;
  for (let i = from; i < to; i++) {
    crc ^= buf[i] ?? 0;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}
