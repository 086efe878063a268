import {
  AUDIO_CONTAINER_MEDIA_TYPES,
  AUDIO_MEDIA_TYPES,
  type AudioEncoding,
  type AudioFormat,
  SpeakersError,
} from "@speakers/events";
import { probeCompressed } from "./compressed.js";
import { flacStreamEnd } from "./flac-frames.js";

/** What the capture service learned from the bytes (and, for raw PCM, from the declared media type). */
export interface SniffedAudio {
  format: AudioFormat;
  /** The `ce-datacontenttype` to publish with. */
  contentType: string;
  /** When the header says it (WAV data size, FLAC total samples, Ogg last granule, PCM length, MP4/WebM/MP3). */
  durationMs?: number;
}

export type Container = Exclude<AudioEncoding, "pcm_s16le">;

/** The media type published for each container (the contract's table). */
export const CONTAINER_MEDIA_TYPES = AUDIO_CONTAINER_MEDIA_TYPES;

/** Media types that say nothing about the bytes, so the bytes decide. */
const UNTYPED = new Set(["", "application/octet-stream", "audio/*"]);

/**
 * Checks that `bytes` are audio the worker can decode and reads their format from the header. The declared
 * media type must agree with the bytes; raw PCM (`audio/L16;rate=…`) cannot be sniffed and must declare its rate.
 */
export async function sniffAudio(bytes: Uint8Array, declaredType = ""): Promise<SniffedAudio> {
  if (bytes.length === 0) throw new SpeakersError("AUDIO_EMPTY");
  const { mediaType, params } = parseMediaType(declaredType);
  if (mediaType === "audio/l16") return sniffPcm(bytes, params);

  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const detected = detectContainer(buf);
  const declared = AUDIO_MEDIA_TYPES[mediaType];
  if (declared === undefined && !UNTYPED.has(mediaType)) {
    throw new SpeakersError("AUDIO_UNSUPPORTED_FORMAT", `Media type ${mediaType} is not supported.`, {
      details: { contentType: declaredType },
    });
  }
  if (detected === undefined) {
    throw new SpeakersError(
      declared === undefined ? "AUDIO_UNSUPPORTED_FORMAT" : "AUDIO_CORRUPT",
      declared === undefined
        ? "The bytes are not WAV, FLAC, Ogg, MP3, WebM or MP4 audio."
        : `The bytes do not start like ${declared.toUpperCase()} audio.`,
      { details: { contentType: declaredType } },
    );
  }
  if (declared !== undefined && declared !== detected) {
    throw new SpeakersError(
      "AUDIO_CORRUPT",
      `Declared ${mediaType} but the bytes are ${detected.toUpperCase()}.`,
      {
        details: { contentType: declaredType, detected },
      },
    );
  }
  switch (detected) {
    case "wav":
      return sniffWav(buf);
    case "flac":
      return sniffFlac(buf);
    case "ogg":
      return sniffOgg(buf);
    default:
      return probeCompressed(buf, detected);
  }
}

export function parseMediaType(value: string): { mediaType: string; params: Map<string, string> } {
  const [type = "", ...rest] = value.split(";");
  const params = new Map<string, string>();
  for (const part of rest) {
    const eq = part.indexOf("=");
    if (eq > 0)
      params.set(
        part.slice(0, eq).trim().toLowerCase(),
        part
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, ""),
      );
  }
  return { mediaType: type.trim().toLowerCase(), params };
}

function detectContainer(buf: Buffer): Container | undefined {
  const head = buf.toString("latin1", 0, 12);
  if (head.startsWith("RIFF") && head.slice(8, 12) === "WAVE") return "wav";
  if (head.startsWith("OggS")) return "ogg";
  if (head.startsWith("\x1a\x45\xdf\xa3")) return "webm"; // EBML: WebM or Matroska
  if (head.slice(4, 8) === "ftyp") return "mp4";
  if (flacStart(buf) !== undefined) return "flac";
  return isMp3Frame(buf, afterId3(buf)) ? "mp3" : undefined;
}

/** Where the bytes after a leading ID3v2 tag begin (0 without one); its size is a 28-bit syncsafe integer. */
function afterId3(buf: Buffer): number {
  if (buf.toString("latin1", 0, 3) !== "ID3" || buf.length < 10) return 0;
  const size = ((buf[6] ?? 0) << 21) | ((buf[7] ?? 0) << 14) | ((buf[8] ?? 0) << 7) | (buf[9] ?? 0);
  return 10 + size + ((buf[5] ?? 0) & 0x10 ? 10 : 0); // the footer flag adds a 10-byte footer
}

