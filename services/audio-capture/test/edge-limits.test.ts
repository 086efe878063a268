import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_LIMITS, publishAudio } from "@speakers/audio-capture";
import { AUDIO_LIMITS, isSpeakersError, type SpeakersError } from "@speakers/events";
import { devClips, useTestBus } from "@speakers/test-support";
import { describe, expect, it } from "vitest";
import { toneWav } from "./tone-wav.js";

/** A 16-bit mono WAV whose every sample is `value` (PCM), i.e. pure DC or, at 0, digital silence. */
function constantWav(seconds: number, value: number): Buffer {
  const wav = toneWav(seconds);
  for (let at = 44; at < wav.length; at += 2) wav.writeInt16LE(value, at);
  return wav;
}

/** Dev speech repeated with ffmpeg to `seconds` and encoded as FLAC: a real long recording. */
function longFlac(seconds: number): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "speakers-long-"));
  try {
    const out = join(dir, "long.flac");
    const [clip] = devClips();
    const args = ["-loglevel", "error", "-stream_loop", "-1", "-i", clip?.path ?? "", "-t", String(seconds)];
    execFileSync("/usr/bin/ffmpeg", [...args, "-c:a", "flac", out]);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Refuses with the worker's own codes what the worker would refuse (issue 9 item 7). */
describe("capture limits are the worker's limits", () => {
  const t = useTestBus("capture-edge-limits-test");

  async function refusal(bytes: Uint8Array, contentType = ""): Promise<SpeakersError> {
    try {
      await publishAudio(t.bus, { bytes, contentType, deviceId: "limits" });
    } catch (err) {
      if (isSpeakersError(err)) return err;
      throw err;
    }
    throw new Error("expected a refusal");
  }

  it("takes its defaults from the contract", () => {
    expect(DEFAULT_LIMITS).toMatchObject({
      maxDurationMs: AUDIO_LIMITS.maxDurationMs,
      minDurationMs: AUDIO_LIMITS.minDurationMs,
      maxBytes: AUDIO_LIMITS.maxBytes,
      silenceDbfs: AUDIO_LIMITS.silenceDbfs,
    });
  });

  it("refuses five minutes of speech with AUDIO_TOO_LONG and a hint that does not blame the worker", async () => {
    const err = await refusal(longFlac(300), "audio/flac");
    expect(err.code).toBe("AUDIO_TOO_LONG");
    expect(err.status).toBe(413);
    expect(err.message).toContain("at most 60 s");
    expect(err.hint).not.toMatch(/worker/i);
  });

  it("reports ten minutes of silence as AUDIO_SILENT, not AUDIO_TOO_LONG", async () => {
    expect((await refusal(constantWav(600, 0), "audio/wav")).code).toBe("AUDIO_SILENT");
  });

  it("treats a constant DC offset as silence", async () => {
    expect((await refusal(constantWav(3, 9000), "audio/wav")).code).toBe("AUDIO_SILENT");
    const pcm = constantWav(3, -12000).subarray(44);
    expect((await refusal(pcm, "audio/L16;rate=16000;channels=1")).code).toBe("AUDIO_SILENT");
  });

  it("refuses a clip shorter than the worker's minimum with AUDIO_TOO_SHORT", async () => {
    expect((await refusal(toneWav(0.5), "audio/wav")).code).toBe("AUDIO_TOO_SHORT");
  });

  it("refuses a truncated FLAC with AUDIO_TRUNCATED and takes one with an ID3 tag in front", async () => {
    const flac = readFileSync(devClips()[0]?.path ?? "");
    for (const fraction of [0.3, 0.6, 0.9]) {
      const cut = flac.subarray(0, Math.floor(flac.length * fraction));
      expect((await refusal(cut, "audio/flac")).code).toBe("AUDIO_TRUNCATED");
    }
    const body = Buffer.concat([Buffer.from("TIT2\x00\x00\x00\x09\x00\x00\x03kitchen", "latin1")]);
    const tag = Buffer.concat([Buffer.from([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, body.length]), body]);
    const published = await publishAudio(t.bus, {
      bytes: Buffer.concat([tag, flac]),
      contentType: "audio/flac",
      deviceId: "limits",
    });
    expect(published.event.format.encoding).toBe("flac");
  });
});
