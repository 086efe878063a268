import { SpeakersError } from "@speakers/events";

/** The format of one utterance, as `audio-start` declares it. Only 16-bit PCM: what the worker decodes. */
export interface PcmFormat {
  rate: number;
  width: number;
  channels: number;
}

export const SUPPORTED = { rates: [8_000, 48_000], widths: [2], channels: [1, 2] } as const;

/** The format fields of an audio-start or audio-chunk, checked; AUDIO_UNSUPPORTED_FORMAT otherwise. */
export function pcmFormatOf(type: string, data: Record<string, unknown>): PcmFormat {
  const { rate, width, channels } = data;
  const ok =
    typeof rate === "number" &&
    Number.isInteger(rate) &&
    rate >= SUPPORTED.rates[0] &&
    rate <= SUPPORTED.rates[1] &&
    width === 2 &&
    (channels === 1 || channels === 2);
  if (!ok) {
    throw new SpeakersError(
      "AUDIO_UNSUPPORTED_FORMAT",
      `${type} declares rate ${JSON.stringify(rate)}, width ${JSON.stringify(width)}, channels ${JSON.stringify(channels)}; the bridge takes 16-bit PCM (width 2), 1 or 2 channels, 8000 to 48000 Hz.`,
      { details: { rate, width, channels } },
    );
  }
  return { rate, width, channels };
}

export function sameFormat(a: PcmFormat, b: PcmFormat): boolean {
  return a.rate === b.rate && a.width === b.width && a.channels === b.channels;
}

export function bytesToMs(bytes: number, format: PcmFormat): number {
  return (bytes / (format.width * format.channels * format.rate)) * 1000;
}

/** A WAV container around PCM, so every consumer of audio.captured (worker, unknown-voices) reads it as is. */
export function wav(pcm: Uint8Array, format: PcmFormat): Uint8Array {
  const header = Buffer.alloc(44);
  const blockAlign = format.width * format.channels;
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write("WAVE", 8, "ascii");
  header.write("fmt ", 12, "ascii");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(format.channels, 22);
  header.writeUInt32LE(format.rate, 24);
  header.writeUInt32LE(format.rate * blockAlign, 28);
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(format.width * 8, 34);
  header.write("data", 36, "ascii");
  header.writeUInt32LE(pcm.length, 40);
  const out = new Uint8Array(44 + pcm.length);
  out.set(header, 0);
  out.set(pcm, 44);
  return out;
}

/**
 * Counts speech in 20 ms frames by energy: a frame counts when its RMS is above -50 dBFS. Crude on purpose:
 * it only decides when an early guess is worth making; the worker does the real voice-activity work.
 */
export class SpeechMeter {
  private carry = Buffer.alloc(0);
  private voicedFrames = 0;
  private readonly frameBytes: number;

  constructor(
    format: PcmFormat,
    private readonly floor = 10 ** (-50 / 20),
  ) {
    this.frameBytes = Math.round(format.rate * 0.02) * format.width * format.channels;
  }

  get speechMs(): number {
    return this.voicedFrames * 20;
  }

  push(pcm: Uint8Array): void {
    let buf = this.carry.length === 0 ? Buffer.from(pcm) : Buffer.concat([this.carry, pcm]);
    while (buf.length >= this.frameBytes) {
      let sum = 0;
      const samples = this.frameBytes / 2;
      for (let i = 0; i < this.frameBytes; i += 2) {
        const s = buf.readInt16LE(i) / 32768;
        sum += s * s;
      }
      if (Math.sqrt(sum / samples) > this.floor) this.voicedFrames++;
      buf = buf.subarray(this.frameBytes);
    }
    this.carry = Buffer.from(buf);
  }
}