/** Some taggers put an ID3v2 tag before `fLaC`. */
function flacStart(buf: Buffer): number | undefined {
  const offset = afterId3(buf);
  return buf.toString("latin1", offset, offset + 4) === "fLaC" ? offset : undefined;
}

/** An MPEG audio layer III frame header: 11 sync bits, a defined version, layer III, a legal bitrate and rate. */
function isMp3Frame(buf: Buffer, at: number): boolean {
  const b1 = buf[at + 1] ?? 0;
  const b2 = buf[at + 2] ?? 0;
  return (
    buf[at] === 0xff &&
    (b1 & 0xe0) === 0xe0 &&
    ((b1 >> 3) & 0x03) !== 1 &&
    ((b1 >> 1) & 0x03) === 1 &&
    b2 >> 4 !== 0x0f &&
    ((b2 >> 2) & 0x03) !== 3
  );
}

function truncated(what: string): SpeakersError {
  return new SpeakersError("AUDIO_TRUNCATED", `The ${what} ends before its header says it should.`);
}

function corrupt(message: string): SpeakersError {
  return new SpeakersError("AUDIO_CORRUPT", message);
}

function formatOf(encoding: AudioFormat["encoding"], sampleRate: number, channels: number): AudioFormat {
  // The event schema bounds these; a header outside them is not audio we can trust.
  if (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 384_000) {
    throw corrupt(`The header declares an impossible sample rate (${sampleRate} Hz).`);
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > 8) {
    throw new SpeakersError("AUDIO_UNSUPPORTED_FORMAT", `${channels} channels are not supported (1 to 8).`);
  }
  return { encoding, sampleRate, channels };
}

