import { readFileSync } from "node:fs";
import { sniffAudio } from "@speakers/audio-capture";
import { SpeakersError } from "@speakers/events";
import { devClips } from "@speakers/test-support";
import { describe, expect, it } from "vitest";
import { toneWav } from "./tone-wav.js";

async function codeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (err) {
    if (err instanceof SpeakersError) return err.code;
    throw err;
  }
  throw new Error("expected a SpeakersError");
}

describe("sniffAudio", () => {
  it("reads rate, channels and duration from every real FLAC in the dev set", async () => {
    const clips = devClips();
    expect(clips.length).toBeGreaterThan(100);
    for (const clip of clips) {
      const sniffed = await sniffAudio(readFileSync(clip.path), "audio/flac");
      expect(sniffed.format).toEqual({ encoding: "flac", sampleRate: clip.sampleRate, channels: 1 });
      expect(sniffed.contentType).toBe("audio/flac");
      expect(Math.abs((sniffed.durationMs ?? 0) - clip.durationS * 1000)).toBeLessThanOrEqual(1);
    }
  });

  it("sniffs when no type is declared and reads WAV headers", async () => {
    const [clip] = devClips();
    expect((await sniffAudio(readFileSync(clip?.path ?? ""), "")).format.encoding).toBe("flac");
    const wav = await sniffAudio(toneWav(2.5, 22_050, 2), "audio/x-wav");
    expect(wav).toEqual({
      format: { encoding: "wav", sampleRate: 22_050, channels: 2 },
      contentType: "audio/wav",
      durationMs: 2500,
    });
  });

  it("reads Opus-in-Ogg headers: channels, 48 kHz, duration from the last page's granule minus pre-skip", async () => {
    const page = (granule: number, packet: Buffer) => {
      const header = Buffer.alloc(27);
      header.write("OggS", 0, "latin1");
      header.writeUInt32LE(granule, 6);
      header[26] = 1; // one segment
      return Buffer.concat([header, Buffer.from([packet.length]), packet]);
    };
    const head = Buffer.alloc(19);
    head.write("OpusHead", 0, "latin1");
    head[8] = 1; // version
    head[9] = 2; // channels
    head.writeUInt16LE(312, 10); // pre-skip
    head.writeUInt32LE(16_000, 12); // input rate (informational)
    const ogg = Buffer.concat([
      page(0, head),
      page(0, Buffer.from("OpusTags")),
      page(312 + 96_000, Buffer.alloc(20)),
    ]);
    expect(await sniffAudio(ogg, "audio/ogg")).toEqual({
      format: { encoding: "ogg", sampleRate: 48_000, channels: 2 },
      contentType: "audio/ogg",
      durationMs: 2000,
    });
    expect(
      await codeOf(() => sniffAudio(page(0, Buffer.from("Speex   0123456789abcdef")), "audio/ogg")),
    ).toBe("AUDIO_UNSUPPORTED_FORMAT");
  });

  it("takes raw PCM only with a declared rate and whole frames", async () => {
    const pcm = Buffer.alloc(32_000);
    expect(await sniffAudio(pcm, "audio/L16;rate=16000;channels=1")).toEqual({
      format: { encoding: "pcm_s16le", sampleRate: 16_000, channels: 1 },
      contentType: "audio/L16;rate=16000;channels=1",
      durationMs: 1000,
    });
    expect(await codeOf(() => sniffAudio(pcm, "audio/L16"))).toBe("AUDIO_UNSUPPORTED_FORMAT");
    expect(await codeOf(() => sniffAudio(pcm.subarray(0, 31_999), "audio/L16;rate=16000"))).toBe(
      "AUDIO_TRUNCATED",
    );
  });

  it("refuses empty, unknown, mislabelled and cut-off audio with catalogue codes", async () => {
    const [clip] = devClips();
    const flac = readFileSync(clip?.path ?? "");
    expect(await codeOf(() => sniffAudio(new Uint8Array(0), "audio/wav"))).toBe("AUDIO_EMPTY");
    expect(await codeOf(() => sniffAudio(Buffer.from("ID3\x04\x00\x00\x00\x00\x00\x10mp3 frames"), ""))).toBe(
      "AUDIO_UNSUPPORTED_FORMAT",
    );
    // MP3 is supported now (issue 12): a media type that is not stays unsupported, a mislabelled FLAC is corrupt.
    expect(await codeOf(() => sniffAudio(flac, "audio/amr"))).toBe("AUDIO_UNSUPPORTED_FORMAT");
    expect(await codeOf(() => sniffAudio(flac, "audio/mpeg"))).toBe("AUDIO_CORRUPT");
    expect(await codeOf(() => sniffAudio(flac, "audio/wav"))).toBe("AUDIO_CORRUPT");
    expect(await codeOf(() => sniffAudio(Buffer.from("plain text, not audio"), "audio/flac"))).toBe(
      "AUDIO_CORRUPT",
    );
    expect(await codeOf(() => sniffAudio(toneWav(1).subarray(0, 20_000), "audio/wav"))).toBe(
      "AUDIO_TRUNCATED",
    );
    expect(await codeOf(() => sniffAudio(flac.subarray(0, 20), "audio/flac"))).toBe("AUDIO_TRUNCATED");
  });
});
