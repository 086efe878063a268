import { parseMediaType, wavLayout } from "./sniff.js";

/**
 * The level of uncompressed audio (PCM WAV or raw L16) in dBFS, as the worker measures it: the RMS of the
 * mono mix after removing its DC offset. Undefined for compressed formats, whose level needs a decoder.
 */
export function pcmLevelDbfs(bytes: Uint8Array, contentType: string): number | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { mediaType, params } = parseMediaType(contentType);
  if (mediaType === "audio/l16") {
    const channels = Number(params.get("channels") ?? "1");
    return level(buf, 0, buf.length, channels, 16, false);
  }
  if (contentType !== "audio/wav") return undefined;
  const wav = wavLayout(buf);
  const float = wav.format === 3;
  if (![8, 16, 24, 32].includes(wav.bitsPerSample) && !(float && wav.bitsPerSample === 64)) return undefined;
  if (wav.blockAlign !== (wav.bitsPerSample / 8) * wav.channels) return undefined;
  return level(buf, wav.dataOffset, wav.dataBytes, wav.channels, wav.bitsPerSample, float);
}

function level(buf: Buffer, offset: number, length: number, channels: number, bits: number, float: boolean) {
  const width = bits / 8;
  const frame = width * channels;
  const frames = Math.floor(Math.min(length, buf.length - offset) / frame);
  if (frames === 0) return Number.NEGATIVE_INFINITY;
  const read = sampleReader(buf, bits, float);
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < frames; i++) {
    let mix = 0;
    for (let c = 0; c < channels; c++) mix += read(offset + i * frame + c * width);
    mix /= channels;
    sum += mix;
    sumSquares += mix * mix;
  }
  const mean = sum / frames;
  const variance = Math.max(0, sumSquares / frames - mean * mean);
  return variance > 0 ? 10 * Math.log10(variance) : Number.NEGATIVE_INFINITY;
}

function sampleReader(buf: Buffer, bits: number, float: boolean): (at: number) => number {
  if (float) return bits === 64 ? (at) => buf.readDoubleLE(at) : (at) => buf.readFloatLE(at);
  switch (bits) {
    case 8:
      return (at) => ((buf[at] ?? 128) - 128) / 128;
    case 16:
      return (at) => buf.readInt16LE(at) / 32768;
    case 24:
      return (at) => buf.readIntLE(at, 3) / 8388608;
    default:
      return (at) => buf.readInt32LE(at) / 2147483648;
  }
}