function ms(seconds: number): number {
  return Math.round(seconds * 1000);
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** Where a WAV file's samples are and how they are stored; shared by the sniffer and the level check. */
export interface WavLayout {
  format: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
  dataOffset: number;
  dataBytes: number;
}

export function wavLayout(buf: Buffer): WavLayout {
  let offset = 12;
  let fmt: Omit<WavLayout, "dataOffset" | "dataBytes"> | undefined;
  while (offset + 8 <= buf.length) {
    const id = buf.toString("latin1", offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === "fmt ") {
      if (size < 16 || body + 16 > buf.length) throw truncated("WAV fmt chunk");
      fmt = {
        format: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        blockAlign: buf.readUInt16LE(body + 12),
        bitsPerSample: buf.readUInt16LE(body + 14),
      };
      if (fmt.format === WAVE_FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= buf.length) {
        fmt.format = buf.readUInt16LE(body + 24);
      }
    } else if (id === "data") {
      if (fmt === undefined) throw corrupt("The WAV data chunk comes before its fmt chunk.");
      if (fmt.format !== WAVE_FORMAT_PCM && fmt.format !== WAVE_FORMAT_IEEE_FLOAT) {
        throw new SpeakersError(
          "AUDIO_UNSUPPORTED_FORMAT",
          `WAV codec 0x${fmt.format.toString(16)} is not PCM.`,
        );
      }
      if (fmt.blockAlign === 0) throw corrupt("The WAV header declares a block size of 0.");
      // Streaming writers leave the size at 0 or 0xFFFFFFFF; then the rest of the file is the data.
      const streaming = size === 0 || size === 0xffffffff;
      if (!streaming && body + size > buf.length) throw truncated("WAV data");
      return { ...fmt, dataOffset: body, dataBytes: streaming ? buf.length - body : size };
    }
    offset = body + size + (size % 2);
  }
  throw fmt === undefined ? truncated("WAV header") : truncated("WAV file (no data chunk)");
}

function sniffWav(buf: Buffer): SniffedAudio {
  const layout = wavLayout(buf);
  return {
    format: formatOf("wav", layout.sampleRate, layout.channels),
    contentType: "audio/wav",
    durationMs: ms(Math.floor(layout.dataBytes / layout.blockAlign) / layout.sampleRate),
  };
}

const FLAC_STREAMINFO = 0;

function sniffFlac(buf: Buffer): SniffedAudio {
  const start = flacStart(buf);
  if (start === undefined) throw corrupt("No fLaC marker after the ID3 tag.");
  const header = start + 4;
  if (header + 4 + 34 > buf.length) throw truncated("FLAC header");
  if (((buf[header] ?? 0) & 0x7f) !== FLAC_STREAMINFO)
    throw corrupt("The FLAC stream does not start with STREAMINFO.");
  const info = header + 4;
  // STREAMINFO bit layout: 16+16+24+24 bits of block/frame sizes, then rate(20) channels-1(3) bps-1(5) samples(36).
  const b10 = buf[info + 10] ?? 0;
  const b11 = buf[info + 11] ?? 0;
  const b12 = buf[info + 12] ?? 0;
  const b13 = buf[info + 13] ?? 0;
  const sampleRate = (b10 << 12) | (b11 << 4) | (b12 >> 4);
  const channels = ((b12 >> 1) & 0x07) + 1;
  const totalSamples = (b13 & 0x0f) * 2 ** 32 + buf.readUInt32BE(info + 14);
  const format = formatOf("flac", sampleRate, channels);
  if (totalSamples > 0) {
    const end = flacStreamEnd(buf, header, buf.readUInt16BE(info + 2));
    if (end < totalSamples) {
      throw new SpeakersError(
        "AUDIO_TRUNCATED",
        `The FLAC stream ends after ${end} of the ${totalSamples} samples its header announces.`,
        { details: { samplesPresent: end, samplesExpected: totalSamples } },
      );
    }
  }
  return {
    format,
    contentType: "audio/flac",
    // 0 total samples means "unknown" in FLAC, not an empty clip.
    ...(totalSamples > 0 ? { durationMs: ms(totalSamples / sampleRate) } : {}),
  };
}

function sniffOgg(buf: Buffer): SniffedAudio {
  if (buf.length < 27) throw truncated("Ogg page header");
  const segments = buf[26] ?? 0;
  const packet = 27 + segments;
  if (packet + 19 > buf.length) throw truncated("Ogg identification header");
  let sampleRate: number;
  let channels: number;
  let granuleRate: number;
  let preSkip = 0;
  if (buf.toString("latin1", packet, packet + 8) === "OpusHead") {
    channels = buf[packet + 9] ?? 0;
    preSkip = buf.readUInt16LE(packet + 10);
    // Opus always decodes at 48 kHz; the input rate in the header is informational.
    sampleRate = 48_000;
    granuleRate = 48_000;
  } else if (buf.toString("latin1", packet, packet + 7) === "\x01vorbis") {
    if (packet + 16 > buf.length) throw truncated("Vorbis identification header");
    channels = buf[packet + 11] ?? 0;
    sampleRate = buf.readUInt32LE(packet + 12);
    granuleRate = sampleRate;
  } else {
    throw new SpeakersError("AUDIO_UNSUPPORTED_FORMAT", "Only Opus and Vorbis are supported inside Ogg.");
  }
  const format = formatOf("ogg", sampleRate, channels);
  const granule = lastGranule(buf);
  return {
    format,
    contentType: "audio/ogg",
    ...(granule !== undefined && granule > preSkip
      ? { durationMs: ms((granule - preSkip) / granuleRate) }
      : {}),
  };
}

/** The granule position of the last page is the clip's length in samples; -1 means "no packet ends here". */
function lastGranule(buf: Buffer): number | undefined {
  const at = buf.lastIndexOf("OggS", buf.length - 27, "latin1");
  if (at < 0) return undefined;
  const low = buf.readUInt32LE(at + 6);
  const high = buf.readInt32LE(at + 10);
  if (high < 0) return undefined;
  return high * 2 ** 32 + low;
}

function sniffPcm(bytes: Uint8Array, params: Map<string, string>): SniffedAudio {
  const rate = Number(params.get("rate"));
  const channels = Number(params.get("channels") ?? "1");
  if (!params.has("rate") || !Number.isInteger(rate)) {
    throw new SpeakersError(
      "AUDIO_UNSUPPORTED_FORMAT",
      "Raw PCM needs its rate: audio/L16;rate=16000;channels=1.",
    );
  }
  const format = formatOf("pcm_s16le", rate, channels);
  const frame = 2 * channels;
  if (bytes.length % frame !== 0) {
    throw new SpeakersError(
      "AUDIO_TRUNCATED",
      `Raw PCM length ${bytes.length} is not a whole number of ${frame}-byte frames.`,
    );
  }
  return {
    format,
    contentType: `audio/L16;rate=${rate};channels=${channels}`,
    durationMs: ms(bytes.length / frame / rate),
  };
}
